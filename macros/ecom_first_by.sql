{#- Aggregate: the first non-null `value` when rows are ordered by `order_by` (ties: the
    smallest value), cast to `data_type`. See ecom_pick_by. -#}
{% macro ecom_first_by(value, order_by, data_type) -%}
    {{ ecom_pick_by('min', value, order_by, data_type) }}
{%- endmacro %}
