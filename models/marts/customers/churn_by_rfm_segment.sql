{{ config(dist='all', sort=['rfm_segment']) }}

{#-
    Churn per RFM segment (customer_rfm, as of its own date `ecom__rfm_as_of`): customers,
    churned, rate. Customers without a segment (their orders are all on or after the RFM
    as-of date) are `(none)`.
-#}

with

customer_churn as (

    select * from {{ ref('customer_churn') }}

),

final as (

    select
        coalesce(rfm_segment, '(none)') as rfm_segment,
        cast(count(*) as bigint) as customers,
        cast(sum(case when is_churned then 1 else 0 end) as bigint) as churned_customers,
        {{ ecom_rate('sum(case when is_churned then 1 else 0 end)', 'count(*)') }} as churn_rate,
        cast(max(churn_threshold_days) as integer) as churn_threshold_days,
        max(as_of_date) as as_of_date
    from customer_churn
    group by coalesce(rfm_segment, '(none)')

)

select * from final
