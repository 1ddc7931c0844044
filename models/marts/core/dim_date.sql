{{ config(dist='all', sort=['date_day']) }}

{#- One row per calendar day from the first to the last event. -#}

with

days as (

    {{ ecom_date_spine(
        '(select min(event_date) from ' ~ ref('stg_events') ~ ')',
        '(select max(event_date) from ' ~ ref('stg_events') ~ ')'
    ) }}

),

final as (

    select
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        {{ ecom_iso_day_of_week('date_day') }} as iso_day_of_week,
        {{ ecom_iso_day_of_week('date_day') }} >= 6 as is_weekend,
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date
    from days

)

select * from final
