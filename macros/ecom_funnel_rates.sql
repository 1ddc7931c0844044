{#-
    The funnel's rate columns from its session counts (sessions, sessions_with_view/_cart/
    _purchase, strict_sessions_with_cart/_purchase, sessions_with_abandoned_cart), shared by
    fct_funnel_daily and its breakdowns. `strict_conversion` adds strict_conversion_rate
    (the daily funnel has it).
-#}
{% macro ecom_funnel_rates(strict_conversion=false) -%}
    {{ ecom_rate('sessions_with_cart', 'sessions_with_view') }} as view_to_cart_rate,
    {{ ecom_rate('sessions_with_purchase', 'sessions_with_cart') }} as cart_to_purchase_rate,
    {{ ecom_rate('sessions_with_purchase', 'sessions') }} as session_conversion_rate,
    {{ ecom_rate('strict_sessions_with_cart', 'sessions_with_view') }} as strict_view_to_cart_rate,
    {{ ecom_rate('strict_sessions_with_purchase', 'strict_sessions_with_cart') }}
        as strict_cart_to_purchase_rate,
    {% if strict_conversion -%}
        {{ ecom_rate('strict_sessions_with_purchase', 'sessions') }} as strict_conversion_rate,
    {% endif -%}
    {{ ecom_rate('sessions_with_abandoned_cart', 'sessions_with_cart') }} as cart_abandonment_rate
{%- endmacro %}
