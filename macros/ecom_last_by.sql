{#-
    Aggregate: the last non-null `value` when rows are ordered by `order_by` (ties: the
    largest value), cast to `data_type`. See ecom_first_by.
-#}
{% macro ecom_last_by(value, order_by, data_type) -%}
    {{ return(adapter.dispatch('ecom_last_by', 'ecom')(value, order_by, data_type)) }}
{%- endmacro %}

{% macro default__ecom_last_by(value, order_by, data_type) -%}
    cast(
        substring(
            max(
                case
                    when {{ value }} is not null
                        then
                            to_char({{ order_by }}, 'YYYYMMDDHH24MISSUS')
                            || cast({{ value }} as varchar)
                end
            ),
            21
        ) as {{ data_type }}
    )
{%- endmacro %}

{% macro duckdb__ecom_last_by(value, order_by, data_type) -%}
    cast(
        max(
            case
                when {{ value }} is not null
                    then struct_pack(o := {{ order_by }}, v := {{ value }})
            end
        ).v as {{ data_type }}
    )
{%- endmacro %}
