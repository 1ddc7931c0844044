{#-
    One row per customer and month (of the order time, UTC) in which the customer ordered:
    the orders and revenue of that month. The two cohort marts read a customer's months of
    orders here: cohorts (orders of the acquisition cohorts' active users) and
    customer_ltv_cohorts (orders of the cohorts of first orders).
-#}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        user_id,
        cast(count(*) as bigint) as orders,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as order_month
    from fct_orders
    group by user_id, cast({{ dbt.date_trunc('month', 'ordered_at') }} as date)

)

select * from final
