{#-
    Aggregate: the units sold among the events, one per purchase event whose price is 0 or
    more (`event_type` and `price` are the column expressions). A purchase with a negative
    price is no unit; ecom_negative_price_purchases counts it apart. The one definition of a
    unit: fct_sessions, fct_product_daily and the sales breakdowns call it.
-#}
{% macro ecom_purchased_units(event_type, price) -%}
    sum(case when {{ event_type }} = 'purchase' and {{ price }} >= 0 then 1 else 0 end)
{%- endmacro %}
