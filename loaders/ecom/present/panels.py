"""The panels of the dashboard: which query feeds which chart, on which page.

The static report (:mod:`ecom.present.dashboard`) and the app (:mod:`ecom.present.app`)
both draw from this list, so a chart is declared once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from ecom.present import charts as C
from ecom.present import figures as F
from ecom.present.filters import Filters

PAGES = ("overview", "funnel", "products", "customers", "sessions")


@dataclass(frozen=True)
class Panel:
    chart_id: str
    page: str
    #: the marts it reads, named under the chart
    source: str
    data: Callable[[Any, Filters], pd.DataFrame]
    chart: Callable[[pd.DataFrame], Any]

    def build(self, con: Any, filters: Filters) -> PanelResult:
        """The chart under ``filters``, or why there is none (never raises for missing data)."""
        try:
            frame = self.data(con, filters)
        except F.Unavailable as exc:
            return PanelResult(self, None, str(exc))
        if frame.empty:
            return PanelResult(self, None, f"no rows in {self.source} for {filters.describe()}")
        return PanelResult(self, self.chart(frame), "", rows=len(frame))


@dataclass(frozen=True)
class PanelResult:
    panel: Panel
    chart: alt.TopLevelMixin | None
    #: why there is no chart (what to run, or which filter no mart can answer)
    message: str
    rows: int = 0

    def spec(self) -> dict[str, Any]:
        assert self.chart is not None
        return dict(self.chart.to_dict())


def _funnel_by(by: str) -> Panel:
    """The funnel of the categories or the brands with most sessions."""
    return Panel(
        f"funnel-by-{by}",
        "funnel",
        f"fct_funnel_daily_by_{by}",
        lambda con, f: F.funnel_by(con, f, by),
        lambda d: C.funnel_by(d, by),
    )


PANELS = (
    Panel(
        "daily-revenue",
        "overview",
        "fct_sales_daily (by category / brand)",
        F.daily_sales,
        C.daily_revenue,
    ),
    Panel(
        "top-categories",
        "overview",
        "fct_sales_daily_by_category",
        F.top_categories,
        C.top_categories,
    ),
    Panel("top-brands", "overview", "fct_sales_daily_by_brand", F.top_brands, C.top_brands),
    Panel("funnel", "funnel", "fct_funnel_daily (by category / brand)", F.funnel_steps, C.funnel),
    Panel("cart-abandonment", "funnel", "fct_funnel_daily", F.daily_funnel, C.cart_abandonment),
    *(_funnel_by(by) for by in ("category", "brand")),
    Panel(
        "product-categories", "products", F.PRODUCT_MART, F.product_categories, C.product_categories
    ),
    Panel(
        "category-products", "products", F.PRODUCT_MART, F.category_products, C.category_products
    ),
    Panel("rfm-segments", "customers", "customer_rfm, fct_orders", F.rfm_segments, C.rfm_segments),
    Panel(
        "rfm-rules", "customers", "seeds.rfm_segments", lambda con, f: F.rfm_rules(con), C.rfm_rules
    ),
    Panel("cohort-retention", "customers", "cohorts", F.cohort_retention, C.cohort_retention),
    Panel("sessions-per-day", "sessions", "fct_funnel_daily", F.daily_funnel, C.sessions_per_day),
    Panel(
        "session-definitions",
        "sessions",
        "session_definition_comparison",
        F.session_comparison,
        C.session_comparison,
    ),
)

BY_ID = {p.chart_id: p for p in PANELS}


def of_page(page: str) -> list[Panel]:
    return [p for p in PANELS if p.page == page]
