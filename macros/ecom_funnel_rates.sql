{#-
    The funnel's rate columns from its session counts (sessions, sessions_with_view/_cart/
    _purchase, strict_sessions_with_cart/_purchase, sessions_with_abandoned_cart), shared by
    every funnel mart. `strict_conversion` adds strict_conversion_rate (the daily and overall
    funnels have it); `scale` is the rates' decimals (ecom_rate).
-#}
{% macro ecom_funnel_rates(strict_conversion=false, scale=6) -%}
    {{ ecom_rate('sessions_with_cart', 'sessions_with_view', scale) }} as view_to_cart_rate,
    {{ ecom_rate('sessions_with_purchase', 'sessions_with_cart', scale) }} as cart_to_purchase_rate,
    {{ ecom_rate('sessions_with_purchase', 'sessions', scale) }} as session_conversion_rate,
    {{ ecom_rate('strict_sessions_with_cart', 'sessions_with_view', scale) }} as strict_view_to_cart_rate,
    {{ ecom_rate('strict_sessions_with_purchase', 'strict_sessions_with_cart', scale) }}
        as strict_cart_to_purchase_rate,
    {% if strict_conversion -%}
        {{ ecom_rate('strict_sessions_with_purchase', 'sessions', scale) }} as strict_conversion_rate,
    {% endif -%}
    {{ ecom_rate('sessions_with_abandoned_cart', 'sessions_with_cart', scale) }} as cart_abandonment_rate
{%- endmacro %}
