{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }}"
            " where sales_date >= {{ ecom_order_days_rebuild_from('sales_date') }}{% endif %}"
        ],
        dist='even',
        sort=['sales_date'],
    )
}}

{#-
    Sales per day of order and brand (`(none)` when missing): an order counts for a brand when it holds a
    purchase of a product of that brand; units and revenue are that brand's share.
    An incremental run rebuilds the days of fct_sales_daily's window: a pre-hook deletes them,
    and the model appends every day after the last one left (macros/ecom_last_built_day.sql),
    from the purchases of those days only.
-#}

-- depends_on: {{ ref('fct_sessions') }}

{{ ecom_sales_daily_breakdown('brand', "cast(coalesce(brand, '(none)') as varchar)") }}
