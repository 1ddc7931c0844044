{#-
    Every distinct event with its session: the given user_session, else its inactivity session.
    A union rather than a join, so that a filter on event time (incremental models read a few
    days) reaches the scan of stg_events directly.
-#}

{%- set event_columns = (
    'event_id, session_id, product_id, category_id, user_id, event_type, brand, price,'
    ~ ' event_date, event_at, loaded_at'
) %}

with

stg_events as (

    select * from {{ ref('stg_events') }}

),

int_inferred_sessions as (

    select * from {{ ref('int_inferred_sessions') }}

),

given_sessions as (

    select
        {{ event_columns }},
        false as is_session_inferred
    from stg_events
    where session_id is not null

),

inferred_sessions as (

    select
        {{ event_columns }},
        true as is_session_inferred
    from int_inferred_sessions

),

final as (

    select * from given_sessions
    union all
    select * from inferred_sessions

)

select * from final
