-- Baseline for benchmarks/bench_dbt.py: the warehouse's marts computed by one hand-written
-- DuckDB script (no dbt, no tests), from raw.events into schema `baseline`. Same definitions
-- as the dbt models (docs/warehouse.md); bench_dbt checks the two agree before timing counts.
set timezone = 'UTC';
drop schema if exists baseline cascade;
create schema baseline;

create table baseline.stg_events as
select
    event_id,
    any_value(user_session) as session_id, any_value(product_id) as product_id,
    any_value(category_id) as category_id, any_value(user_id) as user_id,
    any_value(event_type) as event_type, any_value(category_code) as category_code,
    any_value(brand) as brand, any_value(price) as price, count(*) as copies_delivered,
    any_value(event_time) as event_at, min(loaded_at) as loaded_at, max(loaded_at) as last_loaded_at
from raw.events
group by event_id;

create table baseline.events as
with missing as (
    select event_id, user_id, event_at,
        case when event_at - lag(event_at) over w > interval 30 minute
                  or lag(event_at) over w is null then 1 else 0 end as is_start
    from baseline.stg_events where session_id is null
    window w as (partition by user_id order by event_at)
), numbered as (
    select *, sum(is_start) over (partition by user_id order by event_at) as n from missing
), inferred as (
    select event_id,
        md5('inferred|' || user_id || '|' || cast(min(event_at) over (partition by user_id, n) as varchar)) as session_id
    from numbered
)
select e.event_id, coalesce(e.session_id, i.session_id) as session_id, e.session_id is null as is_inferred,
    e.user_id, e.product_id, e.category_id, e.brand, e.event_type, e.price, e.event_at, e.loaded_at
from baseline.stg_events e left join inferred i using (event_id);

-- (time, integer value) packed into one hugeint, so that min/max picks by time, then value
create temp macro packed_by_time(v, t) as
    epoch_us(t)::hugeint * 18446744073709551616::hugeint + v + 9223372036854775808::hugeint;
create temp macro unpacked(p) as
    ((p & 18446744073709551615::hugeint) - 9223372036854775808::hugeint)::bigint;

create table baseline.fct_sessions as
select
    session_id, is_inferred,
    -- first/last by event time, ties broken by the value
    unpacked(min(packed_by_time(user_id, event_at))) as user_id,
    unpacked(min(packed_by_time(product_id, event_at))) as entry_product_id,
    unpacked(max(packed_by_time(product_id, event_at))) as exit_product_id,
    count(*) as event_count,
    count(*) filter (where event_type = 'view') as view_count,
    count(*) filter (where event_type = 'cart') as cart_count,
    count(*) filter (where event_type = 'remove_from_cart') as remove_from_cart_count,
    count(*) filter (where event_type = 'purchase') as purchase_count,
    count(*) filter (where event_type = 'purchase' and price >= 0) as purchased_units,
    count(*) filter (where event_type = 'purchase' and price < 0) as negative_price_purchase_count,
    coalesce(sum(price) filter (where event_type = 'purchase' and price > 0), 0) as revenue,
    min(event_at) as session_started_at, max(event_at) as session_ended_at,
    date_diff('second', min(event_at), max(event_at)) as duration_seconds,
    min(event_at) filter (where event_type = 'view') as first_view_at,
    min(event_at) filter (where event_type = 'cart') as first_cart_at,
    min(event_at) filter (where event_type = 'purchase') as first_purchase_at,
    cast(min(event_at) as date) as session_date,
    max(loaded_at) as last_loaded_at
from baseline.events
group by session_id, is_inferred;

create table baseline.fct_funnel_daily as
select
    d.session_date,
    count(s.session_id) as sessions,
    count(*) filter (where view_count > 0) as sessions_with_view,
    count(*) filter (where cart_count > 0) as sessions_with_cart,
    count(*) filter (where purchase_count > 0) as sessions_with_purchase,
    count(*) filter (where first_cart_at >= first_view_at) as strict_sessions_with_cart,
    count(*) filter (where first_cart_at >= first_view_at and first_purchase_at >= first_cart_at) as strict_sessions_with_purchase,
    count(*) filter (where cart_count > 0 and purchase_count = 0) as sessions_with_abandoned_cart,
    round(sessions_with_cart / nullif(sessions_with_view, 0), 6) as view_to_cart_rate,
    round(sessions_with_purchase / nullif(sessions_with_cart, 0), 6) as cart_to_purchase_rate,
    round(sessions_with_purchase / nullif(count(s.session_id), 0), 6) as session_conversion_rate,
    round(strict_sessions_with_cart / nullif(sessions_with_view, 0), 6) as strict_view_to_cart_rate,
    round(strict_sessions_with_purchase / nullif(strict_sessions_with_cart, 0), 6) as strict_cart_to_purchase_rate,
    round(strict_sessions_with_purchase / nullif(count(s.session_id), 0), 6) as strict_conversion_rate,
    round(sessions_with_abandoned_cart / nullif(sessions_with_cart, 0), 6) as cart_abandonment_rate
from (select unnest(generate_series(min(session_date), max(session_date), interval 1 day))::date as session_date
      from baseline.fct_sessions) d
left join baseline.fct_sessions s using (session_date)
group by d.session_date;

create table baseline.session_categories as
select session_id, category_id, coalesce(brand, '(none)') as brand, event_type, event_at
from baseline.events;

create table baseline.fct_funnel_daily_by_category as
with sc as (
    select session_id, category_id,
        bool_or(event_type = 'view') as v, bool_or(event_type = 'cart') as c, bool_or(event_type = 'purchase') as p,
        min(event_at) filter (where event_type = 'view') as fv, min(event_at) filter (where event_type = 'cart') as fc,
        min(event_at) filter (where event_type = 'purchase') as fp
    from baseline.session_categories group by all
)
select category_id, s.session_date, count(*) as sessions, count(*) filter (where v) as sessions_with_view,
    count(*) filter (where c) as sessions_with_cart, count(*) filter (where p) as sessions_with_purchase,
    count(*) filter (where fc >= fv) as strict_sessions_with_cart,
    count(*) filter (where fc >= fv and fp >= fc) as strict_sessions_with_purchase,
    count(*) filter (where c and not p) as sessions_with_abandoned_cart,
    round(sessions_with_cart / nullif(sessions_with_view, 0), 6) as view_to_cart_rate,
    round(sessions_with_purchase / nullif(sessions_with_cart, 0), 6) as cart_to_purchase_rate,
    round(sessions_with_purchase / count(*), 6) as session_conversion_rate,
    round(sessions_with_abandoned_cart / nullif(sessions_with_cart, 0), 6) as cart_abandonment_rate
from sc join baseline.fct_sessions s using (session_id) group by all;

create table baseline.fct_funnel_daily_by_brand as
with sc as (
    select session_id, brand,
        bool_or(event_type = 'view') as v, bool_or(event_type = 'cart') as c, bool_or(event_type = 'purchase') as p,
        min(event_at) filter (where event_type = 'view') as fv, min(event_at) filter (where event_type = 'cart') as fc,
        min(event_at) filter (where event_type = 'purchase') as fp
    from baseline.session_categories group by all
)
select brand, s.session_date, count(*) as sessions, count(*) filter (where v) as sessions_with_view,
    count(*) filter (where c) as sessions_with_cart, count(*) filter (where p) as sessions_with_purchase,
    count(*) filter (where fc >= fv) as strict_sessions_with_cart,
    count(*) filter (where fc >= fv and fp >= fc) as strict_sessions_with_purchase,
    count(*) filter (where c and not p) as sessions_with_abandoned_cart,
    round(sessions_with_cart / nullif(sessions_with_view, 0), 6) as view_to_cart_rate,
    round(sessions_with_purchase / nullif(sessions_with_cart, 0), 6) as cart_to_purchase_rate,
    round(sessions_with_purchase / count(*), 6) as session_conversion_rate,
    round(sessions_with_abandoned_cart / nullif(sessions_with_cart, 0), 6) as cart_abandonment_rate
from sc join baseline.fct_sessions s using (session_id) group by all;

create table baseline.fct_orders as
select session_id as order_id, session_id, user_id, purchased_units as units, negative_price_purchase_count,
    revenue, cast(first_purchase_at as date) as order_date, first_purchase_at as ordered_at
from baseline.fct_sessions where purchase_count > 0;

create table baseline.fct_sales_daily as
select d.sales_date, count(o.order_id) as orders, coalesce(sum(units), 0) as units,
    count(distinct user_id) as buyers, coalesce(sum(negative_price_purchase_count), 0) as negative_price_purchases,
    coalesce(sum(revenue), 0) as revenue, round(sum(revenue) / nullif(count(o.order_id), 0), 2) as average_order_value
from (select unnest(generate_series(min(order_date), max(order_date), interval 1 day))::date as sales_date
      from baseline.fct_orders) d
left join baseline.fct_orders o on o.order_date = d.sales_date
group by d.sales_date;

create table baseline.purchases as
select e.session_id, e.category_id, coalesce(e.brand, '(none)') as brand, e.user_id, e.price, o.order_date
from baseline.events e join baseline.fct_orders o using (session_id)
where e.event_type = 'purchase';

create table baseline.fct_sales_daily_by_category as
select category_id, order_date as sales_date, count(distinct session_id) as orders,
    count(*) filter (where price >= 0) as units, count(distinct user_id) as buyers,
    count(*) filter (where price < 0) as negative_price_purchases,
    coalesce(sum(price) filter (where price > 0), 0) as revenue
from baseline.purchases group by all;

create table baseline.fct_sales_daily_by_brand as
select brand, order_date as sales_date, count(distinct session_id) as orders,
    count(*) filter (where price >= 0) as units, count(distinct user_id) as buyers,
    count(*) filter (where price < 0) as negative_price_purchases,
    coalesce(sum(price) filter (where price > 0), 0) as revenue
from baseline.purchases group by all;

create table baseline.customer_rfm as
with as_of as (select max(cast(event_at as date)) + 1 as as_of_date from baseline.stg_events),
c as (
    select user_id, count(*) as frequency, sum(revenue) as monetary,
        date_diff('day', max(order_date), any_value(as_of_date)) as recency_days, any_value(as_of_date) as as_of_date,
        max(order_date) as last_order_date
    from baseline.fct_orders, as_of where order_date < as_of_date group by user_id
), scored as (
    select *,
        least(5, 1 + floor(5 * percent_rank() over (order by recency_days desc)))::int as recency_score,
        case when frequency >= 6 then 5 when frequency >= 4 then 4 when frequency >= 3 then 3
             when frequency >= 2 then 2 else 1 end as frequency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by monetary)))::int as monetary_score
    from c
)
select s.*, r.segment, recency_score || frequency_score || monetary_score as rfm_score
from scored s join read_csv('seeds/rfm_segments.csv') r using (recency_score, frequency_score);

create table baseline.cohorts as
with firsts as (
    select user_id, date_trunc('month', min(session_started_at))::date as cohort_month
    from baseline.fct_sessions group by user_id
), sizes as (select cohort_month, count(*) as cohort_users from firsts group by all),
active as (select distinct user_id, date_trunc('month', session_started_at)::date as activity_month from baseline.fct_sessions),
ordered as (
    select user_id, date_trunc('month', ordered_at)::date as activity_month, count(*) as orders, sum(revenue) as revenue
    from baseline.fct_orders group by all
)
select f.cohort_month, a.activity_month, date_diff('month', f.cohort_month, a.activity_month) as months_since_acquisition,
    any_value(cohort_users) as cohort_users, count(*) as active_users, count(o.user_id) as buyers,
    coalesce(sum(o.orders), 0) as orders, coalesce(sum(o.revenue), 0) as revenue,
    round(count(*) / any_value(cohort_users), 6) as retention_rate
from active a join firsts f using (user_id) join sizes using (cohort_month)
left join ordered o on o.user_id = a.user_id and o.activity_month = a.activity_month
group by f.cohort_month, a.activity_month;

create table baseline.dim_customers as
with activity as (
    select user_id, count(*) as session_count, sum(event_count) as event_count,
        min(session_started_at) as first_seen_at, max(session_ended_at) as last_seen_at
    from baseline.fct_sessions group by user_id
), orders as (
    select user_id, count(*) as order_count, sum(units) as units, sum(revenue) as revenue,
        min(ordered_at) as first_ordered_at, max(ordered_at) as last_ordered_at
    from baseline.fct_orders group by user_id
)
select a.*, r.segment as rfm_segment, coalesce(order_count, 0) as order_count, coalesce(o.units, 0) as units,
    coalesce(o.revenue, 0) as revenue, o.user_id is not null as is_buyer,
    date_trunc('month', first_seen_at)::date as cohort_month, first_ordered_at, last_ordered_at
from activity a left join orders o using (user_id) left join baseline.customer_rfm r using (user_id);

create table baseline.dim_products as
select p.*,
    nullif(split_part(category_code, '.', 1), '') as category_level_1,
    nullif(split_part(category_code, '.', 2), '') as category_level_2,
    nullif(split_part(category_code, '.', 3), '') as category_level_3
from (
select product_id,
    max({'o': event_at, 'v': category_id}).v as category_id,
    (max({'o': event_at, 'v': brand}) filter (where brand is not null)).v as brand,
    (max({'o': event_at, 'v': category_code}) filter (where category_code is not null)).v as category_code,
    count(*) as event_count, count(*) filter (where event_type = 'purchase') as purchase_count,
    min(price) filter (where price > 0) as min_price, max(price) filter (where price > 0) as max_price,
    round(avg(price) filter (where price > 0), 2) as avg_price,
    max({'o': event_at, 'v': price}).v as latest_price,
    min(event_at) as first_seen_at, max(event_at) as last_seen_at
from baseline.stg_events group by product_id
) p;

create table baseline.dim_date as
select d as date_day, year(d) as year_number, quarter(d) as quarter_number, month(d) as month_number,
    day(d) as day_of_month, isodow(d) as iso_day_of_week, isodow(d) >= 6 as is_weekend,
    date_trunc('week', d)::date as week_start_date, date_trunc('month', d)::date as month_start_date,
    date_trunc('quarter', d)::date as quarter_start_date
from (select unnest(generate_series(min(event_at)::date, max(event_at)::date, interval 1 day))::date as d
      from baseline.stg_events);

create table baseline.session_definition_comparison as
with ev as (
    select event_id, case when not is_inferred then session_id end as session_id, user_id, event_at,
        case when lag(event_at) over w is null or event_at - lag(event_at) over w > interval 30 minute
             then 1 else 0 end as is_start
    from baseline.events window w as (partition by user_id order by event_at)
), numbered as (
    select *, sum(is_start) over (partition by user_id order by event_at) as n from ev
), given as (
    select cast(min(event_at) as date) as session_date, count(distinct n) as spanned
    from numbered where session_id is not null group by session_id
), inactivity as (
    select cast(min(event_at) as date) as session_date, count(distinct session_id) as spanned
    from numbered group by user_id, n
), g as (
    select session_date, count(*) as given_sessions, count(*) filter (where spanned > 1) as given_sessions_split_by_inactivity
    from given group by all
), i as (
    select session_date, count(*) as inactivity_sessions, count(*) filter (where spanned > 1) as inactivity_sessions_merging_given,
        count(*) filter (where spanned = 1) as inactivity_sessions_matching_one_given
    from inactivity group by all
)
select coalesce(g.session_date, i.session_date) as session_date, coalesce(given_sessions, 0) as given_sessions,
    coalesce(inactivity_sessions, 0) as inactivity_sessions,
    coalesce(given_sessions_split_by_inactivity, 0) as given_sessions_split_by_inactivity,
    coalesce(inactivity_sessions_merging_given, 0) as inactivity_sessions_merging_given,
    coalesce(inactivity_sessions_matching_one_given, 0) as inactivity_sessions_matching_one_given,
    round(inactivity_sessions / nullif(given_sessions, 0), 6) as inactivity_to_given_ratio
from g full outer join i on g.session_date = i.session_date;

drop table baseline.events;
drop table baseline.session_categories;
drop table baseline.purchases;
