{#- Aggregate: the last non-null `value` when rows are ordered by `order_by` (ties: the
    largest value), cast to `data_type`. See ecom_pick_by. -#}
{% macro ecom_last_by(value, order_by, data_type) -%}
    {{ ecom_pick_by('max', value, order_by, data_type) }}
{%- endmacro %}
