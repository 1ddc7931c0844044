{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='delete_insert_since',
        since_column='session_started_at',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where is_session_inferred{% endif %}"
        ],
        dist='user_id',
        sort=['session_started_at'],
    )
}}

{#-
    One row per session. An incremental run rebuilds every given session with an event that
    arrived in this run (the run's limits, int_run_limits: loaded after the watermark or inside
    the lookback window), from all of its events (a late event reprocesses its whole session),
    and every inactivity session (they are few, and a late event can merge two of them: the
    pre-hook deletes the old ones).
    The incremental branch names int_events_sessionized in each CTE instead of importing it
    once (DuckDB would materialise a CTE read twice: every event), and reads a changed
    session's events from the first day the run rebuilds, which holds the start of every
    changed session as already built (int_run_limits), so the event-time filter prunes the
    scan to the days that changed.
-#}

-- depends_on: {{ ref('int_run_limits') }}

with

{% if is_incremental() %}

changed_sessions as (

    select distinct arrived.session_id
    from (
        {{ ecom_arrived_rows(
            ref('int_events_sessionized'), 'session_id', where='not is_session_inferred'
        ) }}
    ) as arrived

),

session_events as (

    select *
    from {{ ref('int_events_sessionized') }}
    where
        not is_session_inferred
        and event_at >= cast({{ ecom_first_rebuild_day() }} as timestamp)
        and session_id in (select changed_sessions.session_id from changed_sessions)

    union all

    select *
    from {{ ref('int_events_sessionized') }}
    where is_session_inferred

),

{% else %}

session_events as (

    select * from {{ ref('int_events_sessionized') }}

),

{% endif %}

sessions_aggregated as (

    select
        session_id,
        is_session_inferred,
        {{ ecom_first_by('user_id', 'event_at', 'bigint') }} as user_id,
        {{ ecom_first_by('product_id', 'event_at', 'bigint') }} as entry_product_id,
        {{ ecom_last_by('product_id', 'event_at', 'bigint') }} as exit_product_id,
        count(*) as event_count,
        sum(case when event_type = 'view' then 1 else 0 end) as view_count,
        sum(case when event_type = 'cart' then 1 else 0 end) as cart_count,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as remove_from_cart_count,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchase_count,
        {{ ecom_purchased_units('event_type', 'price') }} as purchased_units,
        {{ ecom_negative_price_purchases('event_type', 'price') }} as negative_price_purchase_count,
        {{ ecom_revenue('event_type', 'price') }} as revenue,
        min(event_at) as session_started_at,
        max(event_at) as session_ended_at,
        min(case when event_type = 'view' then event_at end) as first_view_at,
        min(case when event_type = 'cart' then event_at end) as first_cart_at,
        min(case when event_type = 'purchase' then event_at end) as first_purchase_at,
        max(loaded_at) as last_loaded_at
    from session_events
    group by session_id, is_session_inferred

),

final as (

    select
        -- a given id (varchar) or an inferred one (md5, text on PostgreSQL): one type
        cast(session_id as varchar) as session_id,
        user_id,
        entry_product_id,
        exit_product_id,
        cast(event_count as bigint) as event_count,
        cast(view_count as bigint) as view_count,
        cast(cart_count as bigint) as cart_count,
        cast(remove_from_cart_count as bigint) as remove_from_cart_count,
        cast(purchase_count as bigint) as purchase_count,
        cast(purchased_units as bigint) as purchased_units,
        cast(negative_price_purchase_count as bigint) as negative_price_purchase_count,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(
            {{ dbt.datediff('session_started_at', 'session_ended_at', 'second') }}  -- noqa: LT05
            as bigint
        ) as duration_seconds,
        is_session_inferred,
        purchase_count > 0 as is_converted,
        view_count > 0 as has_view,
        cart_count > 0 as has_cart,
        cart_count > 0 and purchase_count = 0 as is_cart_abandoned,
        coalesce(first_cart_at >= first_view_at, false) as is_strict_view_to_cart,
        coalesce(first_cart_at >= first_view_at and first_purchase_at >= first_cart_at, false)
            as is_strict_view_to_cart_to_purchase,
        cast(session_started_at as date) as session_date,
        session_started_at,
        session_ended_at,
        first_view_at,
        first_cart_at,
        first_purchase_at,
        last_loaded_at
    from sessions_aggregated

)

select * from final
