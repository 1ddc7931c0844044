{#-
    The per-customer order facts, one row per user with an order: orders, units, revenue, the
    first and last order (time and date). With `as_of_var` (a variable read by ecom_as_of_date)
    only the orders before that as-of date count, and each row also carries `as_of_date` and
    `days_since_last_order` (from the last order's date to it). The one definition of these
    facts: int_customer_orders (every order) and customer_rfm / customer_churn (as of their
    own dates) are its callers.
-#}
{% macro ecom_customer_orders(as_of_var=none) %}
    select
        fct_orders.user_id,
        count(*) as orders,
        sum(fct_orders.units) as units,
        sum(fct_orders.revenue) as revenue,
        min(fct_orders.ordered_at) as first_ordered_at,
        max(fct_orders.ordered_at) as last_ordered_at,
        max(fct_orders.order_date) as last_order_date
        {%- if as_of_var %},
        as_of.as_of_date,
        {{ dbt.datediff('max(fct_orders.order_date)', 'as_of.as_of_date', 'day') }} as days_since_last_order
        {%- endif %}
    from {{ ref('fct_orders') }} as fct_orders
    {%- if as_of_var %}
    inner join ({{ ecom_as_of_date(as_of_var) }}) as as_of
        on fct_orders.order_date < as_of.as_of_date
    group by fct_orders.user_id, as_of.as_of_date
    {%- else %}
    group by fct_orders.user_id
    {%- endif %}
{% endmacro %}
