{#-
    The funnel over every day of fct_funnel_daily, one row: the daily counts summed, and the
    rates of those sums by the same macro as every funnel mart (ecom_funnel_rates). The
    reconciliation report, `ecom run`'s summary and the dashboard's unfiltered headline read
    these columns instead of dividing the counts themselves. Nine decimals: rounded to four (the
    report) or to a hundredth of a percent (the dashboard), a rate is then what dividing the
    counts gives (six decimals differed in the last digit for about 1 pair of counts in 220).
-#}

with

fct_funnel_daily as (

    select * from {{ ref('fct_funnel_daily') }}

),

counts as (

    select
        cast(coalesce(sum(sessions), 0) as bigint) as sessions,
        cast(coalesce(sum(sessions_with_view), 0) as bigint) as sessions_with_view,
        cast(coalesce(sum(sessions_with_cart), 0) as bigint) as sessions_with_cart,
        cast(coalesce(sum(sessions_with_purchase), 0) as bigint) as sessions_with_purchase,
        cast(coalesce(sum(strict_sessions_with_cart), 0) as bigint) as strict_sessions_with_cart,
        cast(coalesce(sum(strict_sessions_with_purchase), 0) as bigint)
            as strict_sessions_with_purchase,
        cast(coalesce(sum(sessions_with_abandoned_cart), 0) as bigint)
            as sessions_with_abandoned_cart
    from fct_funnel_daily

),

period as (

    select
        min(session_date) as first_session_date,
        max(session_date) as last_session_date
    from fct_funnel_daily

),

final as (

    select
        counts.*,
        {{ ecom_funnel_rates(strict_conversion=true, scale=9) }},
        period.first_session_date,
        period.last_session_date
    from counts
    cross join period

)

select * from final
