{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }}"
            " where session_date >= {{ ecom_comparison_rebuild_from() }}{% endif %}"
        ],
        dist='even',
        sort=['session_date'],
    )
}}

{#-
    How the shop's sessions (user_session) differ from 30-minute inactivity sessions built
    from the same events, per day of session start. An inactivity session starts at a
    user's first event and after every gap longer than `ecom__session_inactivity_minutes`
    between two consecutive events of that user, whatever their user_session.

    An incremental run rebuilds the days from the first one where a session of either kind may
    have changed: a pre-hook deletes them (macros/ecom_comparison_rebuild_from.sql) and the
    model appends every day after the last one left. It reads only the events from the
    inactivity gap before those days on: a session starting on them has all its events there,
    and an event's gap to a previous event outside them is longer than the inactivity gap, as
    in the full history.
-#}

-- depends_on: {{ ref('fct_sessions') }}
-- depends_on: {{ ref('int_run_limits') }}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}
    {% if is_incremental() -%}
        where event_at >= {{ dbt.dateadd(
            'minute',
            -(var('ecom__session_inactivity_minutes') | int),
            dbt.dateadd('day', 1, ecom_last_built_day('session_date'))
        ) }}
    {%- endif %}

),

{% if is_incremental() %}

rebuilt_given_sessions as (

    -- the given sessions starting after the last day built (the events read start later)
    select session_id
    from {{ ref('fct_sessions') }}
    where
        not is_session_inferred
        and session_date > {{ ecom_last_built_day('session_date') }}

),

{% endif %}

events_with_previous as (

    select
        event_id,
        case when not is_session_inferred then session_id end as session_id,
        user_id,
        event_at,
        lag(event_at) over (partition by user_id order by event_at) as previous_event_at
    from int_events_sessionized

),

events_flagged as (

    select
        event_id,
        session_id,
        user_id,
        event_at,
        {{ ecom_is_inactivity_start('previous_event_at', 'event_at') }} as is_inactivity_session_start
    from events_with_previous

),

events_numbered as (

    select
        session_id,
        user_id,
        event_at,
        sum(is_inactivity_session_start) over (
            partition by user_id order by event_at rows between unbounded preceding and current row
        ) as inactivity_session_number
    from events_flagged

),

given_sessions as (

    select
        session_id,
        cast(min(event_at) as date) as session_date,
        count(distinct inactivity_session_number) as inactivity_sessions_spanned
    from events_numbered
    where
        session_id is not null
    {% if is_incremental() %}
        and session_id in (select rebuilt_given_sessions.session_id from rebuilt_given_sessions)
    {% endif %}
    group by session_id

),

inactivity_sessions as (

    select
        user_id,
        inactivity_session_number,
        cast(min(event_at) as date) as session_date,
        count(distinct session_id) as given_sessions_spanned
    from events_numbered
    group by user_id, inactivity_session_number

),

given_per_day as (

    select
        session_date,
        count(*) as given_sessions,
        sum(case when inactivity_sessions_spanned > 1 then 1 else 0 end) as given_sessions_split_by_inactivity
    from given_sessions
    group by session_date

),

inactivity_per_day as (

    select
        session_date,
        count(*) as inactivity_sessions,
        sum(case when given_sessions_spanned > 1 then 1 else 0 end) as inactivity_sessions_merging_given,
        sum(case when given_sessions_spanned = 1 then 1 else 0 end) as inactivity_sessions_matching_one_given
    from inactivity_sessions
    {% if is_incremental() -%}
        -- one that starts before the events read is not complete: it belongs to a day kept
        where session_date > {{ ecom_last_built_day('session_date') }}
    {%- endif %}
    group by session_date

),

final as (

    select
        cast(coalesce(given_per_day.given_sessions, 0) as bigint) as given_sessions,
        cast(coalesce(inactivity_per_day.inactivity_sessions, 0) as bigint) as inactivity_sessions,
        cast(coalesce(given_per_day.given_sessions_split_by_inactivity, 0) as bigint)
            as given_sessions_split_by_inactivity,
        cast(coalesce(inactivity_per_day.inactivity_sessions_merging_given, 0) as bigint)
            as inactivity_sessions_merging_given,
        cast(coalesce(inactivity_per_day.inactivity_sessions_matching_one_given, 0) as bigint)
            as inactivity_sessions_matching_one_given,
        {{ ecom_rate('inactivity_per_day.inactivity_sessions', 'given_per_day.given_sessions') }}
            as inactivity_to_given_ratio,
        coalesce(given_per_day.session_date, inactivity_per_day.session_date) as session_date
    from given_per_day
    full outer join inactivity_per_day
        on given_per_day.session_date = inactivity_per_day.session_date

)

select * from final
