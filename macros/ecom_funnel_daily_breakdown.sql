{#-
    The body of fct_funnel_daily_by_<dimension> (brand, category): sessions per day of session
    start and group, with the breakdown column `dimension` computed from each event by
    `expression`. The models keep their config and docs. Incremental (strategy
    delete_insert_days): the sessions starting on the days of the run's limits
    (int_run_limits), from their events (all on or after the first of those days). Sales: see
    ecom_sales_daily_breakdown.
-#}
{% macro ecom_funnel_daily_breakdown(dimension, expression) %}
with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}
    {% if is_incremental() -%}
        where session_date in {{ ecom_rebuild_days() }}
    {%- endif %}

),

session_groups as (

    select
        session_id,
        {{ expression }}{% if expression != dimension %} as {{ dimension }}{% endif %},
        max(case when event_type = 'view' then 1 else 0 end) as has_view,
        max(case when event_type = 'cart' then 1 else 0 end) as has_cart,
        max(case when event_type = 'purchase' then 1 else 0 end) as has_purchase,
        min(case when event_type = 'view' then event_at end) as first_view_at,
        min(case when event_type = 'cart' then event_at end) as first_cart_at,
        min(case when event_type = 'purchase' then event_at end) as first_purchase_at
    from int_events_sessionized
    {% if is_incremental() -%}
        -- a session starting on a rebuilt day has all its events on or after the first one
        where
            event_date >= {{ ecom_first_rebuild_day() }}
            and session_id in (select fct_sessions.session_id from fct_sessions)
    {%- endif %}
    group by session_id, {{ expression }}

),

session_groups_dated as (

    select
        session_groups.*,
        fct_sessions.session_date,
        case when session_groups.first_cart_at >= session_groups.first_view_at then 1 else 0 end
            as is_strict_view_to_cart,
        case
            when
                session_groups.first_cart_at >= session_groups.first_view_at
                and session_groups.first_purchase_at >= session_groups.first_cart_at
                then 1
            else 0
        end as is_strict_view_to_cart_to_purchase
    from session_groups
    inner join fct_sessions
        on session_groups.session_id = fct_sessions.session_id

),

counts as (

    select
        {{ dimension }},
        session_date,
        cast(count(*) as bigint) as sessions,
        cast(sum(has_view) as bigint) as sessions_with_view,
        cast(sum(has_cart) as bigint) as sessions_with_cart,
        cast(sum(has_purchase) as bigint) as sessions_with_purchase,
        cast(sum(is_strict_view_to_cart) as bigint) as strict_sessions_with_cart,
        cast(sum(is_strict_view_to_cart_to_purchase) as bigint) as strict_sessions_with_purchase,
        cast(sum(case when has_cart = 1 and has_purchase = 0 then 1 else 0 end) as bigint)
            as sessions_with_abandoned_cart
    from session_groups_dated
    group by {{ dimension }}, session_date

),

final as (

    select
        {{ dimension }},
        sessions,
        sessions_with_view,
        sessions_with_cart,
        sessions_with_purchase,
        strict_sessions_with_cart,
        strict_sessions_with_purchase,
        sessions_with_abandoned_cart,
        {{ ecom_funnel_rates() }},
        session_date
    from counts

)

select * from final
{% endmacro %}
