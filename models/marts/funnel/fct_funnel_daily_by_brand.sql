{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }}"
            " where session_date >= {{ ecom_session_days_rebuild_from('session_date') }}{% endif %}"
        ],
        dist='even',
        sort=['session_date'],
    )
}}

{#-
    The daily funnel broken down by brand: a session counts for a brand when it has an
    event on a product of that brand (`(none)` when the brand is missing); its steps are its events on that brand.
    An incremental run rebuilds the days of fct_funnel_daily's window: a pre-hook deletes them,
    and the model appends every day after the last one left (macros/ecom_last_built_day.sql),
    from the events of those days only.
-#}

{{ ecom_funnel_daily_breakdown('brand', "cast(coalesce(brand, '(none)') as varchar)") }}
