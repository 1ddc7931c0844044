"""Real `dbt build` runs on DuckDB: generated data (checked against the generator's ground truth),
the real REES46 sample (checked against DuckDB reading the CSV files directly), and the Redshift
compile (every compiled model parsed by sqlglot's Redshift dialect)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecom.files import load_files
from ecom.generate import GROUND_TRUTH_FILE, GenerateConfig, generate
from ecom.present.charts import RFM_SEGMENT_ORDER
from ecom.warehouse import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

#: every segment customer_rfm may assign: the ones the dashboard knows how to order
SEGMENTS = set(RFM_SEGMENT_ORDER)


def dbt(workdir: Path, db: Path, *args: str) -> int:
    """Run dbt against the DuckDB file ``db`` with target and logs under ``workdir``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_DUCKDB_PATH", str(db))
        return run_dbt(
            [*args, "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
        )


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, Any]]]:
    """~30k generated rows loaded twice (the second load must change nothing), then `dbt build`."""
    work = tmp_path_factory.mktemp("dbt-generated")
    events = work / "events"
    generate(GenerateConfig(out=events, events=30_000, seed=11))
    db = work / "warehouse.duckdb"
    first = load_files(sorted(events.glob("*.csv")), db_path=db, quarantine_dir=work / "q")
    again = load_files(sorted(events.glob("*.csv")), db_path=db, quarantine_dir=work / "q")
    assert first.read == first.loaded and first.rejected == 0
    assert again.files == 0 and len(again.skipped_files) == 5
    assert dbt(work, db, "build") == 0
    assert dbt(work, db, "source", "freshness") == 0
    truth = json.loads((events / GROUND_TRUTH_FILE).read_text())
    con = duckdb.connect(str(db), read_only=True)
    yield con, truth
    con.close()


def test_staging_has_one_row_per_distinct_event_with_its_copies(generated: Any) -> None:
    con, truth = generated
    raw, staged, copies = one(
        con,
        "select (select count(*) from raw.events), count(*), sum(copies_delivered)"
        " from staging.stg_events",
    )
    assert raw == truth["rows"]
    assert staged == truth["distinct_events"]
    assert copies == truth["rows"]
    assert truth["duplicate_rows"] > 0  # the data set exercises deduplication


def test_daily_events_and_revenue_match_ground_truth(generated: Any) -> None:
    con, truth = generated
    got = {
        str(day): (events, float(revenue))
        for day, events, revenue in con.execute(
            "select event_date, count(*),"
            " sum(case when event_type = 'purchase' and price > 0 then price else 0 end)"
            " from staging.stg_events group by event_date"
        ).fetchall()
    }
    expected = {
        d["date"]: (d["distinct_events"], d["revenue"]) for d in truth["daily"] if d["rows"]
    }
    assert got.keys() == expected.keys()
    for day, (events, revenue) in expected.items():
        assert got[day][0] == events, day
        assert got[day][1] == pytest.approx(revenue, abs=0.005), day


def test_sessions_orders_and_revenue_match_ground_truth(generated: Any) -> None:
    con, truth = generated
    given, converted, inferred_events = one(
        con,
        "select count(*) filter (where not is_session_inferred),"
        " count(*) filter (where is_converted and not is_session_inferred),"
        " coalesce(sum(event_count) filter (where is_session_inferred), 0) from marts.fct_sessions",
    )
    assert given == truth["sessions"]
    assert converted == truth["sessions_with_purchase"]
    missing = one(con, "select count(*) from staging.stg_events where is_missing_session")
    assert inferred_events == missing
    orders, units, revenue, negative = one(
        con,
        "select sum(orders), sum(units), sum(revenue), sum(negative_price_purchases)"
        " from marts.fct_sales_daily",
    )
    assert orders == one(con, "select count(*) from marts.fct_sessions where is_converted")
    assert float(revenue) == pytest.approx(truth["revenue"], abs=0.005)
    assert units + negative == truth["purchases"]
    assert negative == truth["negative_price_purchases"]
    # the breakdowns add up to the same units and revenue
    for mart in ("fct_sales_daily_by_category", "fct_sales_daily_by_brand"):
        by_units, by_revenue = one(con, f"select sum(units), sum(revenue) from marts.{mart}")
        assert (by_units, by_revenue) == (units, revenue), mart


def test_product_daily_matches_ground_truth(generated: Any) -> None:
    con, truth = generated
    # revenue per event date is the generator's revenue per day
    got = {
        str(day): float(revenue)
        for day, revenue in con.execute(
            "select event_date, sum(revenue) from marts.fct_product_daily group by 1"
        ).fetchall()
    }
    expected = {d["date"]: d["revenue"] for d in truth["daily"] if d["rows"]}
    assert got.keys() == expected.keys()
    for day, revenue in expected.items():
        assert got[day] == pytest.approx(revenue, abs=0.005), day
    # every purchase is counted once, units leave out the negative prices
    purchases, units, rows = one(
        con, "select sum(purchases), sum(units), count(*) from marts.fct_product_daily"
    )
    assert purchases == truth["purchases"]
    assert units == truth["purchases"] - truth["negative_price_purchases"]
    assert rows == one(
        con, "select count(*) from (select distinct product_id, event_date from staging.stg_events)"
    )
    # viewing sessions never exceed views, and a product-day with a view has a session
    bad = one(
        con,
        "select count(*) from marts.fct_product_daily where viewing_sessions > views"
        " or (views > 0) != (viewing_sessions > 0) or buyers > purchases",
    )
    assert bad == 0


def test_price_changes_equal_a_window_over_every_event(generated: Any) -> None:
    con, _ = generated
    # every event with a positive price, each compared with the product's previous one
    brute = (
        "with prices as (select distinct product_id, price, event_at from staging.stg_events"
        " where price > 0), ordered as (select *, lag(price) over (partition by product_id"
        " order by event_at, price) as previous_price from prices)"
        " select product_id, previous_price, price, event_at from ordered"
        " where previous_price != price"
    )
    mart = (
        "select product_id, from_price, to_price, changed_at from marts.fct_product_price_changes"
    )
    changes = one(con, f"select count(*) from ({mart})")
    assert changes > 100  # the generator changes prices (and some back)
    assert one(con, f"select count(*) from ({brute})") == changes
    for a, b in ((brute, mart), (mart, brute)):
        assert one(con, f"select count(*) from (({a}) except ({b}))") == 0
    # changes back exist, and numbering follows time
    backs = one(
        con,
        "select count(*) from marts.fct_product_price_changes as a"
        " join marts.fct_product_price_changes as b on a.product_id = b.product_id"
        " and b.change_number = a.change_number + 1 and b.to_price = a.from_price"
        " and b.changed_at > a.changed_at",
    )
    assert backs > 0


def test_price_bands_add_up_to_the_priced_product_days(generated: Any) -> None:
    con, _ = generated
    bands = one(
        con,
        "select sum(views), sum(purchases), sum(units), sum(revenue) from marts.product_price_bands",
    )
    days = one(
        con,
        "select sum(views), sum(purchases), sum(units), sum(revenue) from marts.fct_product_daily"
        " where mean_price is not null",
    )
    assert bands == days
    assert one(con, "select count(distinct price_band_number) from marts.product_price_bands") == 6


def test_funnel_is_consistent_with_sessions(generated: Any) -> None:
    con, _ = generated
    funnel = con.execute(
        "select sum(sessions), sum(sessions_with_view), sum(sessions_with_cart),"
        " sum(sessions_with_purchase), sum(strict_sessions_with_cart),"
        " sum(strict_sessions_with_purchase), sum(sessions_with_abandoned_cart)"
        " from marts.fct_funnel_daily"
    ).fetchone()
    sessions = con.execute(
        "select count(*), count(*) filter (where has_view), count(*) filter (where has_cart),"
        " count(*) filter (where is_converted), count(*) filter (where is_strict_view_to_cart),"
        " count(*) filter (where is_strict_view_to_cart_to_purchase),"
        " count(*) filter (where has_cart and not is_converted) from marts.fct_sessions"
    ).fetchone()
    assert funnel == sessions
    assert funnel is not None
    # strict order is a subset of any order; some carts are never bought
    assert funnel[4] <= funnel[2] and funnel[5] <= funnel[3] and funnel[6] > 0
    bad_rates = one(
        con,
        "select count(*) from marts.fct_funnel_daily where sessions > 0 and"
        " (session_conversion_rate is null or abs(session_conversion_rate"
        " - sessions_with_purchase / sessions) > 1e-6)",
    )
    assert bad_rates == 0
    days, first, last = one(
        con, "select count(*), min(session_date), max(session_date) from marts.fct_funnel_daily"
    )
    assert days == (last - first).days + 1  # one row per day, gaps filled


def test_customers_rfm_and_cohorts(generated: Any) -> None:
    con, truth = generated
    assert one(con, "select count(*) from marts.dim_customers") == truth["users"]
    buyers = one(con, "select count(distinct user_id) from marts.fct_orders")
    rfm_rows, rfm_users, segments = one(
        con,
        "select count(*), count(distinct user_id), list(distinct segment) from marts.customer_rfm",
    )
    assert rfm_rows == rfm_users == buyers
    assert set(segments) <= SEGMENTS and len(segments) >= 4
    assert one(con, "select count(*) from marts.dim_customers where is_buyer") == buyers
    # recency is measured from the day after the last event
    as_of = one(con, "select distinct as_of_date from marts.customer_rfm")
    last_day = one(con, "select max(event_date) from staging.stg_events")
    assert (as_of - last_day).days == 1
    # every user is in exactly one acquisition cohort, retained 100% in month 0
    cohort_users, bad_month_zero = one(
        con,
        "select sum(cohort_users) filter (where months_since_acquisition = 0),"
        " count(*) filter (where months_since_acquisition = 0 and retention_rate != 1)"
        " from marts.cohorts",
    )
    assert cohort_users == truth["users"] and bad_month_zero == 0


def test_churn_and_lifetime_value_account_for_every_customer(generated: Any) -> None:
    con, truth = generated
    buyers, revenue = one(con, "select count(distinct user_id), sum(revenue) from marts.fct_orders")
    # churn: every buyer is a customer as of the day after the last event; the flag is the
    # threshold applied to the days since the last order, recomputed here from fct_orders
    customers, churned, threshold = one(
        con,
        "select count(*), count(*) filter (where is_churned), max(churn_threshold_days)"
        " from marts.customer_churn",
    )
    assert customers == buyers and threshold == 90
    expected_churned = one(
        con,
        "select count(*) from (select user_id, max(order_date) as last_order"
        " from marts.fct_orders group by 1) where (select max(event_date) + 1"
        " from staging.stg_events) - last_order > 90",
    )
    assert churned == expected_churned > 0
    for mart in ("churn_by_cohort", "churn_by_rfm_segment"):
        assert one(con, f"select sum(customers), sum(churned_customers) from marts.{mart}") == (
            customers,
            churned,
        ), mart
    # lifetime value adds up to the revenue, per customer and accumulated per cohort
    assert one(con, "select count(*), sum(revenue) from marts.customer_lifetime_value") == (
        buyers,
        revenue,
    )
    last_months = one(
        con,
        "select sum(cumulative_revenue), sum(customers) from marts.customer_ltv_cohorts"
        " where order_month = (select max(order_month) from marts.customer_ltv_cohorts)",
    )
    assert last_months == (revenue, buyers)
    assert float(revenue) == pytest.approx(truth["revenue"], abs=0.005)
    # accumulation never decreases
    assert (
        one(
            con,
            "select count(*) from (select cumulative_revenue_per_customer - lag("
            "cumulative_revenue_per_customer) over (partition by first_order_month"
            " order by months_since_first_order) as step from marts.customer_ltv_cohorts)"
            " where step < 0",
        )
        == 0
    )


def test_dimensions_and_session_comparison(generated: Any) -> None:
    con, truth = generated
    products = one(con, "select count(distinct product_id) from staging.stg_events")
    assert one(con, "select count(*) from marts.dim_products") == products
    days = len(truth["daily"])
    assert one(con, "select count(*) from marts.dim_date") == days
    given, inactivity = one(
        con,
        "select sum(given_sessions), sum(inactivity_sessions) from marts.session_definition_comparison",
    )
    assert given == truth["sessions"]
    assert inactivity > 0


def test_dbt_build_on_the_real_sample(tmp_path: Path, sample_files: list[Path]) -> None:
    # given the real sample loaded into a fresh warehouse
    db = tmp_path / "warehouse.duckdb"
    report = load_files(sample_files, db_path=db, quarantine_dir=tmp_path / "q")
    assert report.read == report.loaded and report.rejected == 0
    # when dbt builds the project (models, unit, generic and singular tests)
    assert dbt(tmp_path, db, "build") == 0
    # then the marts agree with DuckDB reading the CSV files directly
    files = ", ".join(f"'{f}'" for f in sample_files)
    direct = duckdb.connect()
    direct.execute(
        f"create table rows as select * from read_csv([{files}], header = true, all_varchar = true)"
    )
    distinct, sessions, revenue = one(
        direct,
        "select count(*), count(distinct user_session),"
        " sum(case when event_type = 'purchase' and cast(price as decimal(10, 2)) > 0"
        " then cast(price as decimal(10, 2)) else 0 end) from (select distinct * from rows)",
    )
    con = duckdb.connect(str(db), read_only=True)
    assert one(con, "select count(*) from staging.stg_events") == distinct
    assert distinct < report.loaded  # the sample holds exact duplicate rows
    assert (
        one(con, "select count(*) from marts.fct_sessions where not is_session_inferred")
        == sessions
    )
    assert one(con, "select sum(revenue) from marts.fct_sales_daily") == revenue
    assert one(con, "select sum(sessions) from marts.fct_funnel_daily") == one(
        con, "select count(*) from marts.fct_sessions"
    )


@pytest.mark.parametrize("incremental", [False, True], ids=["full-refresh", "incremental"])
def test_every_model_compiles_for_redshift_and_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, incremental: bool
) -> None:
    import sqlglot

    monkeypatch.setenv("DBT_ENV_SECRET_REDSHIFT_PASSWORD", "not-a-secret")
    monkeypatch.setenv("DBT_TARGET", "redshift")
    flag = "true" if incremental else "false"
    code = run_dbt(
        [
            "compile",
            "--no-populate-cache",
            "--vars",
            f"{{ecom__compile_incremental: {flag}}}",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ]
    )
    assert code == 0
    models = tmp_path / "target" / "compiled" / "ecom" / "models"
    compiled = {p.stem: p.read_text() for p in models.rglob("*.sql") if p.parent.suffix != ".yml"}
    expected = {p.stem for p in (Path(__file__).parents[1] / "models").rglob("*.sql")}
    assert compiled.keys() == expected
    for name, sql in compiled.items():
        assert "struct_pack" not in sql and "generate_series" not in sql, name
        sqlglot.parse(sql, dialect="redshift")
    # the incremental branches really were compiled (or really were not)
    assert ("run_limits.loaded_after" in compiled["stg_events"]) is incremental
    # and the run's limits read the previous build (or, without one, rebuild every day)
    assert ("max(last_loaded_at)" in compiled["int_run_limits"]) is incremental
    # and dbt compiled them with the Redshift adapter (its own record, not our environment)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "redshift"


def test_ecom_divide_refuses_a_denominator_that_is_not_an_integer(tmp_path: Path) -> None:
    import subprocess
    import sys

    from ecom.warehouse import PROJECT_ROOT, dbt_env

    dbt = Path(sys.executable).with_name("dbt")
    env = {**dbt_env(), "ECOM_DUCKDB_PATH": str(tmp_path / "w.duckdb")}

    def compile_inline(denominator: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(dbt) if dbt.exists() else "dbt",
                "compile",
                "--no-populate-cache",
                "--inline",
                f"select {{{{ ecom_divide('revenue', {denominator}, 2) }}}}",
                "--target-path",
                str(tmp_path / "target"),
                "--log-path",
                str(tmp_path / "logs"),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )

    # the denominator is cast to bigint: a fractional literal would be truncated silently
    refused = compile_inline("'0.5'")
    assert refused.returncode != 0
    assert "ecom_divide: the denominator 0.5 is not an integer" in refused.stdout
    # an integer count compiles
    accepted = compile_inline("'orders'")
    assert accepted.returncode == 0, accepted.stdout
    assert "nullif(cast(orders as bigint), 0)" in accepted.stdout
