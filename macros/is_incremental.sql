{#-
    dbt's is_incremental(), except that a compile with `--no-populate-cache` does not ask the
    warehouse whether the table exists (that needs a server): it compiles the full-refresh
    branch, or the incremental branch with `--vars '{ecom__compile_incremental: true}'`.
    This is what lets `dbt compile --target redshift --no-populate-cache` run without Redshift.
-#}
{% macro is_incremental() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if flags.WHICH == 'compile' and not flags.POPULATE_CACHE -%}
        {{ return(var('ecom__compile_incremental', false) and model.config.materialized == 'incremental') }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
    {{ return(
        relation is not none
        and relation.type == 'table'
        and model.config.materialized == 'incremental'
        and not should_full_refresh()
    ) }}
{% endmacro %}
