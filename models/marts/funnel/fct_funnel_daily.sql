{{
    config(
        materialized='incremental',
        unique_key='session_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        dist='even',
        sort=['session_date'],
    )
}}

{#-
    The view -> cart -> purchase funnel per day of session start, in any order and in strict
    order, with cart abandonment. Every day between the first and the last session has a row.
    An incremental run rebuilds the days from the lookback window on, and the start day of
    every session that changed.
-#}

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

rebuild_window as (

    select min(session_date) as first_day
    from fct_sessions
    where session_ended_at >= {{ ecom_lookback_start('session_date', extra_days=1) }}

),

days_to_build as (

    select days.date_day
    from days
    where
        days.date_day >= {{ ecom_lookback_start('session_date', extra_days=1) }}
        or days.date_day >= (select rebuild_window.first_day from rebuild_window)

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
        session_date,
        sessions,
        sessions_with_view,
        sessions_with_cart,
        sessions_with_purchase,
        strict_sessions_with_cart,
        strict_sessions_with_purchase,
        sessions_with_abandoned_cart,
        {{ ecom_funnel_rates(strict_conversion=true) }}
    from counts

)

select * from final
