-- Reconciliation: in total, fct_product_daily's revenue and units equal fct_sales_daily's
-- (the same purchases, dated by event instead of by order). Returns a row when they differ.

with

products as (

    select
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(units), 0) as units
    from {{ ref('fct_product_daily') }}

),

sales as (

    select
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(units), 0) as units
    from {{ ref('fct_sales_daily') }}

)

select
    products.revenue as product_revenue,
    sales.revenue as sales_revenue,
    products.units as product_units,
    sales.units as sales_units
from products
cross join sales
where products.revenue != sales.revenue or products.units != sales.units
