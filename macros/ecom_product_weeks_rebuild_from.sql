{#-
    Scalar subquery: the first week to rebuild of int_product_weeks, the Monday on or before
    the earlier of the lookback window's start and the first event loaded since the last run.
-#}
{% macro ecom_product_weeks_rebuild_from() -%}
    {%- set lookback_start = ecom_lookback_start('last_seen_at') -%}
    (
        select
            cast(
                {{ dbt.date_trunc('week', 'least(' ~ lookback_start ~ ', coalesce(min(event_at), ' ~ lookback_start ~ '))') }}
                as date
            )
        from {{ ref('stg_events') }}
        where last_loaded_at > {{ ecom_loaded_watermark() }}
    )
{%- endmacro %}
