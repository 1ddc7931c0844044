{#- A ratio as decimal(10, 6), null when the denominator is zero. Same SQL on every adapter. -#}
{% macro ecom_rate(numerator, denominator) -%}
    cast(
        round(cast({{ numerator }} as decimal(18, 6)) / nullif({{ denominator }}, 0), 6)
        as decimal(10, 6)
    )
{%- endmacro %}
