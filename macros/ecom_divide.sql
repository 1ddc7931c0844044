{#-
    `numerator / denominator` rounded to `scale` decimals, half away from zero, as
    decimal(`precision`, `scale`); null when the denominator is 0 or null. Exact on every
    engine: DuckDB divides decimals in double precision (9.995 became 9.99 there and 10.00 on
    PostgreSQL), so the quotient is computed in integers instead: with N the numerator in units
    of 10^-scale (its own scale must not exceed `scale`) and d the denominator,
    round(N / d) = sign(N) * ((2|N| + d) div 2d).
    The denominator must be an integer count (orders, units, customers): it is cast to bigint,
    so a fractional one would be truncated silently. A literal that is obviously not an
    integer (a float such as 2.5, or SQL text such as '0.5' or '1e3') is refused at compile
    time; any other expression is the caller's care.
-#}
{% macro ecom_divide(numerator, denominator, scale, precision=18) -%}
    {%- if denominator is float
        or modules.re.fullmatch('[-+]?([0-9]*[.][0-9]*|[0-9]+([.][0-9]*)?[eE][-+]?[0-9]+)', denominator | string | trim) -%}
        {{ exceptions.raise_compiler_error(
            'ecom_divide: the denominator ' ~ denominator ~ ' is not an integer; it is cast to'
            ~ ' bigint, so divide by an integer count'
        ) }}
    {%- endif -%}
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
