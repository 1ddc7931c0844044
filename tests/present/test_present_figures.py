"""The dashboard's figures under filters (ecom.present.figures) against independent SQL over the marts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from present_helpers import Warehouse

from ecom.present import figures as F
from ecom.present.filters import FilterError, Filters
from ecom.run.reconcile import marts_totals

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]


@pytest.fixture(scope="module")
def con(marts_warehouse: Warehouse) -> Iterator[Any]:
    c = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    yield c
    c.close()


def one(con: Any, sql: str, params: list[Any] | None = None) -> Any:
    return con.execute(sql, params or []).fetchone()[0]


def test_filters_round_trip_through_the_url() -> None:
    f = Filters(
        start=date(2019, 10, 2), end=date(2019, 11, 3), category="a.b", brand="x y", segment="Lost"
    )
    assert f.to_params() == {
        "from": "2019-10-02",
        "to": "2019-11-03",
        "category": "a.b",
        "brand": "x y",
        "segment": "Lost",
    }
    assert Filters.from_params(f.to_params()) == f
    assert Filters.from_params({"brand": " ", "other": "1"}) == Filters()
    with pytest.raises(FilterError, match="not a date"):
        Filters.from_params({"from": "yesterday"})
    with pytest.raises(FilterError, match="starts"):
        Filters.from_params({"from": "2019-11-02", "to": "2019-11-01"})


def test_segments_partition_the_buyers_sales_and_sessions(con: Any) -> None:
    segments = [
        r[0] for r in con.execute("select distinct segment from marts.customer_rfm").fetchall()
    ]
    assert len(segments) >= 3
    figures = [F.headline(con, Filters(segment=s)) for s in segments]
    scored = "select user_id from marts.customer_rfm"
    assert sum(f["revenue"] for f in figures) == one(
        con, f"select sum(revenue) from marts.fct_orders where user_id in ({scored})"
    )
    assert sum(f["orders"] for f in figures) == one(
        con, f"select count(*) from marts.fct_orders where user_id in ({scored})"
    )
    assert sum(f["buyers"] for f in figures) == one(con, "select count(*) from marts.customer_rfm")
    assert sum(f["sessions"] for f in figures) == one(
        con, f"select count(*) from marts.fct_sessions where user_id in ({scored})"
    )


def test_a_segments_cohorts_are_computed_as_the_mart_does(con: Any) -> None:
    segment = one(
        con, "select segment from marts.customer_rfm group by 1 order by count(*) desc limit 1"
    )
    cohorts = F.cohort_retention(con, Filters(segment=segment))
    sizes = dict(
        con.execute(
            "select cohort_month, count(*) from marts.dim_customers where rfm_segment = ? group by 1",
            [segment],
        ).fetchall()
    )
    first = cohorts[cohorts["months_since_acquisition"] == 0]
    assert {r.cohort_month.date(): r.cohort_users for r in first.itertuples()} == sizes
    assert (first["retention_rate"] == 1.0).all()  # everyone is active in their first month
    everyone = F.cohort_retention(con, Filters())
    merged = cohorts.merge(
        everyone, on=["cohort_month", "months_since_acquisition"], suffixes=("", "_all")
    )
    assert len(merged) == len(cohorts)
    assert (merged["active_users"] <= merged["active_users_all"]).all()


def test_a_category_and_a_brand_read_their_marts(con: Any) -> None:
    code, ids = con.execute(
        "select coalesce(category_code, cast(category_id as varchar)) as k, list(distinct category_id) "
        "from marts.dim_products group by k order by count(*) desc limit 1"
    ).fetchone()
    got = F.headline(con, Filters(category=code, start=date(2019, 10, 1), end=date(2019, 12, 31)))
    assert got["revenue"] == one(
        con,
        "select coalesce(sum(revenue), 0) from marts.fct_sales_daily_by_category "
        "where list_contains(?, category_id) and sales_date between '2019-10-01' and '2019-12-31'",
        [ids],
    )
    assert got["buyers"] is None  # no mart holds distinct buyers by category
    brand = one(
        con,
        "select brand from marts.fct_sales_daily_by_brand where brand <> '(none)' "
        "group by 1 order by sum(revenue) desc limit 1",
    )
    assert F.headline(con, Filters(brand=brand))["revenue"] == one(
        con, "select sum(revenue) from marts.fct_sales_daily_by_brand where brand = ?", [brand]
    )
    # together: the product mart answers the product panels, the sales panels say why not
    with pytest.raises(F.Unavailable, match="category and brand"):
        F.headline(con, Filters(category=code, brand=brand))
    top = F.top_brands(con, Filters(category=code))
    assert Decimal(str(top["revenue"].sum())).quantize(Decimal("0.01")) <= Decimal(
        one(
            con,
            "select coalesce(sum(revenue), 0) from marts.fct_product_daily where list_contains(?, category_id)",
            [ids],
        )
    )
    with pytest.raises(F.Unavailable, match="RFM segment and by brand"):
        F.daily_sales(con, Filters(segment="Lost", brand=brand))
    with pytest.raises(F.Unavailable, match="no category 'nope'"):
        F.daily_sales(con, Filters(category="nope"))


def test_whole_period_rates_are_read_from_fct_funnel_overall(
    marts_warehouse: Warehouse, tmp_path: Path
) -> None:
    # given a copy of the warehouse whose fct_funnel_overall says rates no division of the
    # counts gives (a reader that recomputes them would not show these)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(marts_warehouse.db_path, copy)
    with duckdb.connect(str(copy)) as c:
        c.execute(
            "update marts.fct_funnel_overall set view_to_cart_rate = 0.111111111,"
            " cart_to_purchase_rate = 0.222222222, session_conversion_rate = 0.333333333,"
            " cart_abandonment_rate = 0.444444444"
        )
    with duckdb.connect(str(copy), read_only=True) as c:
        # when the dashboard's headline (no filter) and the reconciliation read the figures
        figures = F.headline(c, Filters())
        funnel = marts_totals(c)["funnel"]
        sessions = one(c, "select sum(sessions) from marts.fct_funnel_daily")

    # then they are the mart's columns
    assert figures["session_conversion_rate"] == Decimal("0.333333333")
    assert figures["cart_abandonment_rate"] == Decimal("0.444444444")
    assert figures["sessions"] == sessions
    assert {k: v for k, v in funnel.items() if k.endswith("_rate")} == {
        "view_to_cart_rate": 0.1111,
        "cart_to_purchase_rate": 0.2222,
        "session_conversion_rate": 0.3333,
        "cart_abandonment_rate": 0.4444,
    }


def test_the_overall_funnel_is_the_ratio_of_the_summed_daily_counts(con: Any) -> None:
    # the mart's rates, to four decimals and in the dashboard's hundredths of a percent, are
    # what dividing the whole period's counts gives
    row = con.execute(
        "select sum(sessions), sum(sessions_with_view), sum(sessions_with_cart),"
        " sum(sessions_with_purchase), sum(sessions_with_abandoned_cart)"
        " from marts.fct_funnel_daily"
    ).fetchone()
    sessions, viewed, carted, purchased, abandoned = (int(v) for v in row)
    overall = dict(
        zip(
            (
                "view_to_cart_rate",
                "cart_to_purchase_rate",
                "session_conversion_rate",
                "cart_abandonment_rate",
            ),
            con.execute(
                "select view_to_cart_rate, cart_to_purchase_rate, session_conversion_rate,"
                " cart_abandonment_rate from marts.fct_funnel_overall"
            ).fetchone(),
            strict=True,
        )
    )
    divided = {
        "view_to_cart_rate": carted / viewed,
        "cart_to_purchase_rate": purchased / carted,
        "session_conversion_rate": purchased / sessions,
        "cart_abandonment_rate": abandoned / carted,
    }
    assert min(sessions, viewed, carted, purchased, abandoned) > 0
    for name, value in overall.items():
        assert round(float(value), 4) == round(divided[name], 4), name
        assert f"{float(value) * 100:.2f}" == f"{divided[name] * 100:.2f}", name
        assert abs(value - Decimal(divided[name])) <= Decimal("0.0000000005"), name
