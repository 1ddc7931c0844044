{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }}"
            " where sales_date >= {{ ecom_order_days_rebuild_from('sales_date') }}{% endif %}"
        ],
        dist='even',
        sort=['sales_date'],
    )
}}

{#-
    Sales per day of order and category: an order counts in a category when it holds a
    purchase of a product of that category; units and revenue are that category's share.
    An incremental run rebuilds the days of fct_sales_daily's window: a pre-hook deletes them,
    and the model appends every day after the last one left (macros/ecom_rebuild_from.sql),
    from the purchases of those days only.
-#}

-- depends_on: {{ ref('fct_sessions') }}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}
    {% if is_incremental() -%}
        where order_date > {{ ecom_last_built_day('sales_date') }}
    {%- endif %}

),

purchases as (

    select
        session_id,
        category_id,
        user_id,
        price
    from int_events_sessionized
    -- incremental: an order after the last day built has all its purchases after it
    where
        event_type = 'purchase'
    {% if is_incremental() %}
        and event_date > {{ ecom_last_built_day('sales_date') }}
    {% endif %}

),

purchases_in_orders as (

    select
        purchases.category_id,
        purchases.session_id,
        purchases.user_id,
        purchases.price,
        fct_orders.order_date
    from purchases
    inner join fct_orders
        on purchases.session_id = fct_orders.session_id

),

final as (

    select
        category_id,
        cast(count(distinct session_id) as bigint) as orders,
        cast(sum(case when price >= 0 then 1 else 0 end) as bigint) as units,
        cast(count(distinct user_id) as bigint) as buyers,
        cast(sum(case when price < 0 then 1 else 0 end) as bigint) as negative_price_purchases,
        cast(sum(case when price > 0 then price else 0 end) as decimal(18, 2)) as revenue,
        order_date as sales_date
    from purchases_in_orders
    group by category_id, order_date

)

select * from final
