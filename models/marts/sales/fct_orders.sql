{{ config(dist='user_id', sort=['ordered_at']) }}

{#- An order is the purchase events of one session: one row per session with a purchase. -#}

with

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

final as (

    select
        session_id as order_id,
        session_id,
        user_id,
        purchased_units as units,
        negative_price_purchase_count,
        revenue,
        cast(first_purchase_at as date) as order_date,
        first_purchase_at as ordered_at
    from fct_sessions
    where purchase_count > 0

)

select * from final
