{#- Every distinct event with its session: the given user_session, else its inactivity session. -#}

with

stg_events as (

    select * from {{ ref('stg_events') }}

),

int_inferred_sessions as (

    select * from {{ ref('int_inferred_sessions') }}

),

final as (

    select
        stg_events.event_id,
        coalesce(stg_events.session_id, int_inferred_sessions.session_id) as session_id,
        stg_events.product_id,
        stg_events.category_id,
        stg_events.user_id,
        stg_events.event_type,
        stg_events.brand,
        stg_events.price,
        stg_events.session_id is null as is_session_inferred,
        stg_events.event_date,
        stg_events.event_at,
        stg_events.loaded_at
    from stg_events
    left join int_inferred_sessions
        on stg_events.event_id = int_inferred_sessions.event_id

)

select * from final
