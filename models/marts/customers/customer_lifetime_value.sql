{{ config(dist='user_id', sort=['user_id']) }}

{#-
    Historical value per customer (a user with an order), over all the data: orders, units,
    revenue, average order value, tenure (first to last order), the days observed since the
    first order, and orders per 30 days observed. A record of what happened, not a
    prediction: five months of data cannot say what a customer will be worth
    (docs/customers.md).
-#}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

stg_events as (

    select * from {{ ref('stg_events') }}

),

data_end as (

    -- the day after the last event: the end of what the data observes
    select cast({{ dbt.dateadd('day', 1, 'max(event_date)') }} as date) as end_date
    from stg_events

),

customers as (

    select
        user_id,
        count(*) as orders,
        sum(units) as units,
        sum(revenue) as revenue,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at
    from fct_orders
    group by user_id

),

customers_measured as (

    select
        customers.*,
        {{ dbt.datediff('cast(customers.first_ordered_at as date)', 'cast(customers.last_ordered_at as date)', 'day') }}
            as tenure_days,
        {{ dbt.datediff('cast(customers.first_ordered_at as date)', 'data_end.end_date', 'day') }}
            as observed_days
    from customers
    cross join data_end

),

final as (

    select
        user_id,
        cast(orders as bigint) as orders,
        cast(units as bigint) as units,
        cast(revenue as decimal(18, 2)) as revenue,
        {{ ecom_divide('revenue', 'orders', 2) }} as average_order_value,
        cast(tenure_days as integer) as tenure_days,
        cast(observed_days as integer) as observed_days,
        {{ ecom_divide(
            'orders * 30', 'case when observed_days > 30 then observed_days else 30 end', 4, precision=12
        ) }} as orders_per_30_days,
        cast({{ dbt.date_trunc('month', 'first_ordered_at') }} as date) as first_order_month,
        first_ordered_at,
        last_ordered_at
    from customers_measured

)

select * from final
