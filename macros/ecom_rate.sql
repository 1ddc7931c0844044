{#- A ratio of two counts as decimal(`scale` + 4, `scale`) (decimal(10, 6) unless told), null
    when the denominator is zero; rounded half away from zero exactly on every engine
    (ecom_divide). -#}
{% macro ecom_rate(numerator, denominator, scale=6) -%}
    {{ ecom_divide(numerator, denominator, scale, precision=scale + 4) }}
{%- endmacro %}
