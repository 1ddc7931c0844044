{{ config(dist='product_id', sort=['changed_at']) }}

{#-
    One row per change of a product's price: the positive price of one of its events differs
    from the positive price of its previous event (ordered by time, then price). The same
    price twice is no change; a change and a change back are two changes. Zero prices (free
    items, 1.7% of February) and negative prices (data errors) are not prices here.
    Only the product-days where a change can be are read at event level: from
    fct_product_daily, the days whose lowest and highest price differ or whose price differs
    from the product's previous day; a product's previous day, when it had one price, enters
    as that price. Each change gets the product's views, purchases, units and revenue over
    `ecom__price_change_window_days` days before and after the change's day (not the day
    itself, which holds both prices and always the event that shows the change).
-#}

{%- set window_days = var('ecom__price_change_window_days') | int %}

with

fct_product_daily as (

    select * from {{ ref('fct_product_daily') }}

),

stg_events as (

    select * from {{ ref('stg_events') }}

),

priced_days as (

    select
        product_id,
        event_date,
        min_price,
        max_price,
        lag(event_date) over (partition by product_id order by event_date) as previous_date,
        lag(min_price) over (partition by product_id order by event_date) as previous_min_price,
        lag(max_price) over (partition by product_id order by event_date) as previous_max_price
    from fct_product_daily
    where min_price is not null

),

days_flagged as (

    -- a day can hold a change when its prices differ, or differ from the previous day's
    select
        product_id,
        event_date,
        previous_date,
        previous_min_price,
        coalesce(
            min_price != max_price
            or previous_min_price != previous_max_price
            or previous_min_price != min_price,
            false
        ) as is_candidate
    from priced_days

),

days_with_previous_flag as (

    select
        product_id,
        event_date,
        previous_date,
        previous_min_price,
        is_candidate,
        lag(is_candidate) over (partition by product_id order by event_date) as is_previous_candidate
    from days_flagged

),

candidate_days as (

    select
        product_id,
        event_date,
        previous_date,
        previous_min_price,
        is_previous_candidate
    from days_with_previous_flag
    where is_candidate

),

prices as (

    -- the events of the candidate days ...
    select
        stg_events.product_id,
        stg_events.price,
        stg_events.event_at,
        true as is_event
    from stg_events
    inner join candidate_days
        on
            stg_events.product_id = candidate_days.product_id
            and stg_events.event_date = candidate_days.event_date
    where stg_events.price > 0

    union all

    -- ... after the one price of the previous day, when that day is not a candidate itself
    select
        product_id,
        previous_min_price as price,
        cast(previous_date as timestamp) as event_at,
        false as is_event
    from candidate_days
    where previous_date is not null and not coalesce(is_previous_candidate, false)

),

prices_in_order as (

    select distinct
        product_id,
        price,
        event_at,
        is_event
    from prices

),

prices_with_previous as (

    select
        product_id,
        price,
        event_at,
        is_event,
        lag(price) over (partition by product_id order by event_at, price) as previous_price
    from prices_in_order

),

changes as (

    select
        product_id,
        previous_price as from_price,
        price as to_price,
        event_at as changed_at,
        cast(event_at as date) as change_date
    from prices_with_previous
    where is_event and previous_price != price

),

changes_numbered as (

    select
        product_id,
        from_price,
        to_price,
        changed_at,
        change_date,
        row_number() over (partition by product_id order by changed_at) as change_number,
        lead(changed_at) over (partition by product_id order by changed_at) as next_changed_at
    from changes

),

window_days as (

    -- the product's days around each change, leaving out its own day (it holds both prices,
    -- and always the event that shows the change, which would inflate the after side)
    select
        changes_numbered.product_id,
        changes_numbered.changed_at,
        fct_product_daily.views,
        fct_product_daily.purchases,
        fct_product_daily.units,
        fct_product_daily.revenue,
        fct_product_daily.event_date > changes_numbered.change_date as is_after
    from changes_numbered
    inner join fct_product_daily
        on
            changes_numbered.product_id = fct_product_daily.product_id
            and fct_product_daily.event_date >= {{ dbt.dateadd('day', -window_days, 'changes_numbered.change_date') }}
            and fct_product_daily.event_date <= {{ dbt.dateadd('day', window_days, 'changes_numbered.change_date') }}
            and changes_numbered.change_date != fct_product_daily.event_date

),

windows as (

    select
        product_id,
        changed_at,
        sum(case when not is_after then views else 0 end) as views_before,  -- noqa: RF04
        sum(case when not is_after then purchases else 0 end) as purchases_before,
        sum(case when not is_after then units else 0 end) as units_before,
        sum(case when not is_after then revenue else 0 end) as revenue_before,
        sum(case when is_after then views else 0 end) as views_after,  -- noqa: RF04
        sum(case when is_after then purchases else 0 end) as purchases_after,
        sum(case when is_after then units else 0 end) as units_after,
        sum(case when is_after then revenue else 0 end) as revenue_after
    from window_days
    group by product_id, changed_at

),

final as (

    select
        changes_numbered.product_id,
        cast(changes_numbered.change_number as integer) as change_number,
        cast(changes_numbered.from_price as decimal(10, 2)) as from_price,
        cast(changes_numbered.to_price as decimal(10, 2)) as to_price,
        cast(changes_numbered.to_price - changes_numbered.from_price as decimal(10, 2)) as price_change,
        -- in cents: ecom_divide divides by an integer
        {{ ecom_divide(
            '(changes_numbered.to_price - changes_numbered.from_price) * 100',
            'changes_numbered.from_price * 100',
            6,
            precision=10,
        ) }} as relative_change,
        cast({{ window_days }} as integer) as window_days,
        cast(coalesce(windows.views_before, 0) as bigint) as views_before,
        cast(coalesce(windows.purchases_before, 0) as bigint) as purchases_before,
        cast(coalesce(windows.units_before, 0) as bigint) as units_before,
        cast(coalesce(windows.revenue_before, 0) as decimal(18, 2)) as revenue_before,
        {{ ecom_rate('windows.purchases_before', 'windows.views_before') }} as conversion_before,
        cast(coalesce(windows.views_after, 0) as bigint) as views_after,
        cast(coalesce(windows.purchases_after, 0) as bigint) as purchases_after,
        cast(coalesce(windows.units_after, 0) as bigint) as units_after,
        cast(coalesce(windows.revenue_after, 0) as decimal(18, 2)) as revenue_after,
        {{ ecom_rate('windows.purchases_after', 'windows.views_after') }} as conversion_after,
        changes_numbered.to_price > changes_numbered.from_price as is_increase,
        changes_numbered.change_date,
        changes_numbered.changed_at,
        changes_numbered.next_changed_at
    from changes_numbered
    left join windows
        on
            changes_numbered.product_id = windows.product_id
            and changes_numbered.changed_at = windows.changed_at

)

select * from final
