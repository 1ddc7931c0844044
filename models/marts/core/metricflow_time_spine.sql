{{ config(dist='all', sort=['date_day']) }}

{#- MetricFlow's time spine: one row per day of the data (the days of dim_date). -#}

with

dim_date as (

    select * from {{ ref('dim_date') }}

),

final as (

    select date_day
    from dim_date

)

select * from final
