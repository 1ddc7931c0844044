"""`ecom run` end to end on a real moto server, a real DuckDB file and real dbt runs.

Faults are injected into the stream through botocore hooks on the run's own clients
(see run_faults.py); the warehouse is then checked against the input files directly, not
only through the run's own reconciliation.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from run_faults import DropRecords, StreamFaults

from aws_fixtures import AwsStack
from ecom.cli import main
from ecom.events import Event, read_csv_events
from ecom.generate import GenerateConfig, generate
from ecom.run.cli import EXIT_MISMATCH
from ecom.run.pipeline import RunHooks, months_end
from ecom.run.reconcile import Check, Reconciliation

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("run")]


@pytest.fixture
def dbt_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt's target and logs in the test's folder (other tests run dbt at the same time)."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))


def run(args: list[str], hooks: RunHooks | None = None) -> Any:
    return CliRunner().invoke(main, ["run", *args], obj=hooks, catch_exceptions=False)


def test_run_under_stream_faults_reconciles_exactly(
    aws_stack: AwsStack, dbt_scratch: None, tmp_path: Path
) -> None:
    # given ~25k generated events over two months, and a stream that throttles 30% of the
    # entries for three rounds, loses the acknowledgement of the first put and kills the sink
    # between an S3 write and its checkpoint
    events = tmp_path / "events"
    gen = generate(
        GenerateConfig(
            out=events, start=date(2019, 10, 1), end=date(2019, 11, 30), events=25_000, seed=5
        )
    )
    truth = gen.ground_truth
    faults = StreamFaults()
    report_path = tmp_path / "report.json"

    # when
    result = run(
        ["--input", str(events), "--fresh", "--no-docs", "--report", str(report_path)],
        RunHooks(on_client=faults),
    )

    # then every fault happened ...
    assert faults.throttled > 0 and faults.duplicated_records > 0 and faults.sink_deaths == 1
    # ... and the run still balances, against the ground truth too
    assert result.exit_code == 0, result.output
    assert "reconciliation balanced" in result.output
    report = json.loads(report_path.read_text())
    assert report["status"] == "balanced" and report["diverged_stage"] is None
    assert report["compared_with_ground_truth"] is True
    assert all(c["ok"] for c in report["checks"])
    counts = report["counts"]
    assert counts["rows_read"] == counts["sent"] == truth["rows"]
    assert counts["rejected"] == 0 and counts["dead_lettered"] == 0
    assert counts["retried"] > 0
    assert counts["throttled_or_failed_attempts"]["ProvisionedThroughputExceededException"] > 0
    assert counts["sink_restarts"] == 1
    assert counts["landed_copies"] > 0  # the duplicated put landed twice ...
    assert counts["distinct_landed"] == truth["distinct_events"]  # ... and nothing is missing
    assert counts["staging_events"] == truth["distinct_events"]
    assert list(report["stage_seconds"]) == [
        "generate", "aws", "fresh", "produce", "sink", "load", "dbt build", "realtime",
        "reconcile",
    ]  # fmt: skip
    # the stream processor read the same stream, copies included, and counted each event once
    assert counts["realtime_applied"] == truth["distinct_events"]
    assert counts["realtime_duplicates"] > 0 and counts["realtime_differences"] == 0

    # and the warehouse, read directly, holds exactly the input's events once each in staging
    expected = {
        e.event_id for f in gen.files for e in read_csv_events(f.path) if isinstance(e, Event)
    }
    con = duckdb.connect(str(report["warehouse"]), read_only=True)
    try:
        raw_ids = {r[0] for r in con.execute("select distinct event_id from raw.events").fetchall()}
        staged, copies = con.execute(
            "select count(*), sum(copies_delivered) from staging.stg_events"
        ).fetchone()  # type: ignore[misc]
        raw_rows = con.execute("select count(*) from raw.events").fetchone()[0]  # type: ignore[index]
        revenue = con.execute("select sum(revenue) from marts.fct_sales_daily").fetchone()[0]  # type: ignore[index]
        given = con.execute(
            "select count(*) from marts.fct_sessions where not is_session_inferred"
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert raw_ids == expected
    assert staged == len(expected) and copies == raw_rows == counts["landed"] > truth["rows"]
    assert float(revenue) == pytest.approx(truth["revenue"], abs=0.005)
    assert given == truth["sessions"]
    assert report["marts"]["converted_given_sessions"] == truth["sessions_with_purchase"]


def test_lost_records_make_the_run_exit_non_zero_naming_the_sink(
    aws_stack: AwsStack, dbt_scratch: None, tmp_path: Path
) -> None:
    # given a stream whose first record read by the sink is lost on the way
    drop = DropRecords(count=1)
    report_path = tmp_path / "report.json"

    # when the run generates its own small data set
    result = run(
        ["--events", "8000", "--months", "1", "--no-docs", "--fresh", "--report", str(report_path)],
        RunHooks(on_client=drop),
    )

    # then it fails the reconciliation, naming the sink as where the counts diverged
    assert drop.lines_lost > 0
    assert result.exit_code == EXIT_MISMATCH, result.output
    assert "counts diverged at stage sink" in result.output
    report = json.loads(report_path.read_text())
    assert report["status"] == "mismatch" and report["diverged_stage"] == "sink"
    never_landed = next(c for c in report["checks"] if c["name"] == "events sent that never landed")
    assert 0 < never_landed["actual"] <= drop.lines_lost
    # every stage before the sink still balances
    assert all(c["ok"] for c in report["checks"] if c["stage"] in ("source", "produce"))


def test_a_stage_that_fails_is_named_and_the_report_is_still_written(
    ecom_home: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    report_path = tmp_path / "report.json"
    result = run(["--input", str(empty), "--report", str(report_path)])
    assert result.exit_code == 1
    assert "stage generate failed" in result.output and "no CSV files" in result.output
    report = json.loads(report_path.read_text())
    assert report["status"] == "failed" and report["failed_stage"] == "generate"


def test_input_and_generator_sizes_are_exclusive(tmp_path: Path) -> None:
    result = run(["--input", str(tmp_path), "--events", "1000"])
    assert result.exit_code == 2 and "--events/--months" in result.output


def test_the_first_failing_stage_in_pipeline_order_is_the_divergence() -> None:
    rec = Reconciliation()
    rec.add("marts", "revenue", 10.0, 10.004, tolerance=0.005)
    assert rec.balanced and rec.diverged is None
    rec.add("marts", "orders", 5, 4)
    rec.add("load", "rows loaded", 100, 99)
    assert not rec.balanced
    assert rec.diverged == Check("load", "rows loaded", 100, 99, False)
    assert rec.to_dict()["diverged_stage"] == "load"


@pytest.mark.parametrize(
    ("months", "end"), [(1, date(2019, 10, 31)), (5, date(2020, 2, 29)), (4, date(2020, 1, 31))]
)
def test_months_end_at_the_last_day_of_the_last_month(months: int, end: date) -> None:
    assert months_end(date(2019, 10, 1), months) == end
