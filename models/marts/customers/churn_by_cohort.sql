{{ config(dist='all', sort=['cohort_month']) }}

{#- Churn per acquisition cohort (month of the first session): customers, churned, rate. -#}

with

customer_churn as (

    select * from {{ ref('customer_churn') }}

),

final as (

    select
        cast(count(*) as bigint) as customers,
        cast(sum(case when is_churned then 1 else 0 end) as bigint) as churned_customers,
        {{ ecom_rate('sum(case when is_churned then 1 else 0 end)', 'count(*)') }} as churn_rate,
        cast(max(churn_threshold_days) as integer) as churn_threshold_days,
        cohort_month,
        max(as_of_date) as as_of_date
    from customer_churn
    group by cohort_month

)

select * from final
