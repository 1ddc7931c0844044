-- Reconciliation: fct_funnel_overall is one row whose sessions and converted sessions are
-- those of fct_sessions. Returns the row when it disagrees (or a row when there are several).

with

overall as (

    select
        count(*) over () as overall_rows,
        sessions,
        sessions_with_purchase
    from {{ ref('fct_funnel_overall') }}

),

fct_sessions as (

    select
        count(*) as sessions,
        sum(case when is_converted then 1 else 0 end) as sessions_with_purchase
    from {{ ref('fct_sessions') }}

)

select
    overall.overall_rows,
    overall.sessions as overall_sessions,
    fct_sessions.sessions as fct_sessions_rows
from overall
cross join fct_sessions
where
    overall.overall_rows != 1
    or overall.sessions != fct_sessions.sessions
    or overall.sessions_with_purchase != coalesce(fct_sessions.sessions_with_purchase, 0)
