{#-
    The body of a model's `as_of` CTE: one row, `as_of_date`, the date the variable
    `var_name` names, or by default the day after the last event (a `stg_events` CTE of the
    calling model). RFM and churn measure "as of" the same way.
-#}
{% macro ecom_as_of_date(var_name) -%}
    {% if var(var_name) %}
    select cast('{{ var(var_name) }}' as date) as as_of_date
    {% else %}
    select cast({{ dbt.dateadd('day', 1, 'max(event_date)') }} as date) as as_of_date
    from stg_events
    {% endif %}
{%- endmacro %}
