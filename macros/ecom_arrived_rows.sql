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
