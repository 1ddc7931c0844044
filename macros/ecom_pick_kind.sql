{#-
    The value kind of a pick, from its data type: ('integer', 0), ('decimal', scale), or
    ('text', none). Numbers are compared as numbers, everything else as text.
-#}
{% macro ecom_pick_kind(data_type) -%}
    {%- set t = data_type | lower | replace(' ', '') -%}
    {%- if t in ('bigint', 'integer', 'int', 'int4', 'int8', 'smallint') -%}
        {{ return(('integer', 0)) }}
    {%- elif t.startswith('decimal') or t.startswith('numeric') -%}
        {%- set scale = t.split(',')[1].rstrip(')') if ',' in t else '0' -%}
        {{ return(('decimal', scale | int)) }}
    {%- else -%}
        {{ return(('text', none)) }}
    {%- endif -%}
{%- endmacro %}
