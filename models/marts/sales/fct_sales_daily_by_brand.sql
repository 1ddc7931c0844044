{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert_days',
        day_column='sales_date',
        on_schema_change='fail',
        dist='even',
        sort=['sales_date'],
    )
}}

{#-
    Sales per day of order and brand (`(none)` when missing): an order counts for a brand when it holds a
    purchase of a product of that brand; units and revenue are that brand's share.
    An incremental run rebuilds the days of the run's limits (int_run_limits), as
    fct_sales_daily does (strategy delete_insert_days).
-#}

-- depends_on: {{ ref('int_run_limits') }}

{{ ecom_sales_daily_breakdown('brand', "cast(coalesce(brand, '(none)') as varchar)") }}
