{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete_insert_since',
        since_column='event_at',
        on_schema_change='fail',
        dist='user_id',
        sort=['event_at'],
    )
}}

{#-
    Events whose source row had no user_session, assigned per user to inactivity sessions:
    a new session starts at a user's first such event and after every gap longer than
    `ecom__session_inactivity_minutes`. The session id is the MD5 of the user and the
    session's first event time, so it is stable across runs. A table (these events are few)
    carrying every column int_events_sessionized needs, so that view reads no join.
    Incremental: a run re-sessionizes only the users with such an event arrived in this run
    (the run's limits, int_run_limits: loaded after the watermark or inside the lookback
    window), from all of their events without session (the ones already here and the arrived
    ones), and replaces those users' rows (delete+insert on user_id; the source holds all of
    their events, so the delete's bound on event_at keeps every one of their rows in it).
    Finding these few events among all of stg_events costs a full scan otherwise.
-#}

-- depends_on: {{ ref('int_run_limits') }}

{%- set event_columns = (
    'event_id, user_id, product_id, category_id, event_type, brand, price, event_date, event_at,'
    ~ ' loaded_at'
) %}

with

{% if is_incremental() %}

arrived as (

    -- distinct: an event both loaded since the last run and inside the window comes twice
    select distinct *
    from (
        {{ ecom_arrived_rows(ref('stg_events'), event_columns, where='is_missing_session') }}
    ) as arrived_rows

),

events_without_session as (

    select {{ event_columns }}
    from arrived

    union all

    select {{ event_columns }}
    from {{ this }}
    where
        user_id in (select arrived.user_id from arrived)
        and event_id not in (select arrived.event_id from arrived)

),

{% else %}

events_without_session as (

    select {{ event_columns }}
    from {{ ref('stg_events') }}
    where is_missing_session

),

{% endif %}

events_with_previous as (

    select
        *,
        lag(event_at) over (partition by user_id order by event_at) as previous_event_at
    from events_without_session

),

session_starts_flagged as (

    select
        *,
        {{ ecom_is_inactivity_start('previous_event_at', 'event_at') }} as is_session_start
    from events_with_previous

),

events_numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by user_id order by event_at rows between unbounded preceding and current row
        ) as user_session_number
    from session_starts_flagged

),

events_with_session_start as (

    select
        *,
        min(event_at) over (partition by user_id, user_session_number) as session_started_at
    from events_numbered

),

final as (

    select
        event_id,
        {{ dbt.hash(dbt.concat(["'inferred|'", "cast(user_id as varchar)", "'|'", "cast(session_started_at as varchar)"])) }}
            as session_id,
        user_id,
        product_id,
        category_id,
        event_type,
        brand,
        price,
        event_date,
        event_at,
        loaded_at
    from events_with_session_start

)

select * from final
