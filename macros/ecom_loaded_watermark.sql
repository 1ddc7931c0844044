{#-
    Scalar subquery: the load watermark of an incremental model, the latest `column` (a load
    time) already in its table, or a time before any load when the table is empty (a first run
    over an empty source must not leave every later comparison with it null).
-#}
{% macro ecom_loaded_watermark(column='last_loaded_at') -%}
    (
        select coalesce(max({{ column }}), cast('1900-01-01' as timestamp))
        from {{ this }}
    )
{%- endmacro %}
