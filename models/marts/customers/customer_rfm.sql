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

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

stg_events as (

    select * from {{ ref('stg_events') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

as_of as (

    {{ ecom_as_of_date('ecom__rfm_as_of') }}

),

customers as (

    select
        fct_orders.user_id,
        as_of.as_of_date,
        count(*) as frequency,
        sum(fct_orders.revenue) as monetary,
        max(fct_orders.order_date) as last_order_date
    from fct_orders
    cross join as_of
    where fct_orders.order_date < as_of.as_of_date
    group by fct_orders.user_id, as_of.as_of_date

),

customers_measured as (

    select
        user_id,
        frequency,
        monetary,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as recency_days,
        as_of_date,
        last_order_date
    from customers

),

customers_scored as (

    select
        user_id,
        recency_days,
        frequency,
        monetary,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by recency_days desc)) as integer))
            as recency_score,
        case
            {%- for threshold in thresholds | reverse %}
            when frequency >= {{ threshold }} then {{ 5 - loop.index0 }}
            {%- endfor %}
            else 1
        end as frequency_score,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by monetary)) as integer))
            as monetary_score,
        as_of_date,
        last_order_date
    from customers_measured

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
