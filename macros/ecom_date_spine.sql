{#-
    A query returning one row per day, `date_day`, from `start_date` to `end_date` inclusive
    (both SQL expressions, scalar subqueries allowed). dbt's own date_spine queries the
    warehouse at compile time, which `dbt compile --target redshift` without a server cannot.
-#}
{% macro ecom_date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('ecom_date_spine', 'ecom')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__ecom_date_spine(start_date, end_date) -%}
    {#- Redshift: generate_series runs on the leader node only; cross-join digits instead. -#}
    select cast({{ dbt.dateadd('day', 'numbers.n', 'cast(' ~ start_date ~ ' as date)') }} as date) as date_day
    from (
        select d0.n + 10 * d1.n + 100 * d2.n + 1000 * d3.n + 10000 * d4.n as n
        from
            (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d0
        cross join
            (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d1
        cross join
            (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d2
        cross join
            (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d3
        cross join
            (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d4
    ) as numbers
    where numbers.n <= {{ dbt.datediff('cast(' ~ start_date ~ ' as date)', 'cast(' ~ end_date ~ ' as date)', 'day') }}
{%- endmacro %}

{% macro duckdb__ecom_date_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
    )) as date) as date_day
{%- endmacro %}
