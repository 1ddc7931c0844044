{{ config(dist='user_id', sort=['user_id']) }}

{#-
    One row per customer (a user with an order before the as-of date `ecom__churn_as_of`,
    default the day after the last event): last activity and last purchase before that date,
    days since each, and the churned flag: more than `ecom__churn_threshold_days` days since
    the last purchase. With the acquisition cohort (first session month) and RFM segment, for
    churn rates per cohort and per segment (churn_by_cohort, churn_by_rfm_segment). The order
    facts are ecom_customer_orders' (as int_customer_orders', counted before the as-of date).
-#}

{%- set threshold_days = var('ecom__churn_threshold_days') | int %}

with

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

purchases as (

    -- orders before the as-of date, and the days since the last of them
    {{ ecom_customer_orders('ecom__churn_as_of') }}

),

activity as (

    select
        fct_sessions.user_id,
        max(fct_sessions.session_started_at) as last_active_at
    from fct_sessions
    inner join purchases
        on
            fct_sessions.user_id = purchases.user_id
            and fct_sessions.session_date < purchases.as_of_date
    group by fct_sessions.user_id

),

final as (

    select
        purchases.user_id,
        dim_customers.rfm_segment,
        cast(purchases.orders as bigint) as orders,
        cast(purchases.days_since_last_order as integer) as days_since_last_purchase,
        cast(
            {{ dbt.datediff('cast(activity.last_active_at as date)', 'purchases.as_of_date', 'day') }}
            as integer
        ) as days_inactive,
        cast({{ threshold_days }} as integer) as churn_threshold_days,
        purchases.days_since_last_order > {{ threshold_days }} as is_churned,
        dim_customers.cohort_month,
        purchases.as_of_date,
        purchases.first_ordered_at as first_purchased_at,
        purchases.last_ordered_at as last_purchased_at,
        activity.last_active_at
    from purchases
    inner join dim_customers
        on purchases.user_id = dim_customers.user_id
    left join activity
        on purchases.user_id = activity.user_id

)

select * from final
