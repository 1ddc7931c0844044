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
    The daily funnel broken down by category: a session counts in a category when it has an
    event on a product of that category; its steps are its events in that category.
    An incremental run rebuilds the days of the run's limits (int_run_limits), as
    fct_funnel_daily does (strategy delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

{{ ecom_funnel_daily_breakdown('category_id', 'category_id') }}
