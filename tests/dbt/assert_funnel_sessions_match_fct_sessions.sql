-- Reconciliation: the sessions of fct_funnel_daily, day by day, are the rows of fct_sessions
-- (and the converted ones are the orders). Returns the days that disagree.

with

funnel as (

    select
        session_date,
        sessions,
        sessions_with_purchase
    from {{ ref('fct_funnel_daily') }}

),

sessions_per_day as (

    select
        session_date,
        count(*) as sessions,
        sum(case when is_converted then 1 else 0 end) as sessions_with_purchase
    from {{ ref('fct_sessions') }}
    group by session_date

)

select
    coalesce(funnel.session_date, sessions_per_day.session_date) as session_date,
    funnel.sessions as funnel_sessions,
    sessions_per_day.sessions as fct_sessions_rows
from funnel
full outer join sessions_per_day
    on funnel.session_date = sessions_per_day.session_date
where
    coalesce(funnel.sessions, 0) != coalesce(sessions_per_day.sessions, 0)
    or coalesce(funnel.sessions_with_purchase, 0) != coalesce(sessions_per_day.sessions_with_purchase, 0)
