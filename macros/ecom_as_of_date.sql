{#-
    One row, `as_of_date`: the date the variable `var_name` names, or, when it is empty or no
    variable is given, the day after the last event (the end of what the data observes). RFM
    and churn measure "as of" this date; lifetime value measures the days observed up to it.
-#}
{% macro ecom_as_of_date(var_name=none) -%}
    {% if var_name and var(var_name) %}
    select cast('{{ var(var_name) }}' as date) as as_of_date
    {% else %}
    select cast({{ dbt.dateadd('day', 1, 'max(event_date)') }} as date) as as_of_date
    from {{ ref('stg_events') }}
    {% endif %}
{%- endmacro %}
