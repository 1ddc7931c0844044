{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete_insert_since',
        since_column='event_at',
        on_schema_change='fail',
        dist='user_id',
        sort=['event_at'],
    )
}}

{#-
    One row per distinct event. An incremental run re-reads every copy of the events that
    arrived since the last run (a copy loaded after the run's load watermark) or that happened
    inside the lookback window, by the run's limits (int_run_limits), so late events and late
    copies both land, and copies_delivered stays exact; it writes only the events that are new
    or whose copies changed.
    The incremental branch names the source in each CTE instead of importing it once: DuckDB
    would materialise a CTE read twice (all of raw.events). The arrivals come from
    ecom_arrived_rows, a union of the two conditions so that each one prunes the scan.
-#}

-- depends_on: {{ ref('int_run_limits') }}

with

{% if is_incremental() %}

arrived as (

    {{ ecom_arrived_rows(source('rees46', 'events'), 'event_id, event_time', event_at='event_time') }}

),

source_rows as (

    select source.*
    from {{ source('rees46', 'events') }} as source
    where
        source.event_time >= (select min(arrived.event_time) from arrived)
        and source.event_id in (select arrived.event_id from arrived)

),

{% else %}

source_rows as (

    select * from {{ source('rees46', 'events') }}

),

{% endif %}

deduplicated as (

    -- every copy of an event has the same content (event_id is its hash): take any of them
    select
        event_id,
        {{ dbt.any_value('user_session') }} as user_session,
        {{ dbt.any_value('event_type') }} as event_type,
        {{ dbt.any_value('brand') }} as brand,
        {{ dbt.any_value('category_code') }} as category_code,
        {{ dbt.any_value('product_id') }} as product_id,
        {{ dbt.any_value('category_id') }} as category_id,
        {{ dbt.any_value('user_id') }} as user_id,
        {{ dbt.any_value('price') }} as price,
        count(*) as copies_delivered,
        {{ dbt.any_value('event_time') }} as event_time,
        min(loaded_at) as loaded_at,
        max(loaded_at) as last_loaded_at
    from source_rows
    group by event_id

),

final as (

    select
        event_id,
        user_session as session_id,
        product_id,
        category_id,
        user_id,
        event_type,
        category_code,
        brand,
        cast(price as decimal(10, 2)) as price,
        cast(copies_delivered as bigint) as copies_delivered,
        price < 0 as is_negative_price,
        price = 0 as is_zero_price,
        user_session is null as is_missing_session,
        cast(event_time as date) as event_date,
        cast(event_time as timestamp) as event_at,
        cast(loaded_at as timestamp) as loaded_at,
        cast(last_loaded_at as timestamp) as last_loaded_at
    from deduplicated

){% if is_incremental() %},

changed as (

    -- the events re-read for the lookback window are mostly unchanged: write only the new
    -- ones and those with another copy (delete+insert then touches a day, not four)
    select final.*
    from final
    left join {{ this }} as built
        on
            final.event_id = built.event_id
            and built.event_at >= (select min(arrived.event_time) from arrived)
    where
        built.event_id is null
        or built.copies_delivered <> final.copies_delivered
        or built.loaded_at <> final.loaded_at
        or built.last_loaded_at <> final.last_loaded_at

)

select * from changed

{% else %}

select * from final

{% endif %}
