{#-
    `dbt run-operation print_warehouse_summary`: a short summary of the built marts (events,
    sessions, orders, revenue, the funnel's rates, the RFM segment sizes), for `make demo`.
-#}
{% macro print_warehouse_summary() %}
    {%- set totals_sql -%}
        select
            (select count(*) from {{ ref('stg_events') }}) as events,
            (select sum(copies_delivered) from {{ ref('stg_events') }}) as rows_loaded,
            (select count(*) from {{ ref('fct_sessions') }}) as sessions,
            (select count(*) from {{ ref('fct_orders') }}) as orders,
            (select sum(revenue) from {{ ref('fct_sales_daily') }}) as revenue,
            (select count(*) from {{ ref('dim_customers') }}) as users,
            (select count(*) from {{ ref('customer_rfm') }}) as buyers
    {%- endset -%}
    {%- set funnel_sql -%}
        select
            sum(sessions) as sessions,
            sum(sessions_with_view) as with_view,
            sum(sessions_with_cart) as with_cart,
            sum(sessions_with_purchase) as with_purchase,
            sum(strict_sessions_with_purchase) as strict_purchase,
            sum(sessions_with_abandoned_cart) as abandoned
        from {{ ref('fct_funnel_daily') }}
    {%- endset -%}
    {%- set segments_sql -%}
        select segment, count(*) as users
        from {{ ref('customer_rfm') }}
        group by segment
        order by users desc, segment
    {%- endset -%}
    {%- if execute -%}
        {%- set t = run_query(totals_sql).rows[0] -%}
        {%- set f = run_query(funnel_sql).rows[0] -%}
        {%- set segments = run_query(segments_sql).rows -%}
        {{ print('Warehouse summary (' ~ target.name ~ ')') }}
        {{ print('  events        ' ~ '{:,}'.format(t[0] | int) ~ ' distinct (' ~ '{:,}'.format(t[1] | int) ~ ' rows loaded)') }}
        {{ print('  sessions      ' ~ '{:,}'.format(t[2] | int) ~ ', users ' ~ '{:,}'.format(t[5] | int)) }}
        {{ print('  orders        ' ~ '{:,}'.format(t[3] | int) ~ ', buyers ' ~ '{:,}'.format(t[6] | int)) }}
        {{ print('  revenue       ' ~ '{:,.2f}'.format(t[4] | float)) }}
        {%- if f[0] and f[1] and f[2] -%}
        {{ print('  funnel        view->cart ' ~ '{:.1%}'.format(f[2] / f[1]) ~ ', cart->purchase ' ~ '{:.1%}'.format(f[3] / f[2]) ~ ', session conversion ' ~ '{:.2%}'.format(f[3] / f[0]) ~ ', strict conversion ' ~ '{:.2%}'.format(f[4] / f[0]) ~ ', cart abandonment ' ~ '{:.1%}'.format(f[5] / f[2])) }}
        {%- endif -%}
        {{ print('  RFM segments  ' ~ segments | map('join', ': ') | join(', ')) }}
    {%- endif -%}
{% endmacro %}
