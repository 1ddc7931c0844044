{#-
    The inactivity-session rule, as a column expression: 1 when an event starts a new
    session (the user's first event, or one more than `ecom__session_inactivity_minutes` after
    the user's previous event `previous_at`), else 0. A running sum of it numbers the sessions.
    The window needs no tie-breaker after event_at: of a user's events at the same instant,
    whichever comes first gets the previous instant, the others a gap of 0 (never a start), so
    every order of them gives each the same session number.
-#}
{% macro ecom_is_inactivity_start(previous_at, event_at) -%}
    case
        when {{ previous_at }} is null then 1
        when
            {{ dbt.datediff(previous_at, event_at, 'second') }}
            > {{ var('ecom__session_inactivity_minutes') | int * 60 }}
            then 1
        else 0
    end
{%- endmacro %}
