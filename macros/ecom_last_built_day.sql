{#-
    Incremental daily marts with a breakdown (category, brand) have no row for a day without
    data, so `delete+insert` on the date would leave a day that lost all its rows untouched.
    They rebuild by a pre-hook that deletes every day from a first affected day on (a scalar
    subquery on the pre-run table: the ecom_*_rebuild_from macros, one file each) and a body
    that appends every day after the last day left in the table (this macro). A failed run
    therefore heals itself: the next run rebuilds from whatever the table still holds.

    The first affected day follows the daily facts (fct_funnel_daily, fct_sales_daily): the
    lookback window (`ecom__lookback_days` + 1 days before the latest day built) and the start
    day of every session that ended inside it (for sales, the day of its order).
-#}

{#- Scalar subquery: the latest day left in the model's table, or a day before any data. -#}
{% macro ecom_last_built_day(date_column) -%}
    (
        select coalesce(max({{ date_column }}), cast('1900-01-01' as date))
        from {{ this }}
    )
{%- endmacro %}
