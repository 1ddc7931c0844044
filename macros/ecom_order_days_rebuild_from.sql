{#- Scalar: the first day to rebuild of a mart dated by order. The scheme: ecom_last_built_day. -#}
{% macro ecom_order_days_rebuild_from(date_column) -%}
    {%- set lookback_start = ecom_lookback_start(date_column, extra_days=1) -%}
    cast(
        least(
            {{ lookback_start }},
            coalesce(
                (
                    select min(fct_orders.order_date)
                    from {{ ref('fct_orders') }} as fct_orders
                    inner join {{ ref('fct_sessions') }} as fct_sessions
                        on fct_orders.session_id = fct_sessions.session_id
                    where fct_sessions.session_ended_at >= {{ lookback_start }}
                ),
                {{ lookback_start }}
            )
        ) as date
    )
{%- endmacro %}
