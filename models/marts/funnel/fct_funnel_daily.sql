{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert_days',
        day_column='session_date',
        on_schema_change='fail',
        dist='even',
        sort=['session_date'],
    )
}}

{#-
    The view -> cart -> purchase funnel per day of session start, in any order and in strict
    order, with cart abandonment. Every day between the first and the last session has a row.
    An incremental run rebuilds the days of the run's limits (int_run_limits: the days of the
    arrived events, the start days of their sessions as already built, the lookback window),
    whatever the lateness (strategy delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

with

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

days as (

    {{ ecom_date_spine(
        '(select min(session_date) from ' ~ ref('fct_sessions') ~ ')',
        '(select max(session_date) from ' ~ ref('fct_sessions') ~ ')'
    ) }}

),

{% if is_incremental() %}

days_to_build as (

    select days.date_day
    from days
    where days.date_day in {{ ecom_rebuild_days() }}

),

{% else %}

days_to_build as (

    select date_day from days

),

{% endif %}

sessions_per_day as (

    select
        session_date,
        count(*) as sessions,
        sum(case when has_view then 1 else 0 end) as sessions_with_view,
        sum(case when has_cart then 1 else 0 end) as sessions_with_cart,
        sum(case when is_converted then 1 else 0 end) as sessions_with_purchase,
        sum(case when is_strict_view_to_cart then 1 else 0 end) as strict_sessions_with_cart,
        sum(case when is_strict_view_to_cart_to_purchase then 1 else 0 end)
            as strict_sessions_with_purchase,
        sum(case when is_cart_abandoned then 1 else 0 end) as sessions_with_abandoned_cart
    from fct_sessions
    where session_date >= (select min(days_to_build.date_day) from days_to_build)
    group by session_date

),

counts as (

    select
        days_to_build.date_day as session_date,
        cast(coalesce(sessions_per_day.sessions, 0) as bigint) as sessions,
        cast(coalesce(sessions_per_day.sessions_with_view, 0) as bigint) as sessions_with_view,
        cast(coalesce(sessions_per_day.sessions_with_cart, 0) as bigint) as sessions_with_cart,
        cast(coalesce(sessions_per_day.sessions_with_purchase, 0) as bigint) as sessions_with_purchase,
        cast(coalesce(sessions_per_day.strict_sessions_with_cart, 0) as bigint) as strict_sessions_with_cart,
        cast(coalesce(sessions_per_day.strict_sessions_with_purchase, 0) as bigint)
            as strict_sessions_with_purchase,
        cast(coalesce(sessions_per_day.sessions_with_abandoned_cart, 0) as bigint)
            as sessions_with_abandoned_cart
    from days_to_build
    left join sessions_per_day
        on days_to_build.date_day = sessions_per_day.session_date

),

final as (

    select
        counts.*,
        {{ ecom_funnel_rates(strict_conversion=true) }}
    from counts

)

select * from final
