{#-
    Aggregate: the purchase events with a price below 0 (`event_type` and `price` are the
    column expressions). They are neither units (ecom_purchased_units) nor revenue
    (ecom_revenue) and are counted apart with this.
-#}
{% macro ecom_negative_price_purchases(event_type, price) -%}
    sum(case when {{ event_type }} = 'purchase' and {{ price }} < 0 then 1 else 0 end)
{%- endmacro %}
