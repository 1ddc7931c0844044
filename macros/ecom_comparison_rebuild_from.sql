{#-
    Scalar: the first day to rebuild of session_definition_comparison. From the first day of
    the run's limits (int_run_limits, which holds the day of every arrived event and the start
    day of every given session they touch), every 30-minute inactivity session with an event
    on or after it may have changed (a late event extends or merges them), and one can start
    days earlier. They are found from the events of one day more (an inactivity session
    starting in that extra day is exact there); one that started even earlier (a user active
    without a 30-minute gap for over a day) rebuilds everything. No run-limits row: null
    (nothing arrived, nothing to delete).
-#}
{% macro ecom_comparison_rebuild_from() -%}
    {%- set gap_minutes = var('ecom__session_inactivity_minutes') | int -%}
    (
        with

        lookback as (

            select cast({{ ecom_first_rebuild_day() }} as timestamp) as start_at

        ),

        window_events as (

            select
                user_id,
                event_id,
                event_at
            from {{ ref('int_events_sessionized') }}
            where event_at >= (
                select {{ dbt.dateadd('minute', -gap_minutes, dbt.dateadd('day', -1, 'start_at')) }}
                from lookback
            )

        ),

        window_events_flagged as (

            select
                user_id,
                event_id,
                event_at,
                {{ ecom_is_inactivity_start(
                    'lag(event_at) over (partition by user_id order by event_at)', 'event_at'
                ) }} as is_inactivity_session_start
            from window_events

        ),

        window_events_numbered as (

            select
                user_id,
                event_at,
                sum(is_inactivity_session_start) over (
                    partition by user_id order by event_at rows between unbounded preceding and current row
                ) as inactivity_session_number
            from window_events_flagged

        ),

        inactivity_sessions_in_window as (

            select
                user_id,
                inactivity_session_number,
                min(event_at) as started_at,
                max(event_at) as ended_at
            from window_events_numbered
            group by user_id, inactivity_session_number

        ),

        changed_inactivity as (

            select min(started_at) as started_at
            from inactivity_sessions_in_window
            where ended_at >= (select lookback.start_at from lookback)

        ),

        changed_given as (

            select min(session_date) as first_day
            from {{ ref('fct_sessions') }}
            where
                not is_session_inferred
                and session_ended_at >= (select lookback.start_at from lookback)

        )

        select
            case
                when changed_inactivity.started_at < {{ dbt.dateadd('day', -1, 'lookback.start_at') }}
                    then cast('1900-01-01' as date)
                else cast(
                    least(
                        lookback.start_at,
                        coalesce(changed_inactivity.started_at, lookback.start_at),
                        coalesce(changed_given.first_day, lookback.start_at)
                    ) as date
                )
            end
        from lookback
        cross join changed_inactivity
        cross join changed_given
    )
{%- endmacro %}
