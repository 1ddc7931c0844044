{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert_days',
        day_column='event_week',
        limits_column='rebuild_week',
        on_schema_change='fail',
        dist='product_id',
        sort=['event_week'],
    )
}}

{#-
    One row per product and ISO week (Monday) with events: what dim_products needs, kept in a
    form that adds up. Each "latest" value comes with the time it was last seen that week, so
    the latest over all weeks is the one seen last (ties: the largest value, as within a week);
    prices keep their sum and count, so the average over weeks is exact.
    An incremental run rebuilds the weeks holding a day of the run's limits (int_run_limits'
    `rebuild_week`), from the events of those weeks (strategy delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

with

stg_events as (

    {{ ecom_rebuilt_events('rebuild_week', 'cast(' ~ dbt.date_trunc('week', 'event_date') ~ ' as date)') }}

),

product_weeks as (

    select
        product_id,
        cast({{ dbt.date_trunc('week', 'event_date') }} as date) as event_week,
        {{ ecom_last_by('category_id', 'event_at', 'bigint') }} as category_id,
        max(case when category_id is not null then event_at end) as category_id_seen_at,
        {{ ecom_last_by('brand', 'event_at', dbt.type_string()) }} as brand,
        max(case when brand is not null then event_at end) as brand_seen_at,
        {{ ecom_last_by('category_code', 'event_at', dbt.type_string()) }} as category_code,
        max(case when category_code is not null then event_at end) as category_code_seen_at,
        {{ ecom_last_by('price', 'event_at', 'decimal(10, 2)') }} as latest_price,
        max(case when price is not null then event_at end) as latest_price_seen_at,
        count(*) as event_count,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchase_count,
        min(case when price > 0 then price end) as min_price,
        max(case when price > 0 then price end) as max_price,
        sum(case when price > 0 then price end) as positive_price_sum,
        sum(case when price > 0 then 1 else 0 end) as positive_price_count,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        max(last_loaded_at) as last_loaded_at
    from stg_events
    group by product_id, cast({{ dbt.date_trunc('week', 'event_date') }} as date)

),

final as (

    select
        product_id,
        event_week,
        category_id,
        category_id_seen_at,
        brand,
        brand_seen_at,
        category_code,
        category_code_seen_at,
        latest_price,
        latest_price_seen_at,
        cast(event_count as bigint) as event_count,
        cast(purchase_count as bigint) as purchase_count,
        cast(min_price as decimal(10, 2)) as min_price,
        cast(max_price as decimal(10, 2)) as max_price,
        cast(positive_price_sum as decimal(18, 2)) as positive_price_sum,
        cast(positive_price_count as bigint) as positive_price_count,
        first_seen_at,
        last_seen_at,
        last_loaded_at
    from product_weeks

)

select * from final
