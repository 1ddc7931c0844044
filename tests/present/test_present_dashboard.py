"""`ecom dashboard --out`: one offline HTML file whose every chart has data, checked in Debian's chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from present_helpers import Warehouse, guard_requests, has_mart

from ecom.cli import main
from ecom.present.dashboard import APP_ONLY, build_dashboard
from ecom.present.panels import PANELS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]

CHARTS = [p.chart_id for p in PANELS if p.chart_id not in APP_ONLY]


def expected_empty(db_path: Path) -> set[str]:
    """Panels with no chart: only the product mart's, while the warehouse has no product mart."""
    return set() if has_mart(db_path, "fct_product_daily") else {"product-categories"}


@pytest.fixture(scope="module")
def dashboard(marts_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    result = build_dashboard(out, db_path=marts_warehouse.db_path)
    assert result.panels == CHARTS
    assert set(result.empty_panels) == expected_empty(marts_warehouse.db_path)
    return out


def test_every_chart_renders_with_data_offline_in_chromium(
    dashboard: Path, marts_warehouse: Warehouse, browser: Any, screenshots: Path
) -> None:
    # given a page that may fetch nothing but its own file, with no network at all
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    fetched = guard_requests(page, allow=("file://",))
    # when chromium opens the file
    page.goto(dashboard.as_uri())
    page.wait_for_selector("body[data-ready]")
    page.screenshot(path=str(screenshots / "report.png"), full_page=True)
    # then every chart is there, each drawn as SVG with visible marks
    charts = page.eval_on_selector_all("section.panel", "els => els.map(e => e.dataset.chart)")
    assert charts == CHARTS
    empty = set(
        page.eval_on_selector_all("section.panel.empty", "els => els.map(e => e.dataset.chart)")
    )
    assert empty == expected_empty(marts_warehouse.db_path)
    for chart in set(CHARTS) - empty:
        marks = page.locator(f'section[data-chart="{chart}"] svg g.role-mark > path')
        assert marks.count() >= 1, f"{chart} has no marks"
        assert any(
            (box := marks.nth(i).bounding_box()) and box["width"] * box["height"] > 0
            for i in range(min(marks.count(), 20))
        ), f"{chart}: no visible mark"
    assert page.get_attribute("body", "data-ready") == str(len(CHARTS) - len(empty))
    # and nothing failed, and nothing but the file itself was requested
    assert console_errors == []
    assert fetched == [dashboard.as_uri()], f"the page fetched more than itself: {fetched}"
    context.close()


def test_headline_figures_are_the_marts(dashboard: Path, marts_warehouse: Warehouse) -> None:
    con = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    revenue, orders, buyers = con.execute(
        "select sum(revenue), count(*), count(distinct user_id) from marts.fct_orders"
    ).fetchone()  # type: ignore[misc]
    sessions, converted = con.execute(
        "select count(*), count(*) filter (where is_converted) from marts.fct_sessions"
    ).fetchone()  # type: ignore[misc]
    conversion, abandonment = con.execute(
        "select session_conversion_rate, cart_abandonment_rate from marts.fct_funnel_overall"
    ).fetchone()  # type: ignore[misc]
    con.close()
    result = build_dashboard(dashboard.with_name("again.html"), db_path=marts_warehouse.db_path)
    assert result.figures["revenue"] == revenue  # both Decimal: exact
    assert result.figures["orders"] == orders
    assert result.figures["buyers"] == buyers
    assert result.figures["sessions"] == sessions
    # the whole period's rates as the mart computes them, which is the ratio of the counts
    assert result.figures["session_conversion_rate"] == conversion
    assert result.figures["cart_abandonment_rate"] == abandonment
    assert float(conversion) == pytest.approx(converted / sessions, abs=5e-10)
    html = dashboard.read_text()
    assert (
        f'data-kpi="revenue"><div class="name">Revenue</div><div class="value">{revenue:,.2f}<'
        in html
    )
    assert f'<div class="value">{orders:,}<' in html


def test_the_file_is_self_contained(dashboard: Path) -> None:
    html = dashboard.read_text()
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert "vegaEmbed" in html  # the renderer is inlined
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)  # the page outside scripts
    assert not re.search(r"""(src|href)\s*=""", markup)
    assert len(html.encode()) < 3_000_000


def test_no_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dashboard", "--duckdb", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert "no warehouse at" in result.output


def test_cli_writes_the_file_and_prints_its_path(
    marts_warehouse: Warehouse, tmp_path: Path
) -> None:
    out = tmp_path / "sub" / "dash.html"
    result = CliRunner().invoke(
        main, ["dashboard", "--duckdb", str(marts_warehouse.db_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"dashboard: {out.resolve()}" in result.output
    drawn = len(CHARTS) - len(expected_empty(marts_warehouse.db_path))
    assert f"{drawn} of {len(CHARTS)} charts" in result.output
    assert out.read_text().startswith("<!doctype html>")


def test_missing_and_empty_marts_say_what_to_run(
    marts_warehouse: Warehouse, tmp_path: Path
) -> None:
    # given a copy of the warehouse without the cohorts mart and with no brand sales
    db = tmp_path / "broken.duckdb"
    shutil.copy(marts_warehouse.db_path, db)
    con = duckdb.connect(str(db))
    con.execute("drop table marts.cohorts")
    con.execute("delete from marts.fct_sales_daily_by_brand")
    con.close()
    out = tmp_path / "d.html"
    # when the dashboard is built from it
    result = CliRunner().invoke(main, ["dashboard", "--duckdb", str(db), "--out", str(out)])
    # then it is still written; those panels say why they are empty and what to run
    assert result.exit_code == 0, result.output
    assert "warning: no chart for cohort-retention: mart marts.cohorts is missing" in result.output
    assert "ecom dbt build" in result.output
    assert "warning: no chart for top-brands: no rows in fct_sales_daily_by_brand" in result.output
    html = out.read_text()
    assert '<section class="panel empty" data-chart="cohort-retention">' in html
    assert '<section class="panel empty" data-chart="top-brands">' in html
