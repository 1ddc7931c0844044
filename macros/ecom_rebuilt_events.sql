{#-
    The body of a product model's `stg_events` CTE: every event on a full build; on an
    incremental run, the events of the periods the run rebuilds, the `limits_column` values
    of int_run_limits (`rebuild_date`, or `rebuild_week`) that `period_expression` (the
    event's day, or its week) falls in. The first of those periods bounds event_date from
    below as well, so that the scan prunes to the changed days. fct_product_daily (days) and
    int_product_weeks (weeks) read the run's limits this one way; both name int_run_limits in
    a `depends_on` comment, as this ref is rendered only on incremental runs.
-#}
{% macro ecom_rebuilt_events(limits_column='rebuild_date', period_expression='event_date') %}
    select * from {{ ref('stg_events') }}
    {% if is_incremental() -%}
        where
            event_date >= {{ ecom_first_rebuild_day(limits_column) }}
            and {{ period_expression }} in {{ ecom_rebuild_days(limits_column) }}
    {%- endif %}
{% endmacro %}
