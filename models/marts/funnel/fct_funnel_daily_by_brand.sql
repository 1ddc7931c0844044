{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert_days',
        day_column='session_date',
        on_schema_change='fail',
        dist='even',
        sort=['session_date'],
    )
}}

{#-
    The daily funnel broken down by brand: a session counts for a brand when it has an
    event on a product of that brand (`(none)` when the brand is missing); its steps are its events on that brand.
    An incremental run rebuilds the days of the run's limits (int_run_limits), as
    fct_funnel_daily does (strategy delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

{{ ecom_funnel_daily_breakdown('brand', "cast(coalesce(brand, '(none)') as varchar)") }}
