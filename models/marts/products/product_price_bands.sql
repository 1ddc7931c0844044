{{ config(dist='all', sort=['category_id']) }}

{#-
    Conversion and revenue by price band and category: every product-day of fct_product_daily
    falls in the band of its mean positive price that day (bands from
    `ecom__price_band_bounds`, lower bound included, the last one open-ended) and counts in
    the category it had that day. A product whose price moves across a bound counts in both
    bands, on its days in each. Product-days without a positive price (only zero-price or
    negative-price events) have no band and are left out.
-#}

{%- set bounds = var('ecom__price_band_bounds') %}

with

fct_product_daily as (

    select * from {{ ref('fct_product_daily') }}

),

product_days_banded as (

    select
        product_id,
        category_id,
        views,
        carts,
        purchases,
        units,
        revenue,
        case
            {%- for bound in bounds %}
            when mean_price < {{ bound }} then {{ loop.index }}
            {%- endfor %}
            else {{ bounds | length + 1 }}
        end as price_band_number
    from fct_product_daily
    where mean_price is not null

),

bands as (

    {%- for bound in bounds %}
    select
        {{ loop.index }} as price_band_number,
        {{ loop.previtem if not loop.first else 0 }} as lower_bound,
        {{ bound }} as upper_bound
    union all
    {%- endfor %}
    select
        {{ bounds | length + 1 }} as price_band_number,
        {{ bounds | last }} as lower_bound,
        null as upper_bound

),

band_totals as (

    select
        category_id,
        price_band_number,
        count(distinct product_id) as products,
        count(*) as product_days,
        sum(views) as views,  -- noqa: RF04
        sum(carts) as carts,
        sum(purchases) as purchases,
        sum(units) as units,
        sum(revenue) as revenue
    from product_days_banded
    group by category_id, price_band_number

),

final as (

    select
        band_totals.category_id,
        {{ dbt.concat([
            "cast(bands.lower_bound as varchar)",
            "case when bands.upper_bound is null then '+' else '-' end",
            "coalesce(cast(bands.upper_bound as varchar), '')",
        ]) }} as price_band,
        cast(band_totals.price_band_number as integer) as price_band_number,
        cast(bands.lower_bound as decimal(10, 2)) as price_band_lower,
        cast(bands.upper_bound as decimal(10, 2)) as price_band_upper,
        cast(band_totals.products as bigint) as products,
        cast(band_totals.product_days as bigint) as product_days,
        cast(band_totals.views as bigint) as views,  -- noqa: RF04
        cast(band_totals.carts as bigint) as carts,
        cast(band_totals.purchases as bigint) as purchases,
        cast(band_totals.units as bigint) as units,
        cast(band_totals.revenue as decimal(18, 2)) as revenue,
        {{ ecom_rate('band_totals.carts', 'band_totals.views') }} as view_to_cart_rate,
        {{ ecom_rate('band_totals.purchases', 'band_totals.views') }} as view_to_purchase_rate,
        {{ ecom_divide('band_totals.revenue', 'band_totals.units', 2, precision=10) }} as revenue_per_unit
    from band_totals
    inner join bands
        on band_totals.price_band_number = bands.price_band_number

)

select * from final
