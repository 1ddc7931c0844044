"""The app's headline figures against the semantic layer's answers (MetricFlow's `mf query`)
for the same filters, on the same warehouse."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from present_helpers import App, Warehouse, open_page

from ecom.metrics import prepare, query

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]

#: headline figure (the app's key) -> the agreed metric of the same name, and how the app writes it
FIGURES = {
    "revenue": lambda v: f"{Decimal(v):,.2f}",
    "orders": lambda v: f"{int(Decimal(v)):,}",
    "average_order_value": lambda v: f"{Decimal(v):,.2f}",
    "buyers": lambda v: f"{int(Decimal(v)):,}",
    "sessions": lambda v: f"{int(Decimal(v)):,}",
    "session_conversion_rate": lambda v: f"{float(v) * 100:.2f}%",
    "cart_abandonment_rate": lambda v: f"{float(v) * 100:.2f}%",
}


def semantic_layer(workdir: Path, where: str | None) -> dict[str, str]:
    (row,) = query(list(FIGURES), [], workdir=workdir, where=where)
    return {metric: FIGURES[metric](row[metric]) for metric in FIGURES}


def headline(page: Any) -> dict[str, str]:
    page.locator(".st-key-kpi-cart_abandonment_rate").wait_for(timeout=30_000)
    return {
        key: page.locator(f'.st-key-kpi-{key} [data-testid="stMetricValue"]').inner_text().strip()
        for key in FIGURES
    }


def test_headline_figures_equal_the_semantic_layer(
    marts_warehouse: Warehouse,
    dashboard_app: App,
    browser: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ECOM_DUCKDB_PATH", str(marts_warehouse.db_path))
    monkeypatch.setenv("ECOM_HOME", str(marts_warehouse.home))
    monkeypatch.delenv("DBT_TARGET", raising=False)
    workdir = prepare(tmp_path / "metricflow")
    day = "{{ TimeDimension('metric_time', 'day') }}"
    for params, where in (
        ("", None),
        ("?from=2019-11-04&to=2019-12-22", f"{day} >= '2019-11-04' and {day} <= '2019-12-22'"),
    ):
        expected = semantic_layer(workdir, where)
        context, page, errors, _ = open_page(browser, dashboard_app.url + "/" + params)
        assert headline(page) == expected, params or "no filter"
        assert errors == []
        context.close()
