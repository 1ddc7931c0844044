{{ config(dist='user_id', sort=['user_id']) }}

{#-
    Recency, frequency and monetary value per buying user as of `ecom__rfm_as_of` (default:
    the day after the last event), scored 1-5 and named by the segments seed.
    Recency and monetary scores are quintiles of the buyers (percent_rank, so ties share a
    score); frequency is scored on fixed order counts (`ecom__rfm_frequency_thresholds`)
    because most buyers order once and quintiles of a mostly-tied value say nothing.
-#}

{%- set thresholds = var('ecom__rfm_frequency_thresholds') -%}

with

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

customers as (

    -- orders before the as-of date, and the days since the last of them
    {{ ecom_customer_orders('ecom__rfm_as_of') }}

),

customers_scored as (

    select
        user_id,
        days_since_last_order as recency_days,
        orders as frequency,
        revenue as monetary,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by days_since_last_order desc)) as integer))
            as recency_score,
        case
            {%- for threshold in thresholds | reverse %}
            when orders >= {{ threshold }} then {{ 5 - loop.index0 }}
            {%- endfor %}
            else 1
        end as frequency_score,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by revenue)) as integer))
            as monetary_score,
        as_of_date,
        last_order_date
    from customers

),

final as (

    select
        customers_scored.user_id,
        rfm_segments.segment,
        {{ dbt.concat([
            'cast(customers_scored.recency_score as varchar)',
            'cast(customers_scored.frequency_score as varchar)',
            'cast(customers_scored.monetary_score as varchar)',
        ]) }} as rfm_score,
        cast(customers_scored.recency_days as integer) as recency_days,
        cast(customers_scored.frequency as bigint) as frequency,
        cast(customers_scored.monetary as decimal(18, 2)) as monetary,
        cast(customers_scored.recency_score as integer) as recency_score,
        cast(customers_scored.frequency_score as integer) as frequency_score,
        cast(customers_scored.monetary_score as integer) as monetary_score,
        customers_scored.as_of_date,
        customers_scored.last_order_date
    from customers_scored
    inner join rfm_segments
        on
            customers_scored.recency_score = rfm_segments.recency_score
            and customers_scored.frequency_score = rfm_segments.frequency_score

)

select * from final
