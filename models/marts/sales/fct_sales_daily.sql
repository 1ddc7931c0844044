{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert_days',
        day_column='sales_date',
        on_schema_change='fail',
        dist='even',
        sort=['sales_date'],
    )
}}

{#-
    Sales per day of order (the order's first purchase). Every day between the first and the
    last order has a row. An incremental run rebuilds the days of the run's limits
    (int_run_limits: they hold the order day, as already built and as it is now, of every
    session with an arrived event), whatever the lateness (strategy delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

days as (

    {{ ecom_date_spine(
        '(select min(order_date) from ' ~ ref('fct_orders') ~ ')',
        '(select max(order_date) from ' ~ ref('fct_orders') ~ ')'
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

orders_per_day as (

    select
        order_date,
        count(*) as orders,
        sum(units) as units,
        sum(revenue) as revenue,
        count(distinct user_id) as buyers,
        sum(negative_price_purchase_count) as negative_price_purchases
    from fct_orders
    where order_date >= (select min(days_to_build.date_day) from days_to_build)
    group by order_date

),

final as (

    select
        days_to_build.date_day as sales_date,
        cast(coalesce(orders_per_day.orders, 0) as bigint) as orders,
        cast(coalesce(orders_per_day.units, 0) as bigint) as units,
        cast(coalesce(orders_per_day.buyers, 0) as bigint) as buyers,
        cast(coalesce(orders_per_day.negative_price_purchases, 0) as bigint) as negative_price_purchases,
        cast(coalesce(orders_per_day.revenue, 0) as decimal(18, 2)) as revenue,
        {{ ecom_divide('orders_per_day.revenue', 'orders_per_day.orders', 2) }} as average_order_value
    from days_to_build
    left join orders_per_day
        on days_to_build.date_day = orders_per_day.order_date

)

select * from final
