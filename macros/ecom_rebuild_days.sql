{#-
    Subquery: the days this incremental run rebuilds, int_run_limits' `rebuild_date` (or the
    Mondays of their weeks with `limits_column='rebuild_week'`), for `where <day> in ...`.
    The one way a model, macro or strategy reads the run's days; the first of them is
    ecom_first_rebuild_day. A model that renders it only on incremental runs names
    int_run_limits in a `depends_on` comment.
-#}
{% macro ecom_rebuild_days(limits_column='rebuild_date') -%}
    (select run_limits.{{ limits_column }} from {{ ref('int_run_limits') }} as run_limits)
{%- endmacro %}
