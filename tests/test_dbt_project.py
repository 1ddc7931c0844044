"""Real `dbt build` runs on DuckDB: generated data (checked against ground truth) and the real sample."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ecom.files import load_files
from ecom.generate import GROUND_TRUTH_FILE, GenerateConfig, generate
from ecom.warehouse import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]


def dbt(tmp_path: Path, *args: str) -> int:
    return run_dbt(
        [*args, "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    )


def test_dbt_build_on_generated_events_matches_ground_truth(
    tmp_path: Path, ecom_home: Path
) -> None:
    # given generated events loaded twice (the second load must change nothing)
    events = tmp_path / "events"
    generate(GenerateConfig(out=events, events=30_000, seed=11))
    first = load_files(sorted(events.glob("*.csv")))
    again = load_files(sorted(events.glob("*.csv")))
    assert first.read == first.loaded and first.rejected == 0
    assert again.files == 0 and len(again.skipped_files) == 5
    # when dbt builds the project
    assert dbt(tmp_path, "build") == 0
    # then staging holds one row per distinct event of the ground truth
    truth = json.loads((events / GROUND_TRUTH_FILE).read_text())
    con = duckdb.connect(str(ecom_home / "warehouse.duckdb"), read_only=True)
    raw, staged, copies = con.execute(
        "select (select count(*) from raw.events), count(*), sum(copies_delivered) from staging.stg_events"
    ).fetchone()  # type: ignore[misc]
    assert raw == truth["rows"]
    assert staged == truth["distinct_events"]
    assert copies == truth["rows"]


def test_dbt_build_on_the_real_sample(
    tmp_path: Path, ecom_home: Path, sample_files: list[Path]
) -> None:
    report = load_files(sample_files)
    assert (report.read, report.loaded, report.rejected) == (10_000, 10_000, 0)
    assert dbt(tmp_path, "build") == 0
    con = duckdb.connect(str(ecom_home / "warehouse.duckdb"), read_only=True)
    staged = con.execute("select count(*) from staging.stg_events").fetchone()[0]  # type: ignore[index]
    assert staged == 9_999  # the sample holds one exact duplicate row


def test_project_compiles_for_redshift_without_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_ENV_SECRET_REDSHIFT_PASSWORD", "not-a-secret")
    assert dbt(tmp_path, "compile", "--target", "redshift", "--no-populate-cache") == 0
    compiled = next((tmp_path / "target" / "compiled").rglob("stg_events.sql")).read_text()
    import sqlglot

    sqlglot.parse_one(compiled, dialect="redshift")
