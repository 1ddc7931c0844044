{{ config(dist='all', sort=['product_id']) }}

{#-
    One row per product: its latest brand, category id and code (products move to new
    category ids and get brands filled later), the category levels, and price statistics.
    Built from the weekly product rows of int_product_weeks (incremental), not from every event.
-#}

with

int_product_weeks as (

    select * from {{ ref('int_product_weeks') }}

),

products as (

    select
        product_id,
        {{ ecom_last_by('category_id', 'category_id_seen_at', 'bigint') }} as category_id,
        {{ ecom_last_by('brand', 'brand_seen_at', dbt.type_string()) }} as brand,
        {{ ecom_last_by('category_code', 'category_code_seen_at', dbt.type_string()) }} as category_code,
        sum(event_count) as event_count,
        sum(purchase_count) as purchase_count,
        min(min_price) as min_price,
        max(max_price) as max_price,
        {{ ecom_divide('sum(positive_price_sum)', 'sum(positive_price_count)', 2, precision=10) }} as avg_price,
        {{ ecom_last_by('latest_price', 'latest_price_seen_at', 'decimal(10, 2)') }} as latest_price,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from int_product_weeks
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
        avg_price,
        latest_price,
        first_seen_at,
        last_seen_at
    from products

)

select * from final
