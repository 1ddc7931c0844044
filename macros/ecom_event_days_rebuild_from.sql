{#-
    Scalar subquery: the first day to rebuild of a mart dated by event (fct_product_daily),
    the earlier of the lookback window's start and the day of the first event loaded since the
    last run (`loaded_at` past the table's latest `watermark`): a very late event rebuilds its
    own day. Late copies of an event already built change no count, and do not move it.
-#}
{% macro ecom_event_days_rebuild_from(date_column, watermark='last_loaded_at') -%}
    {%- set lookback_start = ecom_lookback_start(date_column) -%}
    (
        select
            cast(least({{ lookback_start }}, coalesce(min(event_date), {{ lookback_start }})) as date)
        from {{ ref('stg_events') }}
        where loaded_at > {{ ecom_loaded_watermark(watermark) }}
    )
{%- endmacro %}
