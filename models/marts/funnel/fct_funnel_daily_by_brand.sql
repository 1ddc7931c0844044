{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }}"
            " where session_date >= {{ ecom_session_days_rebuild_from('session_date') }}{% endif %}"
        ],
        dist='even',
        sort=['session_date'],
    )
}}

{#-
    The daily funnel broken down by brand: a session counts for a brand when it has an
    event on a product of that brand (`(none)` when the brand is missing); its steps are its events on that brand.
    An incremental run rebuilds the days of fct_funnel_daily's window: a pre-hook deletes them,
    and the model appends every day after the last one left (macros/ecom_rebuild_from.sql),
    from the events of those days only.
-#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}
    {% if is_incremental() -%}
        where session_date > {{ ecom_last_built_day('session_date') }}
    {%- endif %}

),

session_brands as (

    select
        session_id,
        coalesce(brand, '(none)') as brand,
        max(case when event_type = 'view' then 1 else 0 end) as has_view,
        max(case when event_type = 'cart' then 1 else 0 end) as has_cart,
        max(case when event_type = 'purchase' then 1 else 0 end) as has_purchase,
        min(case when event_type = 'view' then event_at end) as first_view_at,
        min(case when event_type = 'cart' then event_at end) as first_cart_at,
        min(case when event_type = 'purchase' then event_at end) as first_purchase_at
    from int_events_sessionized
    {% if is_incremental() -%}
        -- a session after the last day built has all its events after it
        where event_date > {{ ecom_last_built_day('session_date') }}
    {%- endif %}
    group by session_id, coalesce(brand, '(none)')

),

session_brands_dated as (

    select
        session_brands.*,
        fct_sessions.session_date,
        case when session_brands.first_cart_at >= session_brands.first_view_at then 1 else 0 end
            as is_strict_view_to_cart,
        case
            when
                session_brands.first_cart_at >= session_brands.first_view_at
                and session_brands.first_purchase_at >= session_brands.first_cart_at
                then 1
            else 0
        end as is_strict_view_to_cart_to_purchase
    from session_brands
    inner join fct_sessions
        on session_brands.session_id = fct_sessions.session_id

),

counts as (

    select
        brand,
        session_date,
        cast(count(*) as bigint) as sessions,
        cast(sum(has_view) as bigint) as sessions_with_view,
        cast(sum(has_cart) as bigint) as sessions_with_cart,
        cast(sum(has_purchase) as bigint) as sessions_with_purchase,
        cast(sum(is_strict_view_to_cart) as bigint) as strict_sessions_with_cart,
        cast(sum(is_strict_view_to_cart_to_purchase) as bigint) as strict_sessions_with_purchase,
        cast(sum(case when has_cart = 1 and has_purchase = 0 then 1 else 0 end) as bigint)
            as sessions_with_abandoned_cart
    from session_brands_dated
    group by brand, session_date

),

final as (

    select
        brand,
        sessions,
        sessions_with_view,
        sessions_with_cart,
        sessions_with_purchase,
        strict_sessions_with_cart,
        strict_sessions_with_purchase,
        sessions_with_abandoned_cart,
        {{ ecom_rate('sessions_with_cart', 'sessions_with_view') }} as view_to_cart_rate,
        {{ ecom_rate('sessions_with_purchase', 'sessions_with_cart') }} as cart_to_purchase_rate,
        {{ ecom_rate('sessions_with_purchase', 'sessions') }} as session_conversion_rate,
        {{ ecom_rate('strict_sessions_with_cart', 'sessions_with_view') }} as strict_view_to_cart_rate,
        {{ ecom_rate('strict_sessions_with_purchase', 'strict_sessions_with_cart') }}
            as strict_cart_to_purchase_rate,
        {{ ecom_rate('sessions_with_abandoned_cart', 'sessions_with_cart') }} as cart_abandonment_rate,
        session_date
    from counts

)

select * from final
