{#-
    session_definition_comparison, the one mart rebuilt from a first day on rather than on the
    days of the run's limits (an inactivity session can start on a day int_run_limits does
    not hold), deletes every day from its first affected day on in a pre-hook
    (ecom_comparison_rebuild_from) and appends every day after the last day left in the table
    (this macro). A failed run therefore heals itself: the next run rebuilds from whatever the
    table still holds.
-#}

{#- Scalar subquery: the latest day left in the model's table, or a day before any data. -#}
{% macro ecom_last_built_day(date_column) -%}
    (
        select coalesce(max({{ date_column }}), cast('1900-01-01' as date))
        from {{ this }}
    )
{%- endmacro %}
