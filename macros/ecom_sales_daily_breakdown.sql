{#-
    The body of fct_sales_daily_by_<dimension> (brand, category): orders, units and revenue per
    day of order and group, with the breakdown column `dimension` computed from each event by
    `expression`. The models keep their config and docs. Incremental (strategy
    delete_insert_days): the orders on the days of the run's limits (int_run_limits), from
    their purchases (all on or after the first of those days). Funnel: see
    ecom_funnel_daily_breakdown.
-#}
{% macro ecom_sales_daily_breakdown(dimension, expression) %}
with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}
    {% if is_incremental() -%}
        where order_date in {{ ecom_rebuild_days() }}
    {%- endif %}

),

purchases as (

    select
        session_id,
        {{ expression }}{% if expression != dimension %} as {{ dimension }}{% endif %},
        user_id,
        event_type,
        price
    from int_events_sessionized
    -- incremental: an order on a rebuilt day has all its purchases on or after the first one
    where
        event_type = 'purchase'
    {% if is_incremental() %}
        and event_date >= {{ ecom_first_rebuild_day() }}
        and session_id in (select fct_orders.session_id from fct_orders)
    {% endif %}

),

purchases_in_orders as (

    select
        purchases.{{ dimension }},
        purchases.session_id,
        purchases.user_id,
        purchases.event_type,
        purchases.price,
        fct_orders.order_date
    from purchases
    inner join fct_orders
        on purchases.session_id = fct_orders.session_id

),

final as (

    select
        {{ dimension }},
        cast(count(distinct session_id) as bigint) as orders,
        cast({{ ecom_purchased_units('event_type', 'price') }} as bigint) as units,
        cast(count(distinct user_id) as bigint) as buyers,
        cast({{ ecom_negative_price_purchases('event_type', 'price') }} as bigint) as negative_price_purchases,
        cast({{ ecom_revenue('event_type', 'price') }} as decimal(18, 2)) as revenue,
        order_date as sales_date
    from purchases_in_orders
    group by {{ dimension }}, order_date

)

select * from final
{% endmacro %}
