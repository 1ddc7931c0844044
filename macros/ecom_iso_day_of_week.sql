{#- ISO day of week of a date: Monday = 1 ... Sunday = 7. Redshift has no `isodow`. -#}
{% macro ecom_iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('ecom_iso_day_of_week', 'ecom')(date_expr)) }}
{%- endmacro %}

{% macro default__ecom_iso_day_of_week(date_expr) -%}
    cast(case when extract(dow from {{ date_expr }}) = 0 then 7 else extract(dow from {{ date_expr }}) end as integer)
{%- endmacro %}

{% macro duckdb__ecom_iso_day_of_week(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as integer)
{%- endmacro %}
