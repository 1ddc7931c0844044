{#- Scalar: the first day to rebuild of a mart dated by session start. The scheme: ecom_last_built_day. -#}
{% macro ecom_session_days_rebuild_from(date_column) -%}
    {%- set lookback_start = ecom_lookback_start(date_column, extra_days=1) -%}
    cast(
        least(
            {{ lookback_start }},
            coalesce(
                (
                    select min(session_date)
                    from {{ ref('fct_sessions') }}
                    where session_ended_at >= {{ lookback_start }}
                ),
                {{ lookback_start }}
            )
        ) as date
    )
{%- endmacro %}
