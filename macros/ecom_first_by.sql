{#-
    Aggregate: the first non-null `value` when rows are ordered by `order_by` (ties: the
    smallest value), cast to `data_type`. dbt Core has no arg_min; DuckDB has ordered structs,
    Redshift gets the classic "min over a sortable string" trick.
-#}
{% macro ecom_first_by(value, order_by, data_type) -%}
    {{ return(adapter.dispatch('ecom_first_by', 'ecom')(value, order_by, data_type)) }}
{%- endmacro %}

{% macro default__ecom_first_by(value, order_by, data_type) -%}
    cast(
        substring(
            min(
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

{% macro duckdb__ecom_first_by(value, order_by, data_type) -%}
    cast(
        min(
            case
                when {{ value }} is not null
                    then struct_pack(o := {{ order_by }}, v := {{ value }})
            end
        ).v as {{ data_type }}
    )
{%- endmacro %}
