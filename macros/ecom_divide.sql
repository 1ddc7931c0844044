{#-
    `numerator / denominator` rounded to `scale` decimals, half away from zero, as
    decimal(`precision`, `scale`); null when the denominator is 0 or null. Exact on every
    engine: DuckDB divides decimals in double precision (9.995 became 9.99 there and 10.00 on
    PostgreSQL), so the quotient is computed in integers instead: with N the numerator in units
    of 10^-scale (its own scale must not exceed `scale`) and d the denominator,
    round(N / d) = sign(N) * ((2|N| + d) div 2d).
-#}
{% macro ecom_divide(numerator, denominator, scale, precision=18) -%}
    {%- set units = 'cast((' ~ numerator ~ ') * 1' ~ '0' * scale ~ ' as bigint)' -%}
    {%- set d = 'nullif(cast(' ~ denominator ~ ' as bigint), 0)' -%}
    cast(
        cast(
            case when {{ units }} < 0 then -1 else 1 end
            * {{ ecom_integer_divide('2 * abs(' ~ units ~ ') + ' ~ d, '2 * ' ~ d) }}
            as decimal(18, 0)
        ){% if scale > 0 %} * {{ '0.' ~ '0' * (scale - 1) ~ '1' }}{% endif %}
        as decimal({{ precision }}, {{ scale }})
    )
{%- endmacro %}

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
