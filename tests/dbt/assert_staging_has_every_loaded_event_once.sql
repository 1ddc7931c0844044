-- Reconciliation: stg_events holds exactly the distinct events of raw.events, and its
-- copies_delivered add up to every row loaded. Returns a row when they disagree.

with

loaded as (

    select
        count(distinct event_id) as distinct_events,
        count(*) as rows_loaded
    from {{ source('rees46', 'events') }}

),

staged as (

    select
        count(*) as events,
        sum(copies_delivered) as copies
    from {{ ref('stg_events') }}

)

select
    loaded.distinct_events,
    loaded.rows_loaded,
    staged.events,
    staged.copies
from loaded
cross join staged
where loaded.distinct_events != staged.events or loaded.rows_loaded != staged.copies
