{{ config(dist='even', sort=['cohort_month']) }}

{#-
    Monthly acquisition cohorts: users grouped by the month of their first session, and for
    every later month how many of them came back (retention), bought, and spent.
-#}

with

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

int_customer_order_months as (

    select * from {{ ref('int_customer_order_months') }}

),

first_months as (

    -- a user's cohort is the month of their first session (dim_customers.cohort_month)
    select
        user_id,
        cohort_month
    from dim_customers

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_users
    from first_months
    group by cohort_month

),

active_months as (

    select distinct
        user_id,
        cast({{ dbt.date_trunc('month', 'session_started_at') }} as date) as activity_month
    from fct_sessions

),

activity as (

    select
        first_months.cohort_month,
        active_months.activity_month,
        count(*) as active_users,
        count(int_customer_order_months.user_id) as buyers,
        sum(coalesce(int_customer_order_months.orders, 0)) as orders,
        sum(coalesce(int_customer_order_months.revenue, 0)) as revenue
    from active_months
    inner join first_months
        on active_months.user_id = first_months.user_id
    left join int_customer_order_months
        on
            active_months.user_id = int_customer_order_months.user_id
            and active_months.activity_month = int_customer_order_months.order_month
    group by first_months.cohort_month, active_months.activity_month

),

final as (

    select
        cast(
            {{ dbt.datediff('activity.cohort_month', 'activity.activity_month', 'month') }}  -- noqa: LT05
            as integer
        ) as months_since_acquisition,
        cast(cohort_sizes.cohort_users as bigint) as cohort_users,
        cast(activity.active_users as bigint) as active_users,
        cast(activity.buyers as bigint) as buyers,
        cast(activity.orders as bigint) as orders,
        cast(activity.revenue as decimal(18, 2)) as revenue,
        {{ ecom_rate('activity.active_users', 'cohort_sizes.cohort_users') }} as retention_rate,
        activity.cohort_month,
        activity.activity_month
    from activity
    inner join cohort_sizes
        on activity.cohort_month = cohort_sizes.cohort_month

)

select * from final
