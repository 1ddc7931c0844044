{{ config(materialized='table', dist='all', sort=['rebuild_date']) }}

{#-
    The limits of this run, computed once before any incremental model is rebuilt: one row
    per day the run rebuilds, each carrying the run's two bounds on the events it re-reads.

    - `loaded_after`, the load watermark: the latest load already processed, the earliest of
      the load times the incremental models that keep one hold (stg_events, fct_sessions,
      fct_product_daily, int_product_weeks), so that a model that failed in the last run
      catches up in this one. Every event with a copy loaded later has arrived.
    - `lookback_from`: `ecom__lookback_days` before the latest event already staged. Every
      event from then on is re-read too, for loaders whose load times are not monotonic.
    - `rebuild_date`: the days a daily mart must rebuild. They come from the data, whatever
      the lateness: the day of every arrived event (a late event is on its own day), the start
      day and order day, as the last run built them, of every session with an arrived event
      (a session's start and first purchase only move earlier, onto an arrived event's day, so
      the old and the arrived days hold every day that changed), and every day from the
      lookback window's start to the last arrived event (days without events that a run
      adds to the daily spines). An arrived event before every staged one extends that range
      back to its own day.
    - `rebuild_week`: the Monday of `rebuild_date` (int_product_weeks).

    Without a previous build (a first run, or `--full-refresh`) both bounds are 1900-01-01 and
    every day from the first to the last raw event is rebuilt. No row: nothing arrived.
    The previous builds are read through ecom_previous_build (not `ref`: they are children).
-#}

{%- set built_events = ecom_previous_build('stg_events') -%}
{%- set built_sessions = ecom_previous_build('fct_sessions') -%}
{%- set watermarks = [
    (built_events, 'last_loaded_at'),
    (built_sessions, 'last_loaded_at'),
    (ecom_previous_build('fct_product_daily'), 'last_loaded_at'),
    (ecom_previous_build('int_product_weeks'), 'last_loaded_at'),
] -%}
{%- set no_time = "cast('1900-01-01' as timestamp)" -%}

with

{% if built_events is none %}

bounds as (

    select
        {{ no_time }} as loaded_after,
        {{ no_time }} as lookback_from

),

raw_days as (

    select
        cast(min(event_time) as date) as first_day,
        cast(max(event_time) as date) as last_day
    from {{ source('rees46', 'events') }}

),

rebuild_days as (

    {{ ecom_date_spine(
        '(select raw_days.first_day from raw_days)', '(select raw_days.last_day from raw_days)'
    ) }}

),

{% else %}

staged as (

    select
        max(event_at) as last_event_at,
        min(event_date) as first_event_date
    from {{ built_events }}

),

bounds as (

    select
        least(
            {%- for relation, column in watermarks if relation is not none %}
            coalesce((select max({{ column }}) from {{ relation }}), {{ no_time }}){{ ',' if not loop.last }}
            {%- endfor %}
        ) as loaded_after,
        coalesce(
            {{ dbt.dateadd('day', -(var('ecom__lookback_days') | int), 'staged.last_event_at') }},
            {{ no_time }}
        ) as lookback_from,
        staged.first_event_date
    from staged

),

-- a union rather than one OR, so that each condition prunes the scan; a row can come twice
arrived as (

    select
        source.event_time,
        source.user_session,
        source.user_id
    from {{ source('rees46', 'events') }} as source
    where source.loaded_at > (select bounds.loaded_after from bounds)

    union all

    select
        source.event_time,
        source.user_session,
        source.user_id
    from {{ source('rees46', 'events') }} as source
    where source.event_time >= (select bounds.lookback_from from bounds)

),

arrived_days as (

    select distinct cast(event_time as date) as rebuild_date
    from arrived

),

{% if built_sessions is not none %}

built_sessions_touched as (

    select
        built.session_date,
        built.first_purchase_at
    from {{ built_sessions }} as built
    where
        not built.is_session_inferred
        and built.session_id in (
            select arrived.user_session from arrived where arrived.user_session is not null
        )

    union all

    -- a user's inactivity sessions are rebuilt together (a late event can merge two)
    select
        built.session_date,
        built.first_purchase_at
    from {{ built_sessions }} as built
    where
        built.is_session_inferred
        and built.user_id in (select arrived.user_id from arrived where arrived.user_session is null)

),

built_session_days as (

    select session_date as rebuild_date from built_sessions_touched

    union

    select cast(first_purchase_at as date) as rebuild_date
    from built_sessions_touched
    where first_purchase_at is not null

),

{% endif %}

rebuild_range as (

    select
        case
            when min(arrived_days.rebuild_date) < bounds.first_event_date or bounds.first_event_date is null
                then min(arrived_days.rebuild_date)
            else cast(bounds.lookback_from as date)
        end as first_day,
        max(arrived_days.rebuild_date) as last_day
    from arrived_days
    cross join bounds
    group by bounds.first_event_date, bounds.lookback_from

),

range_days as (

    {{ ecom_date_spine(
        '(select rebuild_range.first_day from rebuild_range)',
        '(select rebuild_range.last_day from rebuild_range)'
    ) }}

),

rebuild_days as (

    select rebuild_date as date_day from arrived_days
    {% if built_sessions is not none %}
    union
    select rebuild_date as date_day from built_session_days
    {% endif %}
    union
    select date_day from range_days

),

{% endif %}

final as (

    select
        rebuild_days.date_day as rebuild_date,
        cast({{ dbt.date_trunc('week', 'rebuild_days.date_day') }} as date) as rebuild_week,
        bounds.loaded_after,
        bounds.lookback_from
    from rebuild_days
    cross join bounds
    where rebuild_days.date_day is not null

)

select * from final
