{#-
    Custom schemas are used as given (`staging`, `marts`) instead of dbt's default
    `<target schema>_<custom schema>`, so PowerBI and users always find the marts in `marts`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
