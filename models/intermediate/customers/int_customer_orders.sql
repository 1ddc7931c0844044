{#-
    One row per customer (a user with an order), over every order: the per-customer order facts
    (macro ecom_customer_orders) and the month of the first order. dim_customers,
    customer_lifetime_value and customer_ltv_cohorts read them here; customer_rfm and
    customer_churn take the same facts as of their own date from the same macro.
-#}

with

customer_orders as (

    {{ ecom_customer_orders() }}

),

final as (

    select
        user_id,
        cast(orders as bigint) as orders,
        cast(units as bigint) as units,
        cast(revenue as decimal(18, 2)) as revenue,
        cast({{ dbt.date_trunc('month', 'first_ordered_at') }} as date) as first_order_month,
        last_order_date,
        first_ordered_at,
        last_ordered_at
    from customer_orders

)

select * from final
