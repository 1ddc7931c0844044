{#-
    Scalar subquery: the start of the late-data lookback window of an incremental model,
    `max(column)` already in the model's table minus `ecom__lookback_days` (plus `extra_days`).
    Only meaningful inside `{% if is_incremental() %}`.
-#}
{% macro ecom_lookback_start(column, extra_days=0) -%}
    (
        select {{ dbt.dateadd('day', -(var('ecom__lookback_days') | int + extra_days), 'max(' ~ column ~ ')') }}
        from {{ this }}
    )
{%- endmacro %}
