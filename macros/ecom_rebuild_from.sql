{#-
    Incremental daily marts with a breakdown (category, brand) have no row for a day without
    data, so `delete+insert` on the date would leave a day that lost all its rows untouched.
    They rebuild by a pre-hook that deletes every day from a first affected day on (these
    macros: a scalar subquery on the pre-run table) and a body that appends every day after
    the last day left in the table (`ecom_last_built_day`). A failed run therefore heals
    itself: the next run rebuilds from whatever the table still holds.

    The first affected day follows the daily facts (fct_funnel_daily, fct_sales_daily): the
    lookback window (`ecom__lookback_days` + 1 days before the latest day built) and the start
    day of every session that ended inside it (for sales, the day of its order).
-#}

{#- Scalar subquery: the latest day left in the model's table, or a day before any data. -#}
{% macro ecom_last_built_day(date_column) -%}
    (
        select coalesce(max({{ date_column }}), cast('1900-01-01' as date))
        from {{ this }}
    )
{%- endmacro %}

{#- Scalar: the first day to rebuild of a mart dated by session start. -#}
{% macro ecom_session_days_rebuild_from(date_column) -%}
    {%- set lookback_start = ecom_lookback_start(date_column, extra_days=1) -%}
    cast(
        least(
            {{ lookback_start }},
            coalesce(
                (
                    select min(session_date)
                    from {{ ref('fct_sessions') }}
                    where session_ended_at >= {{ lookback_start }}
                ),
                {{ lookback_start }}
            )
        ) as date
    )
{%- endmacro %}

{#- Scalar: the first day to rebuild of a mart dated by order. -#}
{% macro ecom_order_days_rebuild_from(date_column) -%}
    {%- set lookback_start = ecom_lookback_start(date_column, extra_days=1) -%}
    cast(
        least(
            {{ lookback_start }},
            coalesce(
                (
                    select min(fct_orders.order_date)
                    from {{ ref('fct_orders') }} as fct_orders
                    inner join {{ ref('fct_sessions') }} as fct_sessions
                        on fct_orders.session_id = fct_sessions.session_id
                    where fct_sessions.session_ended_at >= {{ lookback_start }}
                ),
                {{ lookback_start }}
            )
        ) as date
    )
{%- endmacro %}

{#-
    Scalar: the first day to rebuild of session_definition_comparison. Besides the given
    sessions that ended inside the lookback window, every 30-minute inactivity session with an
    event inside it may have changed (a late event extends or merges them), and one can start
    days earlier. They are found from the events of one day more than the window (an
    inactivity session starting in that extra day is exact there); one that started even
    earlier (a user active without a 30-minute gap for over a day) rebuilds everything.
-#}
{% macro ecom_comparison_rebuild_from() -%}
    {%- set gap_minutes = var('ecom__session_inactivity_minutes') | int -%}
    (
        with

        lookback as (

            select
                {{ dbt.dateadd('day', -(var('ecom__lookback_days') | int + 1), 'max(session_date)') }}
                    as start_at
            from {{ this }}

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

{#-
    Scalar subquery: the first week to rebuild of int_product_weeks, the Monday on or before
    the earlier of the lookback window's start and the first event loaded since the last run.
-#}
{% macro ecom_product_weeks_rebuild_from() -%}
    {%- set lookback_start = ecom_lookback_start('last_seen_at') -%}
    (
        select
            cast(
                {{ dbt.date_trunc('week', 'least(' ~ lookback_start ~ ', coalesce(min(event_at), ' ~ lookback_start ~ '))') }}
                as date
            )
        from {{ ref('stg_events') }}
        where last_loaded_at > {{ ecom_loaded_watermark() }}
    )
{%- endmacro %}

{#-
    Scalar subquery: the first day to rebuild of a mart dated by event (fct_product_daily),
    the earlier of the lookback window's start and the day of the first event loaded since the
    last run (`loaded_at` past the table's latest `watermark`): a very late event rebuilds its
    own day. Late copies of an event already built change no count, and do not move it.
-#}
{% macro ecom_event_days_rebuild_from(date_column, watermark='last_loaded_at') -%}
    {%- set lookback_start = ecom_lookback_start(date_column) -%}
    (
        select
            cast(least({{ lookback_start }}, coalesce(min(event_date), {{ lookback_start }})) as date)
        from {{ ref('stg_events') }}
        where loaded_at > {{ ecom_loaded_watermark(watermark) }}
    )
{%- endmacro %}
