{#-
    Aggregate: the revenue of the events, the sum of the prices of the purchase events whose
    price is above 0 (0 when there is none; `event_type` and `price` are the column
    expressions). Negative-price purchases add nothing; ecom_negative_price_purchases counts
    them apart. The one definition of revenue: fct_sessions, fct_product_daily and the sales
    breakdowns call it, and every other revenue is a sum of theirs.
-#}
{% macro ecom_revenue(event_type, price) -%}
    sum(case when {{ event_type }} = 'purchase' and {{ price }} > 0 then {{ price }} else 0 end)
{%- endmacro %}
