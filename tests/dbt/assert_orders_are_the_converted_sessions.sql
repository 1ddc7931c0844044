-- Reconciliation: one order per converted session, and fct_sales_daily counts every order.

with

converted as (

    select count(*) as sessions
    from {{ ref('fct_sessions') }}
    where is_converted

),

orders as (

    select count(*) as orders
    from {{ ref('fct_orders') }}

),

sales as (

    select sum(orders) as orders
    from {{ ref('fct_sales_daily') }}

)

select
    converted.sessions,
    orders.orders,
    sales.orders as sales_orders
from converted
cross join orders
cross join sales
where converted.sessions != orders.orders or orders.orders != coalesce(sales.orders, 0)
