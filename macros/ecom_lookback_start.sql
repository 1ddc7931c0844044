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

{#-
    Scalar subquery: the load watermark of an incremental model, the latest `column` (a load
    time) already in its table, or a time before any load when the table is empty (a first run
    over an empty source must not leave every later comparison with it null).
-#}
{% macro ecom_loaded_watermark(column='last_loaded_at') -%}
    (
        select coalesce(max({{ column }}), cast('1900-01-01' as timestamp))
        from {{ this }}
    )
{%- endmacro %}

{#-
    Query: the `columns` of the rows of `relation` (matching `where`) that an incremental run
    must re-read: loaded since the model's watermark (`loaded_at` past its `watermark` column)
    or inside its lookback window (`event_at` from the start computed on its `lookback`
    column). A `union all` of the two rather than one OR, so that each condition prunes the
    scan on its own; a row can come twice.
-#}
{% macro ecom_arrived_rows(
    relation,
    columns,
    where=none,
    loaded_at='loaded_at',
    watermark='last_loaded_at',
    event_at='event_at',
    lookback='event_at'
) -%}
    select {{ columns }}
    from {{ relation }}
    where
        {% if where %}{{ where }} and {% endif %}{{ loaded_at }} > {{ ecom_loaded_watermark(watermark) }}

    union all

    select {{ columns }}
    from {{ relation }}
    where
        {% if where %}{{ where }} and {% endif %}{{ event_at }} >= {{ ecom_lookback_start(lookback) }}
{%- endmacro %}
