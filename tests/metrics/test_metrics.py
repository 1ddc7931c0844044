"""The semantic layer: `mf query` (MetricFlow's own CLI) on a real DuckDB warehouse gives the
marts' own figures at several grains, `mf validate-configs` passes, and the PowerBI measures
and their documentation agree with the metric definitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecom.files import load_files
from ecom.generate import GenerateConfig, generate
from ecom.metrics import AGREED_METRICS, prepare, query, run_mf, semantic_manifest
from ecom.metrics.powerbi import MEASURES_DAX, check, doc_is_current
from ecom.warehouse import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("metrics")]


@dataclass
class Layer:
    db: Path
    workdir: Path


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layer]:
    """~20k generated events, `dbt build`, and the project parsed for MetricFlow."""
    root = tmp_path_factory.mktemp("metrics")
    events = root / "events"
    generate(GenerateConfig(out=events, events=20_000, seed=19))
    db = root / "warehouse.duckdb"
    load_files(sorted(events.glob("*.csv")), db_path=db, quarantine_dir=root / "q")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_HOME", str(root / "home"))
        mp.setenv("ECOM_DUCKDB_PATH", str(db))
        mp.delenv("DBT_TARGET", raising=False)
        common = ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
        assert run_dbt(["build", *common]) == 0
        workdir = prepare(root / "metricflow")
        yield Layer(db=db, workdir=workdir)


#: One `mf query` by month serves several tests (each call costs a few seconds of start-up).
#: The agreed metrics but the view-to-cart and cart-to-purchase rates and churn, in their order.
MONTHLY = [
    m
    for m in AGREED_METRICS
    if m not in {"view_to_cart_rate", "cart_to_purchase_rate", "churn_rate"}
]


@pytest.fixture(scope="module")
def monthly(layer: Layer) -> list[dict[str, str]]:
    return query(MONTHLY, ["metric_time__month"], workdir=layer.workdir)


def marts(layer: Layer, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(layer.db), read_only=True) as con:
        return con.execute(sql).fetchall()


def day(value: str) -> date:
    return date.fromisoformat(value[:10])


def number(value: str) -> Decimal:
    return Decimal(value) if value not in ("", "None") else Decimal(0)


def test_the_agreed_metrics_are_defined(layer: Layer) -> None:
    names = {m["name"] for m in semantic_manifest(layer.workdir)["metrics"]}
    assert set(AGREED_METRICS) <= names


def test_revenue_and_orders_by_month_equal_fct_sales_daily(
    layer: Layer, monthly: list[dict[str, str]]
) -> None:
    # when mf answers the issue's own query (revenue, orders by metric_time__month)
    got = {day(r["metric_time__month"]): (number(r["revenue"]), int(r["orders"])) for r in monthly}
    # then it is fct_sales_daily summed by month
    expected = {
        month: (revenue, orders)
        for month, revenue, orders in marts(
            layer,
            "select date_trunc('month', sales_date)::date, sum(revenue), sum(orders)"
            " from marts.fct_sales_daily group by 1 having sum(orders) > 0",
        )
    }
    assert len(expected) == 5
    assert got == expected


def test_sales_metrics_by_day_equal_fct_sales_daily(layer: Layer) -> None:
    rows = query(
        ["revenue", "orders", "units", "buyers", "average_order_value"],
        ["metric_time__day"],
        workdir=layer.workdir,
    )
    got = {
        day(r["metric_time__day"]): (
            number(r["revenue"]),
            int(r["orders"]),
            int(r["units"]),
            int(r["buyers"]),
        )
        for r in rows
    }
    aov = {day(r["metric_time__day"]): float(r["average_order_value"]) for r in rows}
    expected = {
        d: (revenue, orders, units, buyers)
        for d, revenue, orders, units, buyers in marts(
            layer,
            "select sales_date, revenue, orders, units, buyers"
            " from marts.fct_sales_daily where orders > 0",
        )
    }
    assert len(expected) > 50
    assert got == expected
    # the mart rounds the average order value to cents
    expected_aov = dict(
        marts(
            layer,
            "select sales_date, average_order_value from marts.fct_sales_daily where orders > 0",
        )
    )
    assert aov == pytest.approx({d: float(v) for d, v in expected_aov.items()}, abs=0.0051)


def test_funnel_rates_by_week_equal_fct_funnel_daily(layer: Layer) -> None:
    rates = [
        "sessions",
        "session_conversion_rate",
        "view_to_cart_rate",
        "cart_to_purchase_rate",
        "cart_abandonment_rate",
    ]
    rows = query(rates, ["metric_time__week"], workdir=layer.workdir)
    got = {day(r["metric_time__week"]): [float(r[m]) for m in rates] for r in rows}
    expected = {
        week: [sessions, conversion, view_to_cart, cart_to_purchase, abandonment]
        for week, sessions, conversion, view_to_cart, cart_to_purchase, abandonment in marts(
            layer,
            "select date_trunc('week', session_date)::date, sum(sessions),"
            " sum(sessions_with_purchase) / sum(sessions),"
            " sum(sessions_with_cart) / sum(sessions_with_view),"
            " sum(sessions_with_purchase) / sum(sessions_with_cart),"
            " sum(sessions_with_abandoned_cart) / sum(sessions_with_cart)"
            " from marts.fct_funnel_daily group by 1",
        )
    }
    assert got.keys() == expected.keys() and len(got) > 20
    for week, values in expected.items():
        assert got[week] == pytest.approx([float(v) for v in values], rel=1e-9), week


def test_product_conversion_and_churn_equal_their_marts(
    layer: Layer, monthly: list[dict[str, str]]
) -> None:
    got = {day(r["metric_time__month"]): float(r["product_conversion_rate"]) for r in monthly}
    expected = dict(
        marts(
            layer,
            "select date_trunc('month', event_date)::date, sum(purchases) / sum(views)"
            " from marts.fct_product_daily group by 1",
        )
    )
    assert got == pytest.approx({k: float(v) for k, v in expected.items()}, rel=1e-9)
    # churn per acquisition cohort: the semantic layer against churn_by_cohort
    rows = query(["churn_rate"], ["customer__cohort_month"], workdir=layer.workdir)
    got = {day(r["customer__cohort_month"]): float(r["churn_rate"]) for r in rows}
    expected = dict(marts(layer, "select cohort_month, churn_rate from marts.churn_by_cohort"))
    assert got == pytest.approx({k: float(v) for k, v in expected.items()}, abs=1e-6)
    assert any(v > 0 for v in got.values())


def test_mf_validate_configs_passes_against_the_warehouse(layer: Layer) -> None:
    assert run_mf(["validate-configs"], layer.workdir) == 0


def test_the_dax_measures_and_their_doc_follow_the_metrics(layer: Layer) -> None:
    manifest = semantic_manifest(layer.workdir)
    dax = MEASURES_DAX.read_text()
    assert check(manifest, dax) == []
    assert doc_is_current(manifest), "docs/powerbi.md is stale: run `ecom metrics powerbi-doc`"
    # a measure that drifts from its metric is caught
    drifted = dax.replace(
        "DIVIDE ( [Abandoned Cart Sessions], [Sessions with Cart] )",
        "DIVIDE ( [Abandoned Cart Sessions], [Session Count] )",
    )
    assert drifted != dax
    assert check(manifest, drifted) == [
        "metric cart_abandonment_rate: [Cart Abandonment Rate] is DIVIDE ( [Abandoned Cart"
        " Sessions], [Session Count] ), expected DIVIDE ( [Abandoned Cart Sessions],"
        " [Sessions with Cart] )"
    ]
    assert check(manifest, dax.replace("MEASURE customer_churn[Churn Rate]", "MEASURE x[y]")) == [
        "metric churn_rate: DAX measure [Churn Rate] is not defined"
    ]


def test_the_dashboard_headline_shows_the_semantic_layer_figures(
    layer: Layer, monthly: list[dict[str, str]]
) -> None:
    from ecom.present.figures import headline
    from ecom.present.filters import Filters

    wanted = [m for m in MONTHLY if m != "product_conversion_rate"]  # the headline's eight
    # the whole range (no grouping), and November alone
    (total,) = query(wanted, [], workdir=layer.workdir)
    (november,) = [r for r in monthly if r["metric_time__month"].startswith("2019-11-01")]
    with duckdb.connect(str(layer.db), read_only=True) as con:
        shown_total = headline(con, Filters())
        shown_november = headline(con, Filters(start=date(2019, 11, 1), end=date(2019, 11, 30)))
    for mf, shown in ((total, shown_total), (november, shown_november)):
        assert number(mf["revenue"]) == shown["revenue"]
        for count in ("orders", "units", "buyers", "sessions"):
            assert int(mf[count]) == shown[count], count
        assert float(mf["average_order_value"]) == pytest.approx(
            float(shown["average_order_value"]), abs=0.0051
        )
        for rate in ("session_conversion_rate", "cart_abandonment_rate"):
            # the marts hold rates to nine decimals (fct_funnel_overall): half a unit of the last
            assert float(mf[rate]) == pytest.approx(float(shown[rate]), abs=5.1e-10), rate
