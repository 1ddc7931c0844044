"""`ecom dashboard serve`: the Streamlit app in Debian's chromium, against the test warehouse."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from present_helpers import LOCAL, App, Warehouse, marks, open_page, wait_for_charts

from ecom.present.panels import of_page

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]

PAGES = ("Overview", "Funnel", "Products", "Customers", "Sessions")
#: the charts a page draws with no filter (the product list needs a category picked)
CHARTS = {
    page: [p.chart_id for p in of_page(page.lower()) if p.chart_id != "category-products"]
    for page in PAGES
}
TIMEOUT = 30_000


def kpi(page: Any, key: str) -> str:
    return str(
        page.locator(f'.st-key-kpi-{key} [data-testid="stMetricValue"]').inner_text()
    ).strip()


def query(db_path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return list(con.execute(sql, params or []).fetchall())
    finally:
        con.close()


def test_every_page_draws_every_chart_locally_and_without_error(
    dashboard_app: App, browser: Any, screenshots: Path
) -> None:
    context, page, errors, fetched = open_page(browser, dashboard_app.url + "/")
    for name in PAGES:
        # when the page is chosen in the sidebar
        page.locator('[data-testid="stSidebarNav"] a', has_text=name).click()
        page.locator('[data-testid="stMain"] h1', has_text=name).wait_for(timeout=TIMEOUT)
        # then each of its charts is drawn with visible marks
        wait_for_charts(page, CHARTS[name])
        assert page.locator('[data-testid="stAlert"]').count() == 0, f"{name}: a panel has no chart"
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshots / f"app-{name.lower()}.png"), full_page=True)
    # and the overview's headline figures are all there
    page.locator('[data-testid="stSidebarNav"] a', has_text="Overview").click()
    page.locator(".st-key-kpi-revenue").wait_for(timeout=TIMEOUT)
    # (the page draws its metrics one after the other: wait for all of them, then count)
    page.locator('[data-testid="stMetric"]').nth(6).wait_for(timeout=TIMEOUT)
    assert page.locator('[data-testid="stMetric"]').count() == 7
    assert errors == []
    outside = [u for u in fetched if not u.startswith(LOCAL)]
    assert outside == [], f"requests outside 127.0.0.1: {outside}"
    assert any(u.startswith("ws://127.0.0.1:") for u in fetched)  # the app's own websocket
    context.close()


def test_a_brand_and_a_date_range_give_that_brands_revenue(
    dashboard_app: App, marts_warehouse: Warehouse, browser: Any
) -> None:
    db = marts_warehouse.db_path
    # given a brand that sold on several days, and a range holding some of them
    (brand,) = query(
        db,
        "select brand from marts.fct_sales_daily_by_brand "
        "where brand <> '(none)' group by brand having count(*) >= 4 "
        "order by count(*) desc, brand limit 1",
    )[0]
    days = [
        r[0]
        for r in query(
            db,
            "select sales_date from marts.fct_sales_daily_by_brand where brand = ? order by 1",
            [brand],
        )
    ]
    start, end = days[1], days[-2]
    (expected,) = query(
        db,
        "select sum(revenue) from marts.fct_sales_daily_by_brand "
        "where brand = ? and sales_date between ? and ?",
        [brand, start, end],
    )[0]
    (everything,) = query(db, "select sum(revenue) from marts.fct_sales_daily")[0]
    context, page, errors, _ = open_page(browser, dashboard_app.url + "/")
    page.locator(".st-key-kpi-revenue").wait_for(timeout=TIMEOUT)
    assert kpi(page, "revenue") == f"{everything:,.2f}"
    # when the brand is picked in the sidebar and the range typed into the date filter
    page.locator(".st-key-f_brand input").click()
    page.keyboard.type(brand)
    page.get_by_role("option", name=brand, exact=True).click()  # not a longer name containing it
    for which, day in (("start", start), ("end", end)):
        page.get_by_role("spinbutton", name=f"year, Dates {which} date").click()
        page.keyboard.type(f"{day:%Y%m%d}")
    page.locator('[data-testid="stMain"] h1').click()  # leaving the field commits the range
    # then the headline revenue is exactly that brand's sales in that range
    text = f"{Decimal(expected):,.2f}"
    page.locator(".st-key-kpi-revenue", has_text=text).wait_for(timeout=TIMEOUT)
    assert kpi(page, "revenue") == text
    # and the address keeps the filters (a shared link opens the same view)
    params = parse_qs(urlsplit(page.url).query)
    assert params == {"brand": [brand], "from": [f"{start:%Y-%m-%d}"], "to": [f"{end:%Y-%m-%d}"]}
    shared, other, _, _ = open_page(browser, page.url)
    other.locator(".st-key-kpi-revenue", has_text=text).wait_for(timeout=TIMEOUT)
    shared.close()
    assert errors == []
    context.close()


def test_drill_down_from_a_category_to_its_products(
    dashboard_app: App, marts_warehouse: Warehouse, browser: Any, screenshots: Path
) -> None:
    context, page, errors, _ = open_page(browser, dashboard_app.url + "/")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Products").click()
    wait_for_charts(page, ["product-categories"])
    # when the biggest category's bar is clicked
    (key,) = query(
        marts_warehouse.db_path,
        "select coalesce(category_code, cast(category_id as varchar)) as k from marts.fct_product_daily "
        "group by k order by sum(revenue) desc nulls last, sum(views) desc, k limit 1",
    )[0]
    marks(page, "product-categories").first.click()
    # then the page lists that category's products with the product mart's figures
    table = page.locator(".st-key-product-table table")
    table.wait_for(timeout=TIMEOUT)
    assert f"category={key}" in page.url
    expected = query(
        marts_warehouse.db_path,
        "select product_id, sum(views), sum(carts), sum(purchases), sum(revenue) "
        "from marts.fct_product_daily where coalesce(category_code, cast(category_id as varchar)) = ? "
        "group by product_id order by sum(revenue) desc nulls last, sum(views) desc, product_id limit 50",
        [key],
    )
    rows = table.locator("tbody tr")
    assert rows.count() == len(expected) > 0
    for i, (product_id, views, carts, purchases, revenue) in enumerate(expected):
        cells = [c.strip() for c in rows.nth(i).locator("td, th").all_inner_texts()]
        assert cells[0] == str(product_id)
        assert cells[2:5] == [f"{views:,}", f"{carts:,}", f"{purchases:,}"]
        assert cells[6] == f"{Decimal(revenue or 0):,.2f}"
    wait_for_charts(page, ["category-products"])
    page.screenshot(path=str(screenshots / "app-products-drilldown.png"), full_page=True)
    assert errors == []
    context.close()


def test_the_app_never_holds_the_warehouse(
    dashboard_app: App, marts_warehouse: Warehouse, browser: Any
) -> None:
    # given the app showing a page (so it has read the warehouse)
    context, page, _, _ = open_page(browser, dashboard_app.url + "/")
    wait_for_charts(page, CHARTS["Overview"])
    # when another process opens the file for writing, as dbt does, then nothing blocks it
    con = duckdb.connect(str(marts_warehouse.db_path))
    con.execute("select 1")
    con.close()
    context.close()


def test_missing_marts_say_what_to_run(
    marts_warehouse: Warehouse, browser: Any, tmp_path: Path
) -> None:
    # given a warehouse without the cohorts mart
    db = tmp_path / "broken.duckdb"
    shutil.copy(marts_warehouse.db_path, db)
    con = duckdb.connect(str(db))
    con.execute("drop table marts.cohorts")
    con.close()
    app = App(db)
    try:
        context, page, errors, _ = open_page(browser, app.url + "/")
        page.locator('[data-testid="stSidebarNav"] a', has_text="Customers").click()
        wait_for_charts(page, ["rfm-segments"])
        # then the cohort panel says what is missing and what to run, with no stack trace
        panel = page.locator(".st-key-chart-cohort-retention")
        panel.get_by_text(re.compile("marts.cohorts is missing")).wait_for(timeout=TIMEOUT)
        assert "ecom dbt build" in panel.inner_text()
        assert "Traceback" not in page.content()
        assert errors == []
        context.close()
    finally:
        app.stop()
    # and with no warehouse at all, every page says how to build one
    app = App(tmp_path / "none.duckdb")
    try:
        context, page, errors, _ = open_page(browser, app.url + "/")
        page.get_by_text(re.compile("No warehouse at .*make demo")).first.wait_for(timeout=TIMEOUT)
        assert "Traceback" not in page.content()
        context.close()
    finally:
        app.stop()
