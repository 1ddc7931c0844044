-- Reconciliation: revenue and units in fct_sales_daily equal the positive-price (revenue) and
-- non-negative-price (units) purchase events of stg_events, and the negative-price
-- purchases are all counted. Returns a row when they disagree.

with

purchases as (

    select
        sum(case when price > 0 then price else 0 end) as revenue,
        sum(case when price >= 0 then 1 else 0 end) as units,
        sum(case when price < 0 then 1 else 0 end) as negative_price_purchases
    from {{ ref('stg_events') }}
    where event_type = 'purchase'

),

sales as (

    select
        sum(revenue) as revenue,
        sum(units) as units,
        sum(negative_price_purchases) as negative_price_purchases
    from {{ ref('fct_sales_daily') }}

)

select
    purchases.revenue as purchase_revenue,
    sales.revenue as sales_revenue,
    purchases.units as purchase_units,
    sales.units as sales_units
from purchases
cross join sales
where
    coalesce(purchases.revenue, 0) != coalesce(sales.revenue, 0)
    or coalesce(purchases.units, 0) != coalesce(sales.units, 0)
    or coalesce(purchases.negative_price_purchases, 0) != coalesce(sales.negative_price_purchases, 0)
