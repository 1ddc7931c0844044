-- Reconciliation: per event date, fct_product_daily's revenue equals the positive-price
-- purchase events of stg_events, its units the non-negative-price ones and its purchases
-- every purchase event; and its views, carts and removals the events of those types.
-- Returns the days that disagree.

with

events as (

    select
        event_date,
        sum(case when event_type = 'purchase' and price > 0 then price else 0 end) as revenue,
        sum(case when event_type = 'purchase' and price >= 0 then 1 else 0 end) as units,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(case when event_type = 'view' then 1 else 0 end) as views,  -- noqa: RF04
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removals
    from {{ ref('stg_events') }}
    group by event_date

),

products as (

    select
        event_date,
        sum(revenue) as revenue,
        sum(units) as units,
        sum(purchases) as purchases,
        sum(views) as views,  -- noqa: RF04
        sum(carts) as carts,
        sum(removals) as removals
    from {{ ref('fct_product_daily') }}
    group by event_date

)

select
    coalesce(events.event_date, products.event_date) as event_date,
    events.revenue as event_revenue,
    products.revenue as product_revenue,
    events.units as event_units,
    products.units as product_units
from events
full outer join products
    on events.event_date = products.event_date
where
    events.event_date is null
    or products.event_date is null
    or events.revenue != products.revenue
    or events.units != products.units
    or events.purchases != products.purchases
    or events.views != products.views
    or events.carts != products.carts
    or events.removals != products.removals
