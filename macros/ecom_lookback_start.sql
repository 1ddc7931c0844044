{#-
    Scalar subquery: the start of the late-data lookback window of an incremental model,
    `max(column)` already in the model's table minus `ecom__lookback_days` (plus `extra_days`).
    Only meaningful inside `{% if is_incremental() %}`. An empty table (a first run over no
    events) gives a time before any event, so the next run reads everything.
-#}
{% macro ecom_lookback_start(column, extra_days=0) -%}
    (
        select
            coalesce(
                {{ dbt.dateadd('day', -(var('ecom__lookback_days') | int + extra_days), 'max(' ~ column ~ ')') }},
                cast('1900-01-01' as timestamp)
            )
        from {{ this }}
    )
{%- endmacro %}
