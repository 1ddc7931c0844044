{{ config(dist='all', sort=['product_id']) }}

{#-
    One row per product: its latest brand, category id and code (products move to new
    category ids and get brands filled later), the category levels, and price statistics.
-#}

with

stg_events as (

    select * from {{ ref('stg_events') }}

),

products as (

    select
        product_id,
        {{ ecom_last_by('category_id', 'event_at', 'bigint') }} as category_id,
        {{ ecom_last_by('brand', 'event_at', dbt.type_string()) }} as brand,
        {{ ecom_last_by('category_code', 'event_at', dbt.type_string()) }} as category_code,
        count(*) as event_count,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchase_count,
        min(case when price > 0 then price end) as min_price,
        max(case when price > 0 then price end) as max_price,
        avg(case when price > 0 then price end) as avg_price,
        {{ ecom_last_by('price', 'event_at', 'decimal(10, 2)') }} as latest_price,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at
    from stg_events
    group by product_id

),

final as (

    select
        product_id,
        category_id,
        brand,
        category_code,
        nullif({{ dbt.split_part('category_code', "'.'", 1) }}, '') as category_level_1,
        nullif({{ dbt.split_part('category_code', "'.'", 2) }}, '') as category_level_2,
        nullif({{ dbt.split_part('category_code', "'.'", 3) }}, '') as category_level_3,
        cast(event_count as bigint) as event_count,
        cast(purchase_count as bigint) as purchase_count,
        cast(min_price as decimal(10, 2)) as min_price,
        cast(max_price as decimal(10, 2)) as max_price,
        cast(round(avg_price, 2) as decimal(10, 2)) as avg_price,
        latest_price,
        first_seen_at,
        last_seen_at
    from products

)

select * from final
