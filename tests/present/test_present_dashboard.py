"""`ecom dashboard`: one offline HTML file whose every chart has data, checked in Debian's chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from present_helpers import Warehouse

from ecom.cli import main
from ecom.present.dashboard import DASHBOARD_MARTS, build_dashboard
from ecom.present.marts import MissingMartError

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]

CHARTS = [
    "daily-revenue",
    "funnel",
    "cart-abandonment",
    "sessions-per-day",
    "top-categories",
    "top-brands",
    "rfm-segments",
    "cohort-retention",
]


@pytest.fixture(scope="module")
def dashboard(marts_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    result = build_dashboard(out, db_path=marts_warehouse.db_path)
    assert result.panels == CHARTS
    assert result.empty_panels == []
    return out


def test_every_chart_renders_with_data_offline_in_chromium(
    dashboard: Path, browser: Any, artifacts: Path
) -> None:
    # given a page that may fetch nothing but its own file
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched: list[str] = []
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    def guard(route: Any) -> None:
        fetched.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", guard)
    # when chromium opens the file
    page.goto(dashboard.as_uri())
    page.wait_for_selector("body[data-ready]")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    # then every chart is there, none empty, each drawn with visible marks
    charts = page.eval_on_selector_all("section.panel", "els => els.map(e => e.dataset.chart)")
    assert charts == CHARTS
    assert page.locator("section.panel.empty").count() == 0
    for chart in CHARTS:
        marks = page.locator(f'section[data-chart="{chart}"] svg .mark')
        assert marks.count() >= 3, f"{chart} has {marks.count()} marks"
        box = marks.first.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, (
            f"{chart} mark not visible"
        )
        panel = page.locator(f'section[data-chart="{chart}"]').bounding_box()
        assert panel is not None and panel["height"] > 150, f"{chart} panel collapsed"
    # and hovering a mark shows its tip (the page's script ran)
    page.locator('section[data-chart="funnel"] svg .mark').first.hover()
    assert re.search(r"sessions", page.inner_text("#tip"))
    assert console_errors == []
    assert fetched == [dashboard.as_uri()], f"the page fetched more than itself: {fetched}"
    page.close()


def test_headline_figures_are_the_marts(dashboard: Path, marts_warehouse: Warehouse) -> None:
    con = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    revenue, orders = con.execute("select sum(revenue), count(*) from marts.fct_orders").fetchone()  # type: ignore[misc]
    sessions, converted = con.execute(
        "select count(*), count(*) filter (where is_converted) from marts.fct_sessions"
    ).fetchone()  # type: ignore[misc]
    con.close()
    result = build_dashboard(dashboard.with_name("again.html"), db_path=marts_warehouse.db_path)
    assert result.figures["revenue"] == pytest.approx(float(revenue))
    assert result.figures["orders"] == orders
    assert result.figures["sessions"] == sessions
    assert result.figures["session_conversion_rate"] == pytest.approx(converted / sessions)
    html = dashboard.read_text()
    assert f"{float(revenue):,.2f}" in html or f"{float(revenue) / 1000:,.1f}k" in html
    assert f"{orders:,}" in html


def test_the_file_is_self_contained(dashboard: Path) -> None:
    html = dashboard.read_text()
    assert html.count("<script") == 1 and "<script src" not in html
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert len(html.encode()) < 2_000_000


def test_a_missing_mart_is_named(marts_warehouse: Warehouse, tmp_path: Path) -> None:
    # given a copy of the warehouse without the cohorts mart and with a column renamed
    db = tmp_path / "broken.duckdb"
    shutil.copy(marts_warehouse.db_path, db)
    con = duckdb.connect(str(db))
    con.execute("drop table marts.cohorts")
    con.execute("alter table marts.customer_rfm rename column segment to rfm_segment")
    con.close()
    # when the dashboard is built from it, then the error names both
    with pytest.raises(MissingMartError, match=r"marts\.cohorts is missing") as error:
        build_dashboard(tmp_path / "d.html", db_path=db)
    assert "marts.customer_rfm lacks column(s) segment" in str(error.value)
    assert not (tmp_path / "d.html").exists()
    # and the CLI says the same and exits 1
    result = CliRunner().invoke(
        main, ["dashboard", "--duckdb", str(db), "--out", str(tmp_path / "d.html")]
    )
    assert result.exit_code == 1
    assert "marts.cohorts is missing" in result.output and "ecom dbt build" in result.output


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
    assert "8 charts" in result.output
    assert out.read_text().startswith("<!doctype html>")


def test_the_dashboard_reads_only_marts_of_the_public_contract(marts_warehouse: Warehouse) -> None:
    con = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    tables = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    con.close()
    assert set(DASHBOARD_MARTS) <= tables


def test_an_empty_mart_shows_as_an_empty_panel_and_a_warning(
    marts_warehouse: Warehouse, tmp_path: Path
) -> None:
    # given marts where the brand sales are empty
    db = tmp_path / "empty.duckdb"
    shutil.copy(marts_warehouse.db_path, db)
    con = duckdb.connect(str(db))
    con.execute("delete from marts.fct_sales_daily_by_brand")
    con.close()
    out = tmp_path / "d.html"
    # when the dashboard is built
    result = CliRunner().invoke(main, ["dashboard", "--duckdb", str(db), "--out", str(out)])
    # then it is still written, with that panel marked empty, and the CLI warns
    assert result.exit_code == 0, result.output
    assert "warning: no data for top-brands" in result.output
    html = out.read_text()
    assert '<section class="panel empty" data-chart="top-brands">' in html
    assert html.count("panel empty") == 1


def test_axis_ticks_are_round_and_cover_the_peak() -> None:
    from ecom.present.svg import nice_ticks

    assert nice_ticks(980.7) == [0, 250, 500, 750, 1000]
    assert nice_ticks(4) == [0, 1, 2, 3, 4]
    assert nice_ticks(0.87) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0) == [0.0, 1.0]
