{{ config(dist='user_id', sort=['user_id']) }}

{#-
    One row per customer (a user with an order before the as-of date `ecom__churn_as_of`,
    default the day after the last event): last activity and last purchase before that date,
    days since each, and the churned flag: more than `ecom__churn_threshold_days` days since
    the last purchase. With the acquisition cohort (first session month) and RFM segment, for
    churn rates per cohort and per segment (churn_by_cohort, churn_by_rfm_segment).
-#}

{%- set threshold_days = var('ecom__churn_threshold_days') | int %}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

stg_events as (

    select * from {{ ref('stg_events') }}

),

as_of as (

    {{ ecom_as_of_date('ecom__churn_as_of') }}

),

purchases as (

    select
        fct_orders.user_id,
        count(*) as orders,
        min(fct_orders.ordered_at) as first_purchased_at,
        max(fct_orders.ordered_at) as last_purchased_at
    from fct_orders
    cross join as_of
    where fct_orders.order_date < as_of.as_of_date
    group by fct_orders.user_id

),

activity as (

    select
        fct_sessions.user_id,
        max(fct_sessions.session_started_at) as last_active_at
    from fct_sessions
    cross join as_of
    where fct_sessions.session_date < as_of.as_of_date
    group by fct_sessions.user_id

),

customers as (

    select
        purchases.user_id,
        purchases.orders,
        purchases.first_purchased_at,
        purchases.last_purchased_at,
        activity.last_active_at,
        as_of.as_of_date,
        {{ dbt.datediff('cast(purchases.last_purchased_at as date)', 'as_of.as_of_date', 'day') }}
            as days_since_last_purchase,
        {{ dbt.datediff('cast(activity.last_active_at as date)', 'as_of.as_of_date', 'day') }}
            as days_inactive
    from purchases
    cross join as_of
    left join activity
        on purchases.user_id = activity.user_id

),

final as (

    select
        customers.user_id,
        dim_customers.rfm_segment,
        cast(customers.orders as bigint) as orders,
        cast(customers.days_since_last_purchase as integer) as days_since_last_purchase,
        cast(customers.days_inactive as integer) as days_inactive,
        cast({{ threshold_days }} as integer) as churn_threshold_days,
        customers.days_since_last_purchase > {{ threshold_days }} as is_churned,
        dim_customers.cohort_month,
        customers.as_of_date,
        customers.first_purchased_at,
        customers.last_purchased_at,
        customers.last_active_at
    from customers
    inner join dim_customers
        on customers.user_id = dim_customers.user_id

)

select * from final
