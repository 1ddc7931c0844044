{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert_days',
        day_column='event_date',
        on_schema_change='fail',
        dist='product_id',
        sort=['event_date'],
    )
}}

{#-
    One row per product and day (UTC, of the event) with events: what shoppers did with it
    (views, carts, removals, purchases), what it sold (units, revenue), how many sessions
    viewed it and users bought it, and the prices it was shown at. The attributes are the
    product's latest that day (it can move to another category id).
    An incremental run rebuilds the days of the run's limits (int_run_limits: among them the
    day of every event that arrived, however late), from the events of those days (strategy
    delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

with

stg_events as (

    {{ ecom_rebuilt_events() }}

),

int_inferred_sessions as (

    select * from {{ ref('int_inferred_sessions') }}

),

events_with_sessions as (

    -- events without user_session take their 30-minute inactivity session
    select
        stg_events.product_id,
        stg_events.category_id,
        stg_events.category_code,
        stg_events.brand,
        stg_events.user_id,
        coalesce(stg_events.session_id, int_inferred_sessions.session_id) as session_id,
        stg_events.event_type,
        stg_events.price,
        stg_events.event_date,
        stg_events.event_at,
        stg_events.loaded_at
    from stg_events
    left join int_inferred_sessions
        on
            stg_events.event_id = int_inferred_sessions.event_id
            and stg_events.is_missing_session

),

product_days as (

    select
        product_id,
        event_date,
        {{ ecom_last_by('category_id', 'event_at', 'bigint') }} as category_id,
        {{ ecom_last_by('category_code', 'event_at', 'varchar') }} as category_code,
        {{ ecom_last_by('brand', 'event_at', 'varchar') }} as brand,
        sum(case when event_type = 'view' then 1 else 0 end) as views,  -- noqa: RF04
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removals,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        {{ ecom_purchased_units('event_type', 'price') }} as units,
        {{ ecom_revenue('event_type', 'price') }} as revenue,
        count(distinct case when event_type = 'view' then session_id end) as viewing_sessions,
        count(distinct case when event_type = 'purchase' then user_id end) as buyers,
        min(case when price > 0 then price end) as min_price,
        max(case when price > 0 then price end) as max_price,
        {{ ecom_divide(
            'sum(case when price > 0 then price end)',
            'sum(case when price > 0 then 1 else 0 end)',
            2,
            precision=10,
        ) }} as mean_price,
        max(loaded_at) as last_loaded_at
    from events_with_sessions
    group by product_id, event_date

),

final as (

    select
        product_id,
        category_id,
        category_code,
        brand,
        cast(views as bigint) as views,  -- noqa: RF04
        cast(carts as bigint) as carts,
        cast(removals as bigint) as removals,
        cast(purchases as bigint) as purchases,
        cast(units as bigint) as units,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(viewing_sessions as bigint) as viewing_sessions,
        cast(buyers as bigint) as buyers,
        {{ ecom_rate('carts', 'views') }} as view_to_cart_rate,
        {{ ecom_rate('purchases', 'views') }} as view_to_purchase_rate,
        cast(min_price as decimal(10, 2)) as min_price,
        cast(max_price as decimal(10, 2)) as max_price,
        mean_price,
        event_date,
        last_loaded_at
    from product_days

)

select * from final
