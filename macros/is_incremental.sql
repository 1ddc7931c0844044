{#-
    dbt's is_incremental(), except that a compile with `--no-populate-cache` does not ask the
    warehouse whether the table exists (that needs a server): it compiles the full-refresh
    branch, or the incremental branch with `--vars '{ecom__compile_incremental: true}'`.
    This is what lets `dbt compile --target redshift --no-populate-cache` run without Redshift.

    Why an override of dbt's own macro, project-wide: dbt's is_incremental() always calls
    adapter.get_relation, which without a populated cache queries the warehouse (without this
    file that compile fails: "Database Error in model stg_events ... Connection refused"), and
    it is a plain global macro, not dispatched, so a root-project macro of the same name is the
    only way to change it short of renaming the call in every incremental model and hook. Every
    other command (run, build, a compile with the cache) behaves exactly as dbt's own: the
    relation exists as a table, the model is incremental, and no --full-refresh.
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
