{#-
    Aggregate: the non-null `value` of the row that comes first (`aggregate` = 'min') or last
    ('max') when rows are ordered by `order_by`, ties broken by the value itself the same way,
    cast to `data_type`. dbt Core has no arg_min/arg_max; DuckDB has ordered structs, Redshift
    gets the classic "min/max over a sortable string" trick. Used through ecom_first_by and
    ecom_last_by.
-#}
{% macro ecom_pick_by(aggregate, value, order_by, data_type) -%}
    {{ return(adapter.dispatch('ecom_pick_by', 'ecom')(aggregate, value, order_by, data_type)) }}
{%- endmacro %}

{% macro default__ecom_pick_by(aggregate, value, order_by, data_type) -%}
    cast(
        substring(
            {{ aggregate }}(
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

{% macro duckdb__ecom_pick_by(aggregate, value, order_by, data_type) -%}
    cast(
        {{ aggregate }}(
            case
                when {{ value }} is not null
                    then struct_pack(o := {{ order_by }}, v := {{ value }})
            end
        ).v as {{ data_type }}
    )
{%- endmacro %}
