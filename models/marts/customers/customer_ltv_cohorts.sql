{{ config(dist='all', sort=['first_order_month']) }}

{#-
    "LTV in cohorts": customers grouped by the month of their first order, and for every month
    since (0 = the first order's month) the cohort's orders and revenue that month and
    accumulated, and the accumulated revenue per customer of the cohort. Every month from the
    cohort's to the last month with an order has a row, zero when nobody of the cohort bought.
    `is_month_complete` is false for a month the data ends inside.
-#}

with

int_customer_orders as (

    select * from {{ ref('int_customer_orders') }}

),

int_customer_order_months as (

    select * from {{ ref('int_customer_order_months') }}

),

data_end as (

    -- the day after the last event: a month ending after it is not complete
    {{ ecom_as_of_date() }}

),

cohort_sizes as (

    select
        first_order_month,
        count(*) as customers
    from int_customer_orders
    group by first_order_month

),

order_months as (

    select distinct order_month
    from int_customer_order_months

),

cohort_months as (

    select
        cohort_sizes.first_order_month,
        cohort_sizes.customers,
        order_months.order_month
    from cohort_sizes
    inner join order_months
        on cohort_sizes.first_order_month <= order_months.order_month

),

cohort_orders as (

    -- one int_customer_order_months row per buyer and month
    select
        int_customer_orders.first_order_month,
        int_customer_order_months.order_month,
        count(*) as buyers,
        sum(int_customer_order_months.orders) as orders,
        sum(int_customer_order_months.revenue) as revenue
    from int_customer_order_months
    inner join int_customer_orders
        on int_customer_order_months.user_id = int_customer_orders.user_id
    group by int_customer_orders.first_order_month, int_customer_order_months.order_month

),

months_filled as (

    select
        cohort_months.first_order_month,
        cohort_months.order_month,
        cohort_months.customers,
        coalesce(cohort_orders.buyers, 0) as buyers,
        coalesce(cohort_orders.orders, 0) as orders,
        coalesce(cohort_orders.revenue, 0) as revenue
    from cohort_months
    left join cohort_orders
        on
            cohort_months.first_order_month = cohort_orders.first_order_month
            and cohort_months.order_month = cohort_orders.order_month

),

months_accumulated as (

    select
        *,
        sum(orders) over (
            partition by first_order_month order by order_month rows between unbounded preceding and current row
        ) as cumulative_orders,
        sum(revenue) over (
            partition by first_order_month order by order_month rows between unbounded preceding and current row
        ) as cumulative_revenue
    from months_filled

),

final as (

    select
        cast({{ dbt.datediff('months_accumulated.first_order_month', 'months_accumulated.order_month', 'month') }} as integer)  -- noqa: LT05
            as months_since_first_order,
        cast(months_accumulated.customers as bigint) as customers,
        cast(months_accumulated.buyers as bigint) as buyers,
        cast(months_accumulated.orders as bigint) as orders,
        cast(months_accumulated.revenue as decimal(18, 2)) as revenue,
        cast(months_accumulated.cumulative_orders as bigint) as cumulative_orders,
        cast(months_accumulated.cumulative_revenue as decimal(18, 2)) as cumulative_revenue,
        {{ ecom_divide('months_accumulated.cumulative_revenue', 'months_accumulated.customers', 2) }}
            as cumulative_revenue_per_customer,
        {{ dbt.dateadd('month', 1, 'months_accumulated.order_month') }} <= data_end.as_of_date as is_month_complete,
        months_accumulated.first_order_month,
        months_accumulated.order_month
    from months_accumulated
    cross join data_end

)

select * from final
