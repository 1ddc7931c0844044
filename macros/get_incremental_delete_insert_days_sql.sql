{#-
    Incremental strategy `delete_insert_days`, the one of every mart built by day: delete the
    target's rows on the days this run rebuilds (int_run_limits: `rebuild_date`, or the config
    `limits_column`, e.g. `rebuild_week`) in the config `day_column`, then insert the model's
    rows, which are those days rebuilt. Unlike delete+insert on the date, a rebuilt day that
    lost every row (its only session moved to another day) is emptied too. The model reads its
    days from int_run_limits, which makes it a parent of the model.
-#}
{% macro get_incremental_delete_insert_days_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set day_column = config.require('day_column') -%}
    {%- set limits_column = config.get('limits_column', 'rebuild_date') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ day_column }} in {{ ecom_rebuild_days(limits_column) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{% endmacro %}
