"""The figures of the dashboard, read from the marts by name, narrowed by :class:`Filters`.

Every function takes an open (read-only) DuckDB connection and the filters, and returns a
pandas DataFrame with named columns, or raises :class:`Unavailable` when no mart can answer
under those filters (e.g. sales by RFM segment *and* brand: no mart holds both), with a
sentence the page shows instead of a chart. Each filter picks the mart that holds it:

===================  ================================  =================================
filters              sales                             sessions / funnel
===================  ================================  =================================
none (or dates)      fct_sales_daily                   fct_funnel_daily
category             fct_sales_daily_by_category       fct_funnel_daily_by_category
brand                fct_sales_daily_by_brand          fct_funnel_daily_by_brand
category and brand   fct_product_daily                 (none)
RFM segment          fct_orders ⨝ customer_rfm         fct_sessions ⨝ customer_rfm
===================  ================================  =================================

Rates of one mart row are read as the mart computes them; a rate over several rows (a date
range, several categories) is the ratio of the summed counts, as the semantic layer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from ecom.present.filters import Filters
from ecom.present.marts import MARTS_SCHEMA as M
from ecom.present.marts import MissingMartError, mart_columns

TOP_N = 10
#: a category as the filter names it: its code, else its id (a code may cover several ids)
CATEGORY_KEY = "coalesce({p}category_code, cast({id} as varchar))"
#: a category as a chart labels it
CATEGORY_LABEL = "coalesce({p}category_code, '(no code) …' || right(cast({id} as varchar), 6))"
NO_BRAND = "(none)"
PRODUCT_MART = "fct_product_daily"


class Unavailable(Exception):
    """No mart answers this panel under these filters (the message says why, or what to run)."""


@dataclass(frozen=True)
class Query:
    sql: str
    params: tuple[Any, ...] = ()


def _dates(column: str, f: Filters) -> Query:
    sql, params = [], []
    if f.start:
        sql.append(f"{column} >= ?")
        params.append(f.start)
    if f.end:
        sql.append(f"{column} <= ?")
        params.append(f.end)
    return Query(" and ".join(sql) or "true", tuple(params))


def _frame(con: Any, q: Query) -> pd.DataFrame:
    return con.execute(q.sql, list(q.params)).df()


def need(con: Any, *marts: str) -> None:
    """Raise :class:`Unavailable` naming the marts (of ``marts``) the warehouse lacks."""
    present = mart_columns(con)
    missing = [m for m in marts if m not in present]
    if missing:
        raise Unavailable(
            f"mart {', '.join(f'{M}.{m}' for m in missing)} is missing: "
            "build the marts with `ecom dbt build` (or `make demo`)"
        )


def category_ids(con: Any, category: str) -> list[int]:
    """The category ids of a category code or id (a code may name several ids)."""
    need(con, "dim_products")
    rows = con.execute(
        f"select distinct category_id from {M}.dim_products "
        "where category_code = ? or cast(category_id as varchar) = ? order by 1",
        [category, category],
    ).fetchall()
    if not rows:
        raise Unavailable(f"no category {category!r} in {M}.dim_products")
    return [int(r[0]) for r in rows]


def _in(ids: list[int]) -> str:
    return "(" + ", ".join(str(int(i)) for i in ids) + ")"


def _no_segment_with_products(f: Filters, what: str) -> None:
    if f.segment and f.product_filters:
        raise Unavailable(
            f"no mart holds {what} by RFM segment and by {' and '.join(f.product_filters)}: "
            "clear one of those filters"
        )


# -- sales -----------------------------------------------------------------------------------


def sales_source(con: Any, f: Filters) -> Query:
    """One row per day: sales_date, orders, units, revenue (decimal), under the filters."""
    _no_segment_with_products(f, "sales")
    if f.segment:
        need(con, "fct_orders", "customer_rfm")
        d = _dates("o.order_date", f)
        return Query(
            f"select o.order_date as sales_date, count(*) as orders, sum(o.units) as units, "
            f"sum(o.revenue) as revenue from {M}.fct_orders as o "
            f"join {M}.customer_rfm as r on o.user_id = r.user_id "
            f"where r.segment = ? and {d.sql} group by o.order_date",
            (f.segment, *d.params),
        )
    d = _dates("sales_date", f)
    if f.category and f.brand:
        raise Unavailable(
            "no mart counts orders by category and brand together: the products page "
            "shows that category's products of that brand"
        )
    if f.category:
        need(con, "fct_sales_daily_by_category")
        ids = category_ids(con, f.category)
        return Query(
            "select sales_date, sum(orders) as orders, sum(units) as units, sum(revenue) as revenue "
            f"from {M}.fct_sales_daily_by_category where category_id in {_in(ids)} and {d.sql} "
            "group by sales_date",
            d.params,
        )
    if f.brand:
        need(con, "fct_sales_daily_by_brand")
        return Query(
            "select sales_date, orders, units, revenue "
            f"from {M}.fct_sales_daily_by_brand where brand = ? and {d.sql}",
            (f.brand, *d.params),
        )
    need(con, "fct_sales_daily")
    return Query(
        f"select sales_date, orders, units, revenue from {M}.fct_sales_daily where {d.sql}",
        d.params,
    )


def daily_sales(con: Any, f: Filters) -> pd.DataFrame:
    q = sales_source(con, f)
    return _frame(con, Query(f"select * from ({q.sql}) order by sales_date", q.params))


# -- sessions and the funnel -----------------------------------------------------------------

FUNNEL_COUNTS = (
    "sessions",
    "sessions_with_view",
    "sessions_with_cart",
    "sessions_with_purchase",
    "strict_sessions_with_cart",
    "strict_sessions_with_purchase",
    "sessions_with_abandoned_cart",
)
FUNNEL_RATES = (
    "view_to_cart_rate",
    "cart_to_purchase_rate",
    "session_conversion_rate",
    "cart_abandonment_rate",
)
_RATE_OF = {
    "view_to_cart_rate": ("sessions_with_cart", "sessions_with_view"),
    "cart_to_purchase_rate": ("sessions_with_purchase", "sessions_with_cart"),
    "session_conversion_rate": ("sessions_with_purchase", "sessions"),
    "cart_abandonment_rate": ("sessions_with_abandoned_cart", "sessions_with_cart"),
}


def _ratio(num: str, den: str) -> str:
    return f"case when sum({den}) > 0 then sum({num}) / sum({den}) end"


def _summed_funnel(table: str, where: str) -> str:
    counts = ", ".join(f"sum({c}) as {c}" for c in FUNNEL_COUNTS)
    rates = ", ".join(f"{_ratio(*_RATE_OF[r])} as {r}" for r in FUNNEL_RATES)
    return (
        f"select session_date, {counts}, {rates} from {table} where {where} group by session_date"
    )


def funnel_source(con: Any, f: Filters) -> Query:
    """One row per day: session_date, the funnel counts and rates, under the filters."""
    _no_segment_with_products(f, "sessions")
    columns = ", ".join(("session_date", *FUNNEL_COUNTS, *FUNNEL_RATES))
    if f.segment:
        need(con, "fct_sessions", "customer_rfm")
        d = _dates("s.session_date", f)
        flags = {
            "sessions_with_view": "has_view",
            "sessions_with_cart": "has_cart",
            "sessions_with_purchase": "is_converted",
            "strict_sessions_with_cart": "is_strict_view_to_cart",
            "strict_sessions_with_purchase": "is_strict_view_to_cart_to_purchase",
            "sessions_with_abandoned_cart": "is_cart_abandoned",
        }
        counted = ", ".join(f"count(*) filter (where s.{flag}) as {c}" for c, flag in flags.items())
        per_session = (
            f"select s.session_date, count(*) as sessions, {counted} from {M}.fct_sessions as s "
            f"join {M}.customer_rfm as r on s.user_id = r.user_id "
            f"where r.segment = ? and {d.sql} group by s.session_date"
        )
        return Query(_summed_funnel(f"({per_session})", "true"), (f.segment, *d.params))
    d = _dates("session_date", f)
    if f.category and f.brand:
        raise Unavailable("no mart counts sessions by category and brand together")
    if f.category:
        need(con, "fct_funnel_daily_by_category")
        ids = category_ids(con, f.category)
        where = f"category_id in {_in(ids)} and {d.sql}"
        if len(ids) == 1:
            return Query(
                f"select {columns} from {M}.fct_funnel_daily_by_category where {where}", d.params
            )
        return Query(_summed_funnel(f"{M}.fct_funnel_daily_by_category", where), d.params)
    if f.brand:
        need(con, "fct_funnel_daily_by_brand")
        return Query(
            f"select {columns} from {M}.fct_funnel_daily_by_brand where brand = ? and {d.sql}",
            (f.brand, *d.params),
        )
    need(con, "fct_funnel_daily")
    return Query(f"select {columns} from {M}.fct_funnel_daily where {d.sql}", d.params)


def daily_funnel(con: Any, f: Filters) -> pd.DataFrame:
    q = funnel_source(con, f)
    return _frame(con, Query(f"select * from ({q.sql}) order by session_date", q.params))


def funnel_steps(con: Any, f: Filters) -> pd.DataFrame:
    """The funnel over the range: order (any / strict), step, step_index, sessions, share of the first step."""
    q = funnel_source(con, f)
    sums = ", ".join(f"coalesce(sum({c}), 0) as {c}" for c in FUNNEL_COUNTS)
    row = con.execute(f"select {sums} from ({q.sql})", list(q.params)).fetchone()
    t = dict(zip(FUNNEL_COUNTS, (int(v) for v in row), strict=True))
    steps = []
    for order, cart, purchase in (
        ("any order", "sessions_with_cart", "sessions_with_purchase"),
        ("strict order", "strict_sessions_with_cart", "strict_sessions_with_purchase"),
    ):
        for i, (step, column) in enumerate(
            (
                ("sessions", "sessions"),
                ("viewed", "sessions_with_view"),
                ("carted", cart),
                ("purchased", purchase),
            )
        ):
            steps.append({"order": order, "step": step, "step_index": i, "sessions": t[column]})
    out = pd.DataFrame(steps)
    first = out.groupby("order")["sessions"].transform("max")
    out["share_of_sessions"] = (out["sessions"] / first.where(first > 0)).fillna(0.0)
    return out


# -- headline figures ------------------------------------------------------------------------


def headline(con: Any, f: Filters) -> dict[str, Any]:
    """Revenue (Decimal), orders, units, average order value, buyers, sessions and the rates."""
    s = sales_source(con, f)
    revenue, orders, units = con.execute(
        f"select coalesce(sum(revenue), 0), coalesce(sum(orders), 0), coalesce(sum(units), 0) from ({s.sql})",
        list(s.params),
    ).fetchone()
    sessions, conversion, abandonment = funnel_headline(con, f)
    revenue = Decimal(revenue)
    out: dict[str, Any] = {
        "revenue": revenue,
        "orders": int(orders),
        "units": int(units),
        "average_order_value": (revenue / orders).quantize(Decimal("0.01")) if orders else None,
        "buyers": buyers(con, f),
        "sessions": int(sessions),
        "session_conversion_rate": conversion,
        "cart_abandonment_rate": abandonment,
    }
    return out


def funnel_headline(con: Any, f: Filters) -> tuple[int, Any, Any]:
    """Sessions, session conversion and cart abandonment over the filtered range.

    With no filter, the whole period's figures as fct_funnel_overall computes them; under a
    filter no mart holds the range, so the rates are the ratios of the summed counts
    (``_RATE_OF``, as for every figure over several mart rows).
    """
    if f == Filters():
        need(con, "fct_funnel_overall")
        sql = (
            "select sessions, session_conversion_rate, cart_abandonment_rate "
            f"from {M}.fct_funnel_overall"
        )
        sessions, conversion, abandonment = con.execute(sql).fetchone()
        return int(sessions), conversion, abandonment
    q = funnel_source(con, f)
    rates = ", ".join(
        _ratio(*_RATE_OF[r]) for r in ("session_conversion_rate", "cart_abandonment_rate")
    )
    sessions, conversion, abandonment = con.execute(
        f"select coalesce(sum(sessions), 0), {rates} from ({q.sql})", list(q.params)
    ).fetchone()
    return int(sessions), conversion, abandonment


def buyers(con: Any, f: Filters) -> int | None:
    """Distinct buying users in the range (None under a category or brand filter: no mart holds them)."""
    if f.product_filters:
        return None
    need(con, "fct_orders")
    d = _dates("o.order_date", f)
    join, params = "", list(d.params)
    if f.segment:
        join = f"join {M}.customer_rfm as r on o.user_id = r.user_id and r.segment = ?"
        params = [f.segment, *params]
    row = con.execute(
        f"select count(distinct o.user_id) from {M}.fct_orders as o {join} where {d.sql}", params
    ).fetchone()
    return int(row[0])


# -- categories, brands and products ---------------------------------------------------------


def top_categories(con: Any, f: Filters, n: int = TOP_N) -> pd.DataFrame:
    """category_key (the filter's value), category (a label), revenue, orders (None from the product mart)."""
    if f.segment:
        raise Unavailable("no mart holds sales by category and RFM segment")
    if f.brand:
        return _product_mart_top(con, f, "category", n)
    need(con, "fct_sales_daily_by_category", "dim_products")
    d = _dates("s.sales_date", f)
    narrow = f"and s.category_id in {_in(category_ids(con, f.category))}" if f.category else ""
    return _frame(
        con,
        Query(
            f"""
            with codes as (
                select category_id, max(category_code) as category_code
                from {M}.dim_products group by category_id
            )
            select {CATEGORY_KEY.format(p="codes.", id="s.category_id")} as category_key,
                   {CATEGORY_LABEL.format(p="codes.", id="s.category_id")} as category,
                   sum(s.revenue) as revenue, sum(s.orders) as orders
            from {M}.fct_sales_daily_by_category as s
            left join codes on s.category_id = codes.category_id
            where {d.sql} {narrow}
            group by all
            having sum(s.revenue) > 0
            order by revenue desc, category_key
            limit {int(n)}
            """,
            d.params,
        ),
    )


def top_brands(con: Any, f: Filters, n: int = TOP_N) -> pd.DataFrame:
    """brand, revenue, orders; products without a brand are left out."""
    if f.segment:
        raise Unavailable("no mart holds sales by brand and RFM segment")
    if f.category:
        return _product_mart_top(con, f, "brand", n)
    need(con, "fct_sales_daily_by_brand")
    d = _dates("sales_date", f)
    narrow, params = ("and brand = ?", (f.brand, *d.params)) if f.brand else ("", d.params)
    return _frame(
        con,
        Query(
            f"""
            select brand, sum(revenue) as revenue, sum(orders) as orders
            from {M}.fct_sales_daily_by_brand
            where brand <> '{NO_BRAND}' {narrow} and {d.sql}
            group by brand having sum(revenue) > 0
            order by revenue desc, brand limit {int(n)}
            """,
            params,
        ),
    )


def _product_where(con: Any, f: Filters, alias: str = "") -> Query:
    p = f"{alias}." if alias else ""
    d = _dates(f"{p}event_date", f)
    sql, params = [d.sql], list(d.params)
    if f.category:
        sql.append(f"{p}category_id in {_in(category_ids(con, f.category))}")
    if f.brand:
        sql.append(f"coalesce({p}brand, '{NO_BRAND}') = ?")
        params.append(f.brand)
    return Query(" and ".join(sql), tuple(params))


def _product_mart_top(con: Any, f: Filters, by: str, n: int) -> pd.DataFrame:
    need(con, PRODUCT_MART)
    w = _product_where(con, f)
    key = (
        f"{CATEGORY_KEY.format(p='', id='category_id')} as category_key, "
        f"any_value({CATEGORY_LABEL.format(p='', id='category_id')}) as category"
        if by == "category"
        else "brand"
    )
    group = "category_key" if by == "category" else "brand"
    extra = "and brand is not null" if by == "brand" else ""
    return _frame(
        con,
        Query(
            f"select {key}, sum(revenue) as revenue, null as orders from {M}.{PRODUCT_MART} "
            f"where {w.sql} {extra} group by {group} having sum(revenue) > 0 "
            f"order by revenue desc, {group} limit {int(n)}",
            w.params,
        ),
    )


def product_categories(con: Any, f: Filters) -> pd.DataFrame:
    """Categories (drill-down level 1) from the product mart: views, carts, purchases, revenue, rates."""
    if f.segment:
        raise Unavailable("the product mart is not split by RFM segment")
    need(con, PRODUCT_MART)
    w = _product_where(con, f.without("category"))
    return _frame(
        con,
        Query(
            f"""
            select {CATEGORY_KEY.format(p="", id="category_id")} as category_key,
                   any_value({CATEGORY_LABEL.format(p="", id="category_id")}) as category,
                   count(distinct product_id) as products,
                   sum(views) as views, sum(carts) as carts, sum(purchases) as purchases,
                   sum(units) as units, sum(revenue) as revenue,
                   {_ratio("purchases", "views")} as view_to_purchase_rate
            from {M}.{PRODUCT_MART} where {w.sql}
            group by category_key order by revenue desc nulls last, views desc, category_key
            """,
            w.params,
        ),
    )


def category_products(con: Any, f: Filters, limit: int = 200) -> pd.DataFrame:
    """The products of the filtered category (drill-down level 2), best-selling first."""
    if not f.category:
        raise Unavailable("pick a category to list its products")
    if f.segment:
        raise Unavailable("the product mart is not split by RFM segment")
    need(con, PRODUCT_MART)
    w = _product_where(con, f)
    return _frame(
        con,
        Query(
            f"""
            select product_id, max(brand) as brand, max(category_code) as category_code,
                   sum(views) as views, sum(carts) as carts, sum(purchases) as purchases,
                   sum(units) as units, sum(revenue) as revenue,
                   {_ratio("carts", "views")} as view_to_cart_rate,
                   {_ratio("purchases", "views")} as view_to_purchase_rate
            from {M}.{PRODUCT_MART} where {w.sql}
            group by product_id order by revenue desc nulls last, views desc, product_id
            limit {int(limit)}
            """,
            w.params,
        ),
    )


def funnel_by(con: Any, f: Filters, by: str, n: int = TOP_N) -> pd.DataFrame:
    """The funnel of the n categories (or brands) with most sessions: key, sessions and rates."""
    other = "brand" if by == "category" else "category"
    if f.segment or getattr(f, other):
        raise Unavailable(
            f"no mart holds the funnel by {by} and {'RFM segment' if f.segment else other} together"
        )
    d = _dates("f.session_date", f)
    where, params = [d.sql], list(d.params)
    rates = ", ".join(f"{_ratio('f.' + a, 'f.' + b)} as {r}" for r, (a, b) in _RATE_OF.items())
    if by == "category":
        need(con, "fct_funnel_daily_by_category", "dim_products")
        if f.category:
            where.append(f"f.category_id in {_in(category_ids(con, f.category))}")
        key = f"any_value({CATEGORY_LABEL.format(p='c.', id='f.category_id')})"
        source = (
            f"{M}.fct_funnel_daily_by_category as f left join (select category_id, "
            f"max(category_code) as category_code from {M}.dim_products group by category_id) as c "
            "on f.category_id = c.category_id"
        )
        group = CATEGORY_KEY.format(p="c.", id="f.category_id")
    else:
        need(con, "fct_funnel_daily_by_brand")
        where.append(f"f.brand <> '{NO_BRAND}'")
        if f.brand:
            where.append("f.brand = ?")
            params.append(f.brand)
        key, source, group = "f.brand", f"{M}.fct_funnel_daily_by_brand as f", "f.brand"
    return _frame(
        con,
        Query(
            f"select {key} as key, sum(f.sessions) as sessions, "
            f"sum(f.sessions_with_purchase) as sessions_with_purchase, {rates} "
            f"from {source} where {' and '.join(where)} "
            f"group by {group} order by sessions desc, {group} limit {int(n)}",
            tuple(params),
        ),
    )


# -- customers -------------------------------------------------------------------------------


def rfm_segments(con: Any, f: Filters) -> pd.DataFrame:
    """segment, customers, revenue: all buyers as scored, or those who ordered in the range."""
    if f.product_filters:
        raise Unavailable("RFM segments are scored over whole orders, not by category or brand")
    need(con, "customer_rfm", "fct_orders")
    seg, params = ("and r.segment = ?", [f.segment]) if f.segment else ("", [])
    if not (f.start or f.end):
        return _frame(
            con,
            Query(
                f"select r.segment, count(*) as customers, sum(r.monetary) as revenue "
                f"from {M}.customer_rfm as r where true {seg} group by r.segment",
                tuple(params),
            ),
        )
    d = _dates("o.order_date", f)
    return _frame(
        con,
        Query(
            f"select r.segment, count(distinct o.user_id) as customers, sum(o.revenue) as revenue "
            f"from {M}.fct_orders as o join {M}.customer_rfm as r on o.user_id = r.user_id "
            f"where {d.sql} {seg} group by r.segment",
            (*d.params, *params),
        ),
    )


def rfm_rules(con: Any) -> pd.DataFrame:
    """The segment of every (recency score, frequency score) pair: the seed the mart is named by."""
    try:
        return _frame(
            con,
            Query(
                "select recency_score, frequency_score, segment from seeds.rfm_segments order by 1, 2"
            ),
        )
    except Exception as exc:  # duckdb.CatalogException: the seed is not loaded
        raise Unavailable("seed seeds.rfm_segments is missing: run `ecom dbt build`") from exc


def rfm_as_of(con: Any) -> Any:
    need(con, "customer_rfm")
    return con.execute(f"select max(as_of_date) from {M}.customer_rfm").fetchone()[0]


def cohort_retention(con: Any, f: Filters) -> pd.DataFrame:
    """cohort_month, months_since_acquisition, cohort_users, active_users, retention_rate.

    The cohorts mart's rows; under an RFM segment, the same figures computed as the mart
    does (cohort = month of first session, active = a session that month) for the users of
    that segment (dim_customers.rfm_segment).
    """
    if f.product_filters:
        raise Unavailable("cohorts are of users, not split by category or brand")
    where, params = ["true"], []
    if f.start:
        where.append("cohort_month >= date_trunc('month', cast(? as date))")
        params.append(f.start)
    if f.end:
        where.append("cohort_month <= ?")
        params.append(f.end)
    columns = "cohort_month, months_since_acquisition, cohort_users, active_users, retention_rate"
    if not f.segment:
        need(con, "cohorts")
        return _frame(
            con,
            Query(
                f"select {columns} from {M}.cohorts where {' and '.join(where)} "
                "order by cohort_month, months_since_acquisition",
                tuple(params),
            ),
        )
    need(con, "dim_customers", "fct_sessions")
    return _frame(
        con,
        Query(
            f"""
            with members as (
                select user_id, cohort_month from {M}.dim_customers where rfm_segment = ?
            ),
            sizes as (select cohort_month, count(*) as cohort_users from members group by cohort_month),
            active as (
                select distinct s.user_id, cast(date_trunc('month', s.session_started_at) as date) as month
                from {M}.fct_sessions as s join members on s.user_id = members.user_id
            ),
            counted as (
                select m.cohort_month, cast(datediff('month', m.cohort_month, a.month) as integer)
                           as months_since_acquisition,
                       any_value(sizes.cohort_users) as cohort_users, count(*) as active_users
                from active as a
                join members as m on a.user_id = m.user_id
                join sizes on m.cohort_month = sizes.cohort_month
                group by m.cohort_month, a.month
            )
            select {columns.replace("retention_rate", "active_users / cohort_users as retention_rate")}
            from counted where {" and ".join(where)}
            order by cohort_month, months_since_acquisition
            """,
            (f.segment, *params),
        ),
    )


# -- session definitions ---------------------------------------------------------------------


def session_comparison(con: Any, f: Filters) -> pd.DataFrame:
    """Per day: given_sessions, inactivity_sessions, inactivity_to_given_ratio (the mart's)."""
    if f.product_filters or f.segment:
        raise Unavailable(
            "the session definition comparison is built from all events: it is not split by "
            "category, brand or RFM segment"
        )
    need(con, "session_definition_comparison")
    d = _dates("session_date", f)
    return _frame(
        con,
        Query(
            "select session_date, given_sessions, inactivity_sessions, given_sessions_split_by_inactivity, "
            "inactivity_sessions_merging_given, inactivity_to_given_ratio "
            f"from {M}.session_definition_comparison where {d.sql} order by session_date",
            d.params,
        ),
    )


# -- options for the filter widgets ----------------------------------------------------------


def filter_options(con: Any) -> dict[str, Any]:
    """The date span, categories, brands and segments there are to choose from."""
    present = mart_columns(con)
    out: dict[str, Any] = {"span": None, "categories": [], "brands": [], "segments": []}
    if "fct_sales_daily" in present:
        out["span"] = con.execute(
            f"select min(sales_date), max(sales_date) from {M}.fct_sales_daily"
        ).fetchone()
    choices = {
        "categories": (
            "dim_products",
            f"select coalesce(category_code, cast(category_id as varchar)) as c from {M}.dim_products "
            "group by c order by count(*) desc, c",
        ),
        "brands": (
            "fct_sales_daily_by_brand",
            f"select brand from {M}.fct_sales_daily_by_brand group by brand "
            "order by sum(revenue) desc nulls last, brand",
        ),
        "segments": ("customer_rfm", f"select distinct segment from {M}.customer_rfm order by 1"),
    }
    for name, (mart, sql) in choices.items():
        if mart in present:
            out[name] = [r[0] for r in con.execute(sql).fetchall()]
    return out


__all__ = ["MissingMartError", "Unavailable"]
