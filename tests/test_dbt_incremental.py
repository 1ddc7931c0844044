"""Incremental dbt runs with late data give exactly the marts of a full refresh.

A generated week arrives day by day into a real DuckDB warehouse: days 1-4, then days 5-6 with
some day-5 events held back, then day 7 with the held-back (late, inside the lookback window)
day-5 events, very late day-2 events (outside the window), late duplicate copies of day-1
events, and a late event that bridges two inactivity sessions of a user without user_session.
After each arrival dbt runs incrementally; at the end every model must equal a full refresh.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecom.files import load_files
from ecom.generate import GenerateConfig, generate
from ecom.warehouse import connect_duckdb, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

MODELS = {
    "staging": ["stg_events"],
    "marts": [
        "fct_sessions",
        "fct_orders",
        "fct_funnel_daily",
        "fct_funnel_daily_by_category",
        "fct_funnel_daily_by_brand",
        "fct_sales_daily",
        "fct_sales_daily_by_category",
        "fct_sales_daily_by_brand",
        "customer_rfm",
        "dim_customers",
        "dim_products",
        "dim_date",
        "cohorts",
        "session_definition_comparison",
        "fct_product_daily",
    ],
}
BRIDGE_USER = 999_999_999


def dbt(workdir: Path, db: Path, *args: str) -> int:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_DUCKDB_PATH", str(db))
        return run_dbt(
            [*args, "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
        )


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_incremental_runs_with_late_data_equal_a_full_refresh(tmp_path: Path) -> None:
    # given a generated week split into one file per day
    generated = tmp_path / "generated"
    generate(
        GenerateConfig(
            out=generated,
            start=date(2021, 3, 1),
            end=date(2021, 3, 7),
            events_per_day=2_500,
            seed=5,
        )
    )
    with open(next(generated.glob("*.csv")), newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    by_day: dict[int, list[list[str]]] = {}
    for row in rows:
        by_day.setdefault(int(row[0][8:10]), []).append(row)
    assert sorted(by_day) == [1, 2, 3, 4, 5, 6, 7]

    late_5 = by_day[5][5::40]  # day-5 events that arrive two days late (inside the lookback)
    very_late_2 = by_day[2][5::40]  # day-2 events that arrive five days late (outside it)
    late_copies_1 = by_day[1][:20]  # duplicate deliveries of day-1 events
    on_time_5 = [r for i, r in enumerate(by_day[5]) if (i - 5) % 40 or i < 5]
    on_time_2 = [r for i, r in enumerate(by_day[2]) if (i - 5) % 40 or i < 5]
    # a user without user_session: events at 10:00 and 11:00 (two inactivity sessions) and a
    # late event at 10:30 that merges them into one
    template = by_day[5][0]

    def bridge(time: str) -> list[str]:
        return [f"2021-03-05 {time} UTC", "view", *template[2:7], str(BRIDGE_USER), ""]

    files = tmp_path / "arrivals"
    files.mkdir()
    arrivals = [
        [
            write(files / f"day-{d}.csv", header, on_time_2 if d == 2 else by_day[d])
            for d in (1, 2, 3, 4)
        ],
        [
            write(
                files / "day-5.csv", header, [*on_time_5, bridge("10:00:00"), bridge("11:00:00")]
            ),
            write(files / "day-6.csv", header, by_day[6]),
        ],
        [
            write(files / "day-7.csv", header, by_day[7]),
            write(files / "late-5.csv", header, [*late_5, bridge("10:30:00")]),
            write(files / "very-late-2.csv", header, very_late_2),
            write(files / "late-copies-1.csv", header, late_copies_1),
        ],
    ]
    db = tmp_path / "warehouse.duckdb"

    def arrive(batch: list[Path]) -> None:
        report = load_files(batch, db_path=db, quarantine_dir=tmp_path / "q")
        assert report.rejected == 0 and report.files == len(batch)

    # when the days arrive one batch after another, dbt running incrementally after each
    arrive(arrivals[0])
    assert dbt(tmp_path, db, "build") == 0
    arrive(arrivals[1])
    assert dbt(tmp_path, db, "run") == 0
    late_sessions = sorted({r[8] for r in late_5})
    before = dict(
        query(
            db,
            "select session_id, event_count from marts.fct_sessions where session_id in"
            f" ({', '.join(repr(s) for s in late_sessions)})",
        )
    )
    bridged_before = query(
        db, f"select count(*) from marts.fct_sessions where user_id = {BRIDGE_USER}"
    )[0][0]
    arrive(arrivals[2])
    assert dbt(tmp_path, db, "run") == 0
    assert dbt(tmp_path, db, "build") == 0  # nothing new: changes nothing, and every test passes

    # then late events reprocessed their whole sessions
    after = dict(
        query(
            db,
            "select session_id, event_count from marts.fct_sessions where session_id in"
            f" ({', '.join(repr(s) for s in late_sessions)})",
        )
    )
    grown = [s for s in before if after[s] > before[s]]
    assert before and grown, "no late event joined a session that already existed"
    assert set(after) == set(late_sessions)
    assert bridged_before == 2
    assert query(db, f"select count(*) from marts.fct_sessions where user_id = {BRIDGE_USER}") == [
        (1,)
    ]
    # very late events and late copies landed too
    staged, distinct, copies, raw = query(
        db,
        "select count(*), (select count(distinct event_id) from raw.events), sum(copies_delivered),"
        " (select count(*) from raw.events) from staging.stg_events",
    )[0]
    assert staged == distinct and copies == raw

    # and every model equals a full refresh over the same raw rows
    assert_models_equal_a_full_refresh(tmp_path, db)


def test_a_first_run_over_no_events_does_not_stall_later_runs(tmp_path: Path) -> None:
    # given a warehouse built while raw.events was still empty
    db = tmp_path / "warehouse.duckdb"
    connect_duckdb(db).close()
    assert dbt(tmp_path, db, "build") == 0
    assert query(db, "select count(*) from staging.stg_events") == [(0,)]
    # when two days of events arrive and dbt runs incrementally
    generated = tmp_path / "generated"
    generate(
        GenerateConfig(
            out=generated,
            start=date(2021, 3, 1),
            end=date(2021, 3, 2),
            events_per_day=1_000,
            seed=7,
        )
    )
    report = load_files(sorted(generated.glob("*.csv")), db_path=db, quarantine_dir=tmp_path / "q")
    assert report.loaded > 0
    assert dbt(tmp_path, db, "run") == 0
    # then the incremental models took every event (their watermarks were not stuck at null)
    assert query(db, "select count(*) from staging.stg_events") == query(
        db, "select count(distinct event_id) from raw.events"
    )
    assert query(db, "select sum(event_count) from marts.fct_sessions") == query(
        db, "select count(*) from staging.stg_events"
    )
    assert_models_equal_a_full_refresh(tmp_path, db)


def assert_models_equal_a_full_refresh(workdir: Path, db: Path) -> None:
    """Every mart as built incrementally equals a `--full-refresh` over the same raw rows."""
    with duckdb.connect(str(db)) as con:
        con.execute("create schema incremental_result")
        for schema, models in MODELS.items():
            for model in models:
                con.execute(
                    f"create table incremental_result.{model} as select * from {schema}.{model}"
                )
    assert dbt(workdir, db, "build", "--full-refresh") == 0
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, models in MODELS.items():
            for model in models:
                full = f"{schema}.{model}"
                incr = f"incremental_result.{model}"
                n_full = con.execute(f"select count(*) from {full}").fetchone()
                n_incr = con.execute(f"select count(*) from {incr}").fetchone()
                assert n_full == n_incr, model
                for a, b in ((full, incr), (incr, full)):
                    diff = con.execute(
                        f"select count(*) from (select * from {a} except select * from {b})"
                    ).fetchone()
                    assert diff == (0,), f"{model}: rows of {a} missing from {b}"
