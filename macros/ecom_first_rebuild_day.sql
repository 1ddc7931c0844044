{#-
    Scalar subquery: the first of the days this incremental run rebuilds (ecom_rebuild_days;
    `limits_column='rebuild_week'`: the first week's Monday), null when nothing arrived. A row
    of a rebuilt day (a session, an order) has all its events on or after it, so
    `event_date >= ...` prunes an event scan to the days that changed.
-#}
{% macro ecom_first_rebuild_day(limits_column='rebuild_date') -%}
    (select min(run_limits.{{ limits_column }}) from {{ ref('int_run_limits') }} as run_limits)
{%- endmacro %}
