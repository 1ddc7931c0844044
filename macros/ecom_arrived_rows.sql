{#-
    Query: the `columns` of the rows of `relation` (matching `where`) that this run must
    re-read, by the run's limits (int_run_limits): a copy loaded after the load watermark
    (`loaded_at` past `loaded_after`), or an event inside the lookback window (`event_at`
    from `lookback_from`). A `union all` of the two rather than one OR, so that each condition
    prunes the scan on its own; a row can come twice. No run-limits row (nothing arrived):
    no row. The calling model declares `-- depends_on: {{ ref('int_run_limits') }}`.
-#}
{% macro ecom_arrived_rows(relation, columns, where=none, loaded_at='loaded_at', event_at='event_at') -%}
    select {{ columns }}
    from {{ relation }}
    where
        {% if where %}{{ where }} and {% endif %}{{ loaded_at }} > (
            select max(run_limits.loaded_after) from {{ ref('int_run_limits') }} as run_limits
        )

    union all

    select {{ columns }}
    from {{ relation }}
    where
        {% if where %}{{ where }} and {% endif %}{{ event_at }} >= (
            select max(run_limits.lookback_from) from {{ ref('int_run_limits') }} as run_limits
        )
{%- endmacro %}
