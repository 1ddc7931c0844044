{{ config(dist='user_id', sort=['user_id']) }}

{#- One row per user seen in the events: activity, orders, acquisition cohort and RFM segment. -#}

with

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

activity as (

    select
        user_id,
        count(*) as session_count,
        sum(event_count) as event_count,
        min(session_started_at) as first_seen_at,
        max(session_ended_at) as last_seen_at
    from fct_sessions
    group by user_id

),

orders as (

    select
        user_id,
        count(*) as order_count,
        sum(units) as units,
        sum(revenue) as revenue,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at
    from fct_orders
    group by user_id

),

final as (

    select
        activity.user_id,
        customer_rfm.segment as rfm_segment,
        cast(activity.session_count as bigint) as session_count,
        cast(activity.event_count as bigint) as event_count,
        cast(coalesce(orders.order_count, 0) as bigint) as order_count,
        cast(coalesce(orders.units, 0) as bigint) as units,
        cast(coalesce(orders.revenue, 0) as decimal(18, 2)) as revenue,
        orders.user_id is not null as is_buyer,
        cast({{ dbt.date_trunc('month', 'activity.first_seen_at') }} as date) as cohort_month,
        activity.first_seen_at,
        activity.last_seen_at,
        orders.first_ordered_at,
        orders.last_ordered_at
    from activity
    left join orders
        on activity.user_id = orders.user_id
    left join customer_rfm
        on activity.user_id = customer_rfm.user_id

)

select * from final
