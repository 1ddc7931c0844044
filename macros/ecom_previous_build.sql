{#-
    The relation of model `model_name` as the previous run left it, or none when it has not
    been built (a first run) or the run is a `--full-refresh`. int_run_limits reads the
    previous state of the incremental models through it: a `ref` would make each of them a
    parent of the model that limits it, a cycle. It is the same table `ref` names (the node's
    database, schema and alias), read before this run rebuilds it.

    A compile with `--no-populate-cache` (`dbt compile --target redshift` without a server)
    does not ask the warehouse whether the table exists: it answers as is_incremental() does,
    "built" only with `--vars '{ecom__compile_incremental: true}'`.
-#}
{% macro ecom_previous_build(model_name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', model_name) | first -%}
    {%- if node is not defined or node is none -%}
        {{ exceptions.raise_compiler_error('ecom_previous_build: no model named ' ~ model_name) }}
    {%- endif -%}
    {%- if flags.WHICH == 'compile' and not flags.POPULATE_CACHE -%}
        {%- if var('ecom__compile_incremental', false) -%}
            {{ return(api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias, type='table'
            )) }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
    {%- if relation is none or relation.type != 'table' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
