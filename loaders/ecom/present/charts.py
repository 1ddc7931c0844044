"""Every chart of the dashboard, declared once as a Vega-Lite spec through Altair.

Each function takes the DataFrame of one :mod:`ecom.present.figures` query (named mart
columns) and returns an Altair chart; the static report and the app render the same specs.
Charts render as SVG (``usermeta.embedOptions``), so their marks are in the page's DOM.
"""

from __future__ import annotations

from typing import Any, cast

import altair as alt
import pandas as pd

#: what every chart function returns: a top-level Vega-Lite chart
Spec = alt.TopLevelMixin

PRIMARY = "#2563eb"
SECOND = "#ea580c"
MONEY = ",.2f"
PCT = ".1%"
#: vega-embed reads this from the spec (the app and the static report alike): SVG, no menu.
EMBED = {"embedOptions": {"renderer": "svg", "actions": False}}

#: RFM segments in the order a reader scans them: best customers first.
RFM_SEGMENT_ORDER = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose",
    "Hibernating",
    "Lost",
]


def _top(chart: Any, title: str, height: int = 260) -> Spec:
    return chart.properties(title=title, width="container", height=height, usermeta=EMBED)


def daily_revenue(sales: pd.DataFrame) -> Spec:
    """Orders per day (bars) and revenue per day (line), on their own axes."""
    base = alt.Chart(sales).encode(x=alt.X("sales_date:T", title=None))
    tip = [
        alt.Tooltip("sales_date:T", title="day"),
        *_numbers("orders", "revenue", "units"),
    ]
    bars = base.mark_bar(color="#93c5fd").encode(y=alt.Y("orders:Q", title="orders"), tooltip=tip)
    line = base.mark_line(color=SECOND).encode(
        y=alt.Y("revenue:Q", title="revenue", axis=alt.Axis(format="~s")), tooltip=tip
    )
    return _top(alt.layer(bars, line).resolve_scale(y="independent"), "Daily revenue and orders")


def funnel(steps: pd.DataFrame) -> Spec:
    """Sessions at each step, any order against strict view → cart → purchase order."""
    return _top(
        alt.Chart(steps)
        .mark_bar()
        .encode(
            y=alt.Y("step:N", sort=alt.SortField("step_index"), title=None),
            yOffset=alt.YOffset("order:N"),
            x=alt.X("sessions:Q", title="sessions"),
            color=alt.Color(
                "order:N",
                scale=alt.Scale(range=[PRIMARY, SECOND]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                "order:N",
                "step:N",
                *_numbers("sessions"),
                alt.Tooltip("share_of_sessions:Q", title="of all sessions", format=PCT),
            ],
        ),
        "Session funnel: any order and strict order",
        height=340,
    )


def cart_abandonment(funnel_daily: pd.DataFrame) -> Spec:
    """The share of carting sessions that ended without a purchase, per day (the mart's rate)."""
    return _top(
        alt.Chart(funnel_daily)
        .mark_line(color=SECOND, point=True)
        .encode(
            x=alt.X("session_date:T", title=None),
            y=alt.Y(
                "cart_abandonment_rate:Q", title="of carting sessions", axis=alt.Axis(format="%")
            ),
            tooltip=[
                alt.Tooltip("session_date:T", title="day"),
                *_numbers(
                    "cart_abandonment_rate", "sessions_with_cart", "sessions_with_abandoned_cart"
                ),
            ],
        )
        .transform_filter("isValid(datum.cart_abandonment_rate)"),
        "Cart abandonment per day",
    )


def sessions_per_day(funnel_daily: pd.DataFrame) -> Spec:
    return _top(
        alt.Chart(funnel_daily)
        .mark_bar(color=PRIMARY)
        .encode(
            x=alt.X("session_date:T", title=None),
            y=alt.Y("sessions:Q", title="sessions"),
            tooltip=[
                alt.Tooltip("session_date:T", title="day"),
                *_numbers("sessions"),
                alt.Tooltip("sessions_with_purchase:Q", title="with a purchase", format=","),
                alt.Tooltip("session_conversion_rate:Q", title="conversion", format=PCT),
            ],
        ),
        "Sessions per day",
        height=200,
    )


def _numbers(*names: str) -> list[Any]:
    """Tooltips of number columns, formatted as their names say: money, rates, counts."""
    return [
        alt.Tooltip(
            f"{n}:Q", format=MONEY if n == "revenue" else PCT if n.endswith("_rate") else ","
        )
        for n in names
    ]


def _hbars(
    frame: pd.DataFrame,
    key: str,
    title: str,
    color: str,
    tips: list[Any],
    *,
    value: str = "revenue",
    fmt: str = "~s",
) -> Spec:
    """Horizontal bars of ``value`` per ``key``, longest first (revenue, by default)."""
    return _top(
        alt.Chart(frame)
        .mark_bar(color=color)
        .encode(
            y=alt.Y(f"{key}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(f"{value}:Q", title=value.replace("_", " "), axis=alt.Axis(format=fmt)),
            tooltip=[f"{key}:N", *tips],
        ),
        title,
        height=110 + 26 * len(frame),  # the app fits title and axes into the height too
    )


def top_categories(categories: pd.DataFrame) -> Spec:
    return _hbars(
        categories,
        "category",
        "Top categories by revenue",
        PRIMARY,
        _numbers("revenue", "orders"),
    )


def top_brands(brands: pd.DataFrame) -> Spec:
    return _hbars(
        brands,
        "brand",
        "Top brands by revenue",
        SECOND,
        _numbers("revenue", "orders"),
    )


def funnel_by(frame: pd.DataFrame, by: str) -> Spec:
    """Session conversion of the categories or brands with most sessions."""
    return _hbars(
        frame,
        "key",
        f"Conversion by {by} (the {len(frame)} with most sessions)",
        PRIMARY if by == "category" else SECOND,
        _numbers(
            "sessions",
            "view_to_cart_rate",
            "cart_to_purchase_rate",
            "session_conversion_rate",
            "cart_abandonment_rate",
        ),
        value="session_conversion_rate",
        fmt="%",
    )


#: the click selection of the product categories chart (the app drills down on it)
PICK_CATEGORY = "pick_category"


def product_categories(categories: pd.DataFrame) -> Spec:
    """Categories by revenue; clicking a bar selects its category (the app drills into it)."""
    pick = alt.selection_point(name=PICK_CATEGORY, fields=["category_key"], on="click")
    chart = _hbars(
        categories.head(20),
        "category",
        "Categories by revenue (product mart): click one for its products",
        PRIMARY,
        _numbers("products", "views", "purchases", "view_to_purchase_rate", "revenue"),
    )
    return (
        cast(alt.Chart, chart)
        .add_params(pick)
        .encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)))
    )


def category_products(products: pd.DataFrame) -> Spec:
    top = products.head(20).assign(product=lambda d: d["product_id"].astype(str))
    return _hbars(
        top,
        "product",
        f"Products of the category by revenue (top {len(top)})",
        SECOND,
        [
            "brand:N",
            *_numbers("views", "carts", "purchases", "view_to_purchase_rate", "revenue"),
        ],
    )


def rfm_segments(segments: pd.DataFrame) -> Spec:
    """Customers per RFM segment (bars) and their revenue (labels), best segments first."""
    order = [s for s in RFM_SEGMENT_ORDER if s in set(segments["segment"])] + sorted(
        set(segments["segment"]) - set(RFM_SEGMENT_ORDER)
    )
    base = alt.Chart(segments).encode(
        y=alt.Y("segment:N", sort=order, title=None),
        x=alt.X("customers:Q", title="customers"),
        tooltip=[
            "segment:N",
            *_numbers("customers", "revenue"),
        ],
    )
    bars = base.mark_bar(color=PRIMARY)
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#374151").encode(
        text=alt.Text("revenue:Q", format=",.0f")
    )
    return _top(
        alt.layer(bars, labels),
        "RFM segments: customers (bars) and their revenue (labels)",
        height=max(120, 26 * len(order)),
    )


def rfm_rules(rules: pd.DataFrame) -> Spec:
    """The segment of each recency score x frequency score cell (the seed the mart is named by)."""
    base = alt.Chart(rules).encode(
        x=alt.X(
            "recency_score:O",
            title="recency score (5 = ordered most recently)",
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y("frequency_score:O", title="frequency score", sort="descending"),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("segment:N", legend=None, scale=alt.Scale(scheme="tableau20")),
        tooltip=["segment:N", "recency_score:O", "frequency_score:O"],
    )
    labels = base.mark_text(fontSize=10, limit=110).encode(text="segment:N")
    return _top(
        alt.layer(cells, labels), "RFM segment rules: recency x frequency score", height=240
    )


def cohort_retention(cohorts: pd.DataFrame) -> Spec:
    """Share of each acquisition month's users active N months later (the mart's retention_rate)."""
    cohorts = cohorts.assign(
        cohort=pd.to_datetime(cohorts["cohort_month"]).dt.strftime("%Y-%m")
        + " · "
        + cohorts["cohort_users"].map("{:,}".format)
    )
    base = alt.Chart(cohorts).encode(
        x=alt.X(
            "months_since_acquisition:O",
            title="months since acquisition",
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y("cohort:O", title="cohort · users"),
    )
    tip = [
        "cohort:O",
        "months_since_acquisition:O",
        *_numbers("cohort_users", "active_users", "retention_rate"),
    ]
    # no colour legend: every cell is labelled with its rate, and a tall gradient
    # legend would squeeze the rows of a short chart
    cells = base.mark_rect().encode(
        color=alt.Color("retention_rate:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=tip,
    )
    labels = base.mark_text(fontSize=10).encode(
        text=alt.Text("retention_rate:Q", format=".0%"),
        color=alt.condition("datum.retention_rate > 0.5", alt.value("white"), alt.value("#1f2937")),
        tooltip=tip,
    )
    return _top(
        alt.layer(cells, labels),
        "Cohort retention: the share of each cohort active N months later",
        height=max(160, 90 + 28 * cohorts["cohort"].nunique()),
    )


def session_comparison(days: pd.DataFrame) -> Spec:
    """Sessions per day as the shop gives them and as 30-minute inactivity sessions."""
    long = days.melt(
        id_vars=["session_date"],
        value_vars=["given_sessions", "inactivity_sessions"],
        var_name="definition",
        value_name="sessions",
    )
    return _top(
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("session_date:T", title=None),
            y=alt.Y("sessions:Q"),
            color=alt.Color(
                "definition:N",
                scale=alt.Scale(range=[PRIMARY, SECOND]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("session_date:T", title="day"),
                "definition:N",
                *_numbers("sessions"),
            ],
        ),
        "Given sessions against 30-minute inactivity sessions",
    )


def live_minutes(minutes: pd.DataFrame) -> Spec:
    """Events per minute by event type, from the live metrics."""
    return _top(
        alt.Chart(minutes)
        .mark_bar()
        .encode(
            x=alt.X("bucket_start:T", title=None),
            y=alt.Y("events:Q", title="events per minute", stack=True),
            color=alt.Color("event_type:N", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("bucket_start:T", title="minute", format="%H:%M"),
                "event_type:N",
                "events:Q",
            ],
        ),
        "Events per minute (the last 30 minutes)",
        height=300,
    )


def live_top(rows: pd.DataFrame, kind: str) -> Spec:
    return _hbars(
        rows,
        "key",
        f"Top {kind} today",
        PRIMARY if kind == "categories" else SECOND,
        [*_numbers("revenue", "units"), "purchases:Q"],
    )
