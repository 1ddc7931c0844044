{#- Integer division of two integer expressions, truncated toward zero. -#}
{% macro ecom_integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('ecom_integer_divide', 'ecom')(numerator, denominator)) }}
{%- endmacro %}

{#- PostgreSQL and Redshift: `/` of two integers is integer division. -#}
{% macro default__ecom_integer_divide(numerator, denominator) -%}
    ({{ numerator }}) / ({{ denominator }})
{%- endmacro %}

{#- DuckDB: `/` of two integers gives a double; `//` divides integers. -#}
{% macro duckdb__ecom_integer_divide(numerator, denominator) -%}
    ({{ numerator }}) // ({{ denominator }})
{%- endmacro %}
