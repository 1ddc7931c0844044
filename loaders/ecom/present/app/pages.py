"""The pages of `ecom dashboard serve`: overview, funnel, products, customers, sessions.

Each page draws panels of :mod:`ecom.present.panels` under the sidebar's filters. Every
panel sits in a container keyed ``chart-<id>`` (so its element has the class
``st-key-chart-<id>``), and says why when it has no chart.
"""

from __future__ import annotations

from typing import Any, cast

import streamlit as st

from ecom.present import charts as C
from ecom.present import figures as F
from ecom.present.app.state import ALL, drill_into
from ecom.present.filters import Filters
from ecom.present.kpis import count, formatted, money, pct
from ecom.present.panels import BY_ID


def show(con: Any, filters: Filters, chart_id: str, **chart_args: Any) -> bool:
    """Draw one panel; False (and its reason shown) when it has no chart."""
    panel = BY_ID[chart_id]
    with st.container(key=f"chart-{chart_id}", border=True):
        result = panel.build(con, filters)
        if result.chart is None:
            st.info(result.message)
            return False
        st.altair_chart(cast(Any, result.chart), width="stretch", **chart_args)
        st.caption(f"source: {panel.source}")
        return True


def side_by_side(con: Any, filters: Filters, left: str, right: str) -> None:
    """Two panels in two columns."""
    left_column, right_column = st.columns(2)
    with left_column:
        show(con, filters, left)
    with right_column:
        show(con, filters, right)


def headline(con: Any, filters: Filters) -> None:
    with st.container(key="headline"):
        try:
            figures = F.headline(con, filters)
        except F.Unavailable as exc:
            st.info(str(exc))
            return
        rows = formatted(figures)
        columns = [*st.columns(4), *st.columns(4)]
        for column, (key, label, text) in zip(columns, rows, strict=False):
            with column.container(key=f"kpi-{key}"):
                st.metric(label, text)


def overview(con: Any, filters: Filters) -> None:
    st.title("Overview")
    headline(con, filters)
    show(con, filters, "daily-revenue")
    side_by_side(con, filters, "top-categories", "top-brands")


def funnel(con: Any, filters: Filters) -> None:
    st.title("Funnel")
    st.markdown(
        "A session *views*, *carts* and *purchases* in **any order**, or in **strict order** "
        "(a view before the cart, the cart before the purchase)."
    )
    side_by_side(con, filters, "funnel", "cart-abandonment")
    side_by_side(con, filters, "funnel-by-category", "funnel-by-brand")


def _on_pick() -> None:
    picked = st.session_state.get("pick-chart", {}).get("selection", {}).get(C.PICK_CATEGORY) or []
    if picked and picked[0].get("category_key"):
        drill_into(str(picked[0]["category_key"]))


def products(con: Any, filters: Filters) -> None:
    st.title("Products")
    if not filters.category:
        st.markdown(
            "Click a category's bar to list its products, or pick it under **Category** in the sidebar."
        )
        show(con, filters, "product-categories", key="pick-chart", on_select=_on_pick)
        return
    st.button(
        f"← all categories (leave {filters.category})",
        on_click=drill_into,
        args=(ALL,),
        key="drill-up",
    )
    st.subheader(f"Products of {filters.category}")
    if show(con, filters, "category-products"):
        table = F.category_products(con, filters)
        shown = table.head(50)
        with st.container(key="product-table"):
            st.table(
                shown.assign(
                    product_id=shown["product_id"].astype(str),
                    brand=shown["brand"].fillna(""),
                    views=shown["views"].map(count),
                    carts=shown["carts"].map(count),
                    purchases=shown["purchases"].map(count),
                    view_to_purchase_rate=shown["view_to_purchase_rate"].map(
                        lambda x: "" if x != x or x is None else pct(x)
                    ),
                    revenue=shown["revenue"].map(lambda x: money(0 if x != x else round(x, 2))),
                )[
                    [
                        "product_id",
                        "brand",
                        "views",
                        "carts",
                        "purchases",
                        "view_to_purchase_rate",
                        "revenue",
                    ]
                ],
                hide_index=True,
            )
        st.caption(
            f"{len(shown)} of {len(table)} products, best-selling first; source: {F.PRODUCT_MART}"
        )


RFM_RULES = """
**How customers are scored** (as of {as_of}, over all their orders): *recency* is the
quintile of days since the last order (5 = most recent), *frequency* the order count
(1 order = 1, 2 = 2, 3 = 3, 4-5 = 4, 6 or more = 5), *monetary* the quintile of total spend.
The thresholds are the dbt var `ecom__rfm_frequency_thresholds` (default 2, 3, 4, 6).
The segment is named by the recency and frequency scores, as the rules chart shows
(the `rfm_segments` seed).
"""


def customers(con: Any, filters: Filters) -> None:
    st.title("Customers")
    try:
        as_of = F.rfm_as_of(con)
    except F.Unavailable:
        as_of = "the last event"
    st.markdown(RFM_RULES.format(as_of=as_of))
    if filters.start or filters.end:
        st.caption("With a date range: the customers who ordered in it, and their revenue in it.")
    side_by_side(con, filters, "rfm-segments", "rfm-rules")
    show(con, filters, "cohort-retention")


def sessions(con: Any, filters: Filters) -> None:
    st.title("Sessions")
    st.markdown(
        "The shop's own sessions (`user_session`) against sessions cut after 30 minutes "
        "without an event; the marts use the shop's."
    )
    show(con, filters, "sessions-per-day")
    if show(con, filters, "session-definitions"):
        days = F.session_comparison(con, filters)
        given, inactivity = (
            int(days["given_sessions"].sum()),
            int(days["inactivity_sessions"].sum()),
        )
        with st.container(key="session-totals"):
            a, b, c = st.columns(3)
            a.metric("Given sessions", count(given))
            b.metric("Inactivity sessions", count(inactivity))
            c.metric("Inactivity per given", f"{inactivity / given:.3f}" if given else "n/a")
