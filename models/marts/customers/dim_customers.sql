{{ config(dist='user_id', sort=['user_id']) }}

{#- One row per user seen in the events: activity, orders, acquisition cohort and RFM segment. -#}

with

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

int_customer_orders as (

    select * from {{ ref('int_customer_orders') }}

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

final as (

    select
        activity.user_id,
        customer_rfm.segment as rfm_segment,
        cast(activity.session_count as bigint) as session_count,
        cast(activity.event_count as bigint) as event_count,
        cast(coalesce(int_customer_orders.orders, 0) as bigint) as order_count,
        cast(coalesce(int_customer_orders.units, 0) as bigint) as units,
        cast(coalesce(int_customer_orders.revenue, 0) as decimal(18, 2)) as revenue,
        int_customer_orders.user_id is not null as is_buyer,
        cast({{ dbt.date_trunc('month', 'activity.first_seen_at') }} as date) as cohort_month,
        activity.first_seen_at,
        activity.last_seen_at,
        int_customer_orders.first_ordered_at,
        int_customer_orders.last_ordered_at
    from activity
    left join int_customer_orders
        on activity.user_id = int_customer_orders.user_id
    left join customer_rfm
        on activity.user_id = customer_rfm.user_id

)

select * from final
