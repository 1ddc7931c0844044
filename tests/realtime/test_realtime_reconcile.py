"""The real-time stage of `ecom run`'s reconciliation, on a real DuckDB file and a real moto
server: equal figures balance; one missing event is named by date and metric."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner
from realtime_helpers import distinct_events, poller, processor, produce, reader

from aws_fixtures import AwsStack
from ecom.cli import main
from ecom.realtime.cli import RealtimeRun
from ecom.run.realtime_check import check_realtime
from ecom.run.reconcile import Reconciliation


def _staging(path: Path, events: list) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema staging")
    con.execute(
        "create table staging.stg_events (event_id varchar, event_type varchar, brand varchar,"
        " category_code varchar, price decimal(10, 2), event_date date)"
    )
    con.executemany(
        "insert into staging.stg_events values (?, ?, ?, ?, ?, ?)",
        [
            [e.event_id, e.event_type, e.brand, e.category_code, e.price, e.event_time[:10]]
            for e in events
        ],
    )
    return con


def test_live_kpis_equal_to_staging_balance_and_a_missing_purchase_is_named(
    aws_stack: AwsStack, few_days: list[Path], tmp_path: Path
) -> None:
    # given the few days processed live, and a staging table of the same distinct events
    produce(aws_stack, few_days)
    proc = processor(aws_stack)
    esm = poller(aws_stack, proc)
    esm.run()
    run = RealtimeRun(proc, esm)
    events = list(distinct_events(few_days).values())
    con = _staging(tmp_path / "w.duckdb", events)
    # then the real-time stage balances
    rec = Reconciliation()
    check_realtime(rec, run, reader(aws_stack), con)
    assert rec.balanced, [c for c in rec.checks if not c.ok]
    assert rec.counts["realtime_applied"] == len(events)
    # when staging lacks one purchase
    purchase = next(e for e in events if e.event_type == "purchase" and e.brand)
    con.execute("delete from staging.stg_events where event_id = ?", [purchase.event_id])
    rec = Reconciliation()
    check_realtime(rec, run, reader(aws_stack), con)
    # then the stage diverges, naming the date and the metrics that differ
    assert not rec.balanced and rec.diverged is not None and rec.diverged.stage == "realtime"
    detail = rec.diverged.detail
    day = purchase.event_time[:10]
    assert f"{day} purchase: live" in detail
    assert f"{day} brand {purchase.brand} purchase" in detail or "differences in all" in detail
    con.close()


def test_ecom_realtime_processes_the_stream_and_says_what_it_did(
    aws_stack: AwsStack, few_days: list[Path]
) -> None:
    produce(aws_stack, few_days)
    result = CliRunner().invoke(main, ["realtime", "--batch-size", "50"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    applied = len(distinct_events(few_days))
    assert f"events applied {applied:,}" in result.output
    # a second run finds nothing new: its own checkpoints, apart from the sink's
    again = CliRunner().invoke(main, ["realtime"], catch_exceptions=False)
    assert "events applied 0" in again.output and "records 0" in again.output
