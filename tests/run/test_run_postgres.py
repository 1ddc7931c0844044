"""`ecom run --warehouse postgres`: the whole pipeline loading into and building on PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from aws_fixtures import AwsStack
from ecom.cli import main
from ecom.generate import GenerateConfig, generate
from postgres_fixtures import PostgresDatabase

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]


def test_run_on_postgres_reconciles_with_the_ground_truth(
    aws_stack: AwsStack,
    postgres_db: PostgresDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    events = tmp_path / "events"
    truth = generate(
        GenerateConfig(out=events, start=date(2019, 10, 1), end=date(2019, 10, 31), events=4_000)
    ).ground_truth
    report_path = tmp_path / "report.json"

    result = CliRunner().invoke(
        main,
        ["run", "--warehouse", "postgres", "--input", str(events), "--fresh", "--no-docs",
         "--report", str(report_path)],
        catch_exceptions=False,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["status"] == "balanced" and report["compared_with_ground_truth"] is True
    assert report["config"]["warehouse"] == "postgres"
    assert "postgres" in report["stage_seconds"] and "snapshot" in report["stage_seconds"]
    # the marts really are in PostgreSQL (the reconciliation read an exact copy of them)
    with postgres_db.connect() as con:
        staged, loads = con.execute(
            "select (select count(*) from staging.stg_events),"
            " (select count(*) from raw.load_audit)"
        ).fetchone()
        revenue = con.execute("select sum(revenue) from marts.fct_sales_daily").fetchone()[0]
    assert staged == truth["distinct_events"] and loads > 0
    assert float(revenue) == pytest.approx(truth["revenue"], abs=0.005)
