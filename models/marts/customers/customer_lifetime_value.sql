{{ config(dist='user_id', sort=['user_id']) }}

{#-
    Historical value per customer (a user with an order), over all the data: orders, units,
    revenue, average order value, tenure (first to last order), the days observed since the
    first order, and orders per 30 days observed. A record of what happened, not a
    prediction: five months of data cannot say what a customer will be worth
    (docs/customers.md). The order facts come from int_customer_orders.
-#}

with

int_customer_orders as (

    select * from {{ ref('int_customer_orders') }}

),

data_end as (

    -- the day after the last event: the end of what the data observes
    {{ ecom_as_of_date() }}

),

customers_measured as (

    select
        int_customer_orders.*,
        {{ dbt.datediff('cast(int_customer_orders.first_ordered_at as date)', 'cast(int_customer_orders.last_ordered_at as date)', 'day') }}
            as tenure_days,
        {{ dbt.datediff('cast(int_customer_orders.first_ordered_at as date)', 'data_end.as_of_date', 'day') }}
            as observed_days
    from int_customer_orders
    cross join data_end

),

final as (

    select
        user_id,
        orders,
        units,
        revenue,
        {{ ecom_divide('revenue', 'orders', 2) }} as average_order_value,
        cast(tenure_days as integer) as tenure_days,
        cast(observed_days as integer) as observed_days,
        {{ ecom_divide(
            'orders * 30', 'case when observed_days > 30 then observed_days else 30 end', 4, precision=12
        ) }} as orders_per_30_days,
        first_order_month,
        first_ordered_at,
        last_ordered_at
    from customers_measured

)

select * from final
