"""``ecom dashboard``: one self-contained HTML file drawn from the marts.

The page holds inline SVG charts built here (see :mod:`ecom.present.svg`), its own CSS
and a few lines of JavaScript for hover tips: no CDN, no font or script to fetch, so it
opens offline from disk. It reads the marts of the local DuckDB warehouse read-only; a
mart or column the dashboard needs that is missing stops the build with a message that
names it (run ``ecom dbt build`` first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from ecom.present import svg
from ecom.present.marts import MARTS_SCHEMA, connect_marts, require_marts

#: The marts and columns the dashboard reads (names from the public contract of the marts).
DASHBOARD_MARTS: dict[str, tuple[str, ...]] = {
    "fct_sales_daily": ("sales_date", "orders", "units", "revenue", "buyers"),
    "fct_funnel_daily": (
        "session_date",
        "sessions",
        "sessions_with_view",
        "sessions_with_cart",
        "sessions_with_purchase",
        "strict_sessions_with_cart",
        "strict_sessions_with_purchase",
        "sessions_with_abandoned_cart",
    ),
    "fct_sales_daily_by_category": ("category_id", "sales_date", "orders", "revenue"),
    "fct_sales_daily_by_brand": ("brand", "sales_date", "orders", "revenue"),
    "dim_products": ("category_id", "category_code"),
    "customer_rfm": ("user_id", "segment", "monetary", "frequency", "recency_days"),
    "cohorts": (
        "cohort_month",
        "months_since_acquisition",
        "cohort_users",
        "active_users",
        "retention_rate",
    ),
}

#: RFM segments in the order a reader scans them: best customers first.
RFM_SEGMENT_ORDER = (
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
)

TOP_N = 10
NO_BRAND = "(none)"


@dataclass(frozen=True)
class Panel:
    """One chart of the page."""

    chart_id: str
    title: str
    subtitle: str
    svg: str
    wide: bool = False


@dataclass
class DashboardResult:
    path: Path
    panels: list[str]
    figures: dict[str, float] = field(default_factory=dict)
    empty_panels: list[str] = field(default_factory=list)


def _rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return list(con.execute(sql.replace("{marts}", MARTS_SCHEMA)).fetchall())


def _f(x: Any) -> float:
    return float(x) if x is not None else 0.0


def collect_panels(con: Any) -> tuple[list[Panel], dict[str, float], tuple[date, date] | None]:
    """Query the marts and draw every chart. Returns the panels, headline figures and date span."""
    panels: list[Panel] = []

    # -- sales per day ---------------------------------------------------------------------------
    sales = _rows(
        con,
        "select sales_date, orders, revenue, units, buyers from {marts}.fct_sales_daily order by sales_date",
    )
    days = [r[0] for r in sales]
    orders = [_f(r[1]) for r in sales]
    revenue = [_f(r[2]) for r in sales]
    total_orders, total_revenue = sum(orders), sum(revenue)
    panels.append(
        Panel(
            "daily-revenue",
            "Daily revenue and orders",
            f"{svg.fmt_money(total_revenue)} revenue from {svg.fmt_int(total_orders)} orders "
            f"(average order value {svg.fmt_money(total_revenue / total_orders if total_orders else 0)}); "
            "source: fct_sales_daily",
            svg.daily_bars_and_line(
                days, orders, revenue, bar_name="orders", line_name="revenue", width=svg.WIDE_WIDTH
            ),
            wide=True,
        )
    )

    # -- funnel ----------------------------------------------------------------------------------
    funnel = _rows(
        con,
        """
        select session_date, sessions, sessions_with_view, sessions_with_cart, sessions_with_purchase,
               strict_sessions_with_cart, strict_sessions_with_purchase, sessions_with_abandoned_cart
        from {marts}.fct_funnel_daily order by session_date
        """,
    )
    f_days = [r[0] for r in funnel]
    totals = [sum(_f(r[i]) for r in funnel) for i in range(1, 8)]
    sessions, with_view, with_cart, with_purchase, strict_cart, strict_purchase, abandoned = totals

    def rate(a: float, b: float) -> float:
        return a / b if b else 0.0

    steps = [
        ("all sessions", sessions, ""),
        ("with a view", with_view, f"{svg.fmt_pct(rate(with_view, sessions))} of sessions"),
        ("with a cart", with_cart, f"{svg.fmt_pct(rate(with_cart, with_view))} of viewing"),
        (
            "with a purchase",
            with_purchase,
            f"{svg.fmt_pct(rate(with_purchase, with_cart))} of carting",
        ),
    ]
    panels.append(
        Panel(
            "funnel",
            "Session funnel",
            f"any order: view→cart {svg.fmt_pct(rate(with_cart, with_view))}, cart→purchase "
            f"{svg.fmt_pct(rate(with_purchase, with_cart))}, conversion {svg.fmt_pct(rate(with_purchase, sessions))}; "
            f"strict view→cart→purchase order: {svg.fmt_pct(rate(strict_cart, with_view))}, "
            f"{svg.fmt_pct(rate(strict_purchase, strict_cart))}; source: fct_funnel_daily",
            svg.hbars(
                [s[0] for s in steps],
                [s[1] for s in steps],
                name="sessions",
                notes=[s[2] for s in steps],
                tips=[
                    f"{label}: {svg.fmt_int(value)} sessions" + (f" ({note})" if note else "")
                    for label, value, note in steps
                ],
                label_width=130,
                row=34,
            ),
        )
    )

    # -- cart abandonment per week ---------------------------------------------------------------
    weekly: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in funnel:
        week = date.fromordinal(r[0].toordinal() - r[0].weekday())
        weekly[week][0] += _f(r[7])
        weekly[week][1] += _f(r[3])
    weeks = [w for w in sorted(weekly) if weekly[w][1] > 0]
    panels.append(
        Panel(
            "cart-abandonment",
            "Cart abandonment",
            f"{svg.fmt_pct(rate(abandoned, with_cart))} of the {svg.fmt_int(with_cart)} sessions with a cart "
            "ended without a purchase; weekly (weeks start on Monday); source: fct_funnel_daily",
            svg.line_over_periods(
                weeks,
                [weekly[w][0] / weekly[w][1] for w in weeks],
                name="of carting sessions abandoned",
            ),
        )
    )

    # -- sessions per day ------------------------------------------------------------------------
    panels.append(
        Panel(
            "sessions-per-day",
            "Sessions per day",
            f"{svg.fmt_int(sessions)} sessions over {len(f_days)} days, "
            f"{svg.fmt_int(with_purchase)} of them with a purchase; source: fct_funnel_daily",
            svg.daily_bars(
                f_days,
                [_f(r[1]) for r in funnel],
                name="sessions",
                width=svg.WIDE_WIDTH,
                height=200,
            ),
            wide=True,
        )
    )

    # -- top categories and brands ---------------------------------------------------------------
    categories = _rows(
        con,
        f"""
        with codes as (
            select category_id, max(category_code) as category_code
            from {{marts}}.dim_products group by category_id
        )
        select s.category_id, codes.category_code, sum(s.revenue) as revenue, sum(s.orders) as orders
        from {{marts}}.fct_sales_daily_by_category as s
        left join codes on s.category_id = codes.category_id
        group by s.category_id, codes.category_code
        order by revenue desc, s.category_id
        limit {TOP_N}
        """,
    )
    cat_labels = [r[1] or f"category …{str(r[0])[-6:]}" for r in categories]
    panels.append(
        Panel(
            "top-categories",
            f"Top {len(categories)} categories by revenue",
            "category code where the shop gives one, else the end of the category id; "
            "source: fct_sales_daily_by_category, dim_products",
            svg.hbars(
                cat_labels,
                [_f(r[2]) for r in categories],
                name="revenue",
                fmt=svg.fmt_money,
                tips=[
                    f"{r[1] or 'category'} {r[0]}: {svg.fmt_money(_f(r[2]))} revenue, {svg.fmt_int(_f(r[3]))} orders"
                    for r in categories
                ],
            ),
        )
    )
    brands = _rows(
        con,
        f"""
        select brand, sum(revenue) as revenue, sum(orders) as orders
        from {{marts}}.fct_sales_daily_by_brand
        where brand <> '{NO_BRAND}'
        group by brand order by revenue desc, brand limit {TOP_N}
        """,
    )
    unbranded = _rows(
        con,
        f"select coalesce(sum(case when brand = '{NO_BRAND}' then revenue end), 0), "
        "coalesce(sum(revenue), 0) from {marts}.fct_sales_daily_by_brand",
    )[0]
    panels.append(
        Panel(
            "top-brands",
            f"Top {len(brands)} brands by revenue",
            f"products without a brand, not ranked here, took {svg.fmt_pct(rate(_f(unbranded[0]), _f(unbranded[1])))} "
            "of revenue; source: fct_sales_daily_by_brand",
            svg.hbars(
                [r[0] for r in brands],
                [_f(r[1]) for r in brands],
                name="revenue",
                fmt=svg.fmt_money,
                color=svg.SECOND,
                tips=[
                    f"{r[0]}: {svg.fmt_money(_f(r[1]))} revenue, {svg.fmt_int(_f(r[2]))} orders"
                    for r in brands
                ],
            ),
        )
    )

    # -- RFM segments ----------------------------------------------------------------------------
    rfm = {
        r[0]: (_f(r[1]), _f(r[2]))
        for r in _rows(
            con,
            "select segment, count(*), sum(monetary) from {marts}.customer_rfm group by segment",
        )
    }
    segments = [s for s in RFM_SEGMENT_ORDER if s in rfm] + sorted(
        s for s in rfm if s not in RFM_SEGMENT_ORDER
    )
    buyers = sum(v[0] for v in rfm.values())
    empty_segments = [s for s in RFM_SEGMENT_ORDER if s not in rfm]
    panels.append(
        Panel(
            "rfm-segments",
            "RFM segments: customers and revenue",
            f"{svg.fmt_int(buyers)} buying customers scored on recency, frequency and monetary value"
            + (f"; no customer in {', '.join(empty_segments)}" if empty_segments else "")
            + "; source: customer_rfm",
            svg.paired_hbars(
                segments,
                [rfm[s][0] for s in segments],
                [rfm[s][1] for s in segments],
                left_name="customers",
                right_name="revenue",
                width=svg.WIDE_WIDTH,
            ),
            wide=True,
        )
    )

    # -- cohort retention ------------------------------------------------------------------------
    cohort_rows = _rows(
        con,
        """
        select cohort_month, months_since_acquisition, cohort_users, active_users, retention_rate
        from {marts}.cohorts order by cohort_month, months_since_acquisition
        """,
    )
    months = sorted({r[0] for r in cohort_rows})
    size = {r[0]: int(r[2]) for r in cohort_rows}
    max_offset = max((int(r[1]) for r in cohort_rows), default=0)
    cells = {
        (months.index(r[0]), int(r[1])): (
            _f(r[4]),
            f"cohort {r[0]:%b %Y} ({int(r[2]):,} users), month {int(r[1])}: "
            f"{int(r[3]):,} active ({svg.fmt_pct(_f(r[4]))})",
        )
        for r in cohort_rows
    }
    panels.append(
        Panel(
            "cohort-retention",
            "Cohort retention",
            "users by month of first session (rows) and the share active N months later (columns); "
            "source: cohorts",
            svg.heatmap(
                [f"{m:%b %Y} · {size[m]:,}" for m in months],
                [f"+{k}" for k in range(max_offset + 1)],
                cells,
                name="retention by acquisition cohort",
                width=svg.WIDE_WIDTH,
            ),
            wide=True,
        )
    )

    figures = {
        "revenue": total_revenue,
        "orders": total_orders,
        "average_order_value": total_revenue / total_orders if total_orders else 0.0,
        "sessions": sessions,
        "session_conversion_rate": rate(with_purchase, sessions),
        "cart_abandonment_rate": rate(abandoned, with_cart),
        "buyers": buyers,
    }
    span_days = days + f_days
    span = (min(span_days), max(span_days)) if span_days else None
    return panels, figures, span


def _chart_is_empty(panel: Panel) -> bool:
    return 'class="mark"' not in panel.svg


KPIS = (
    ("revenue", "Revenue", lambda x: f"{x:,.2f}"),
    ("orders", "Orders", svg.fmt_int),
    ("average_order_value", "Average order value", svg.fmt_money),
    ("sessions", "Sessions", svg.fmt_int),
    ("session_conversion_rate", "Session conversion", svg.fmt_pct),
    ("cart_abandonment_rate", "Cart abandonment", svg.fmt_pct),
    ("buyers", "Buying customers", svg.fmt_int),
)

CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: var(--bg); }
header { padding: 20px 28px 8px; }
h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; padding: 12px 28px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi .name { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 22px; font-weight: 600; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 8px 28px 28px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { margin: 0; font-size: 16px; }
.panel p { margin: 2px 0 8px; color: var(--muted); font-size: 12.5px; }
.panel.empty { border-color: #dc2626; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
svg { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; }
svg .lbl { font-size: 12px; fill: #374151; }
svg .val { font-size: 11px; fill: #374151; }
svg .tick { font-size: 10.5px; fill: #6b7280; }
svg .head { font-size: 12px; font-weight: 600; fill: #374151; }
svg .cell { font-size: 10.5px; }
svg .mark:hover { opacity: .75; }
#tip { position: fixed; pointer-events: none; background: #111827; color: #fff; font-size: 12px;
       padding: 4px 8px; border-radius: 4px; display: none; max-width: 360px; z-index: 10; }
footer { padding: 0 28px 24px; color: var(--muted); font-size: 12px; }
"""

# Hover tips: the only script on the page, written here and inlined.
SCRIPT = """
(function () {
  var tip = document.getElementById('tip');
  document.querySelectorAll('svg .mark').forEach(function (mark) {
    var title = mark.querySelector('title');
    if (title) { title.remove(); }
    mark.addEventListener('mousemove', function (e) {
      tip.textContent = mark.getAttribute('data-tip');
      tip.style.display = 'block';
      tip.style.left = (e.clientX + 12) + 'px';
      tip.style.top = (e.clientY + 12) + 'px';
    });
    mark.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  });
  document.body.setAttribute('data-ready', String(document.querySelectorAll('.panel').length));
})();
"""


def render_page(
    panels: list[Panel], figures: dict[str, float], span: tuple[date, date] | None, source: str
) -> str:
    """The whole page as one HTML string."""
    span_text = f"{span[0]:%d %b %Y} – {span[1]:%d %b %Y}" if span else "no data"
    kpis = "".join(
        f'<div class="kpi" data-kpi="{key}"><div class="name">{escape(name)}</div>'
        f'<div class="value">{escape(fmt(figures.get(key, 0.0)))}</div></div>'
        for key, name, fmt in KPIS
    )
    sections = []
    for p in panels:
        classes = "panel" + (" wide" if p.wide else "") + (" empty" if _chart_is_empty(p) else "")
        body = p.svg if not _chart_is_empty(p) else '<p class="nodata">No data in this mart.</p>'
        sections.append(
            f'<section class="{classes}" data-chart="{p.chart_id}"><h2>{escape(p.title)}</h2>'
            f"<p>{escape(p.subtitle)}</p>{body}</section>"
        )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>ecom: e-commerce clickstream marts</title>"
        f"<style>{CSS}</style></head><body>"
        "<header><h1>E-commerce clickstream: the marts at a glance</h1>"
        f"<p>{escape(span_text)} · schema <code>{MARTS_SCHEMA}</code> of {escape(source)}</p></header>"
        f'<div class="kpis">{kpis}</div>'
        f"<main>{''.join(sections)}</main>"
        "<footer>Built by <code>ecom dashboard</code> from the dbt marts; one file, no network. "
        "Metric definitions are in the dbt docs site (<code>ecom docs serve</code>).</footer>"
        f'<div id="tip"></div><script>{SCRIPT}</script></body></html>\n'
    )


def build_dashboard(out: Path, *, db_path: Path | None = None) -> DashboardResult:
    """Write the dashboard to ``out`` from the marts of the warehouse at ``db_path``."""
    with connect_marts(db_path) as (con, source):
        require_marts(con, DASHBOARD_MARTS)
        panels, figures, span = collect_panels(con)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(panels, figures, span, source), encoding="utf-8")
    return DashboardResult(
        path=out,
        panels=[p.chart_id for p in panels],
        figures=figures,
        empty_panels=[p.chart_id for p in panels if _chart_is_empty(p)],
    )
