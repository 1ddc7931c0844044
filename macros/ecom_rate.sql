{#- A ratio of two counts as decimal(10, 6), null when the denominator is zero; rounded
    half away from zero exactly on every engine (ecom_divide). -#}
{% macro ecom_rate(numerator, denominator) -%}
    {{ ecom_divide(numerator, denominator, 6, precision=10) }}
{%- endmacro %}
