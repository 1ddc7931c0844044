"""The backfill's outputs: layout, types the warehouse takes, idempotence, reconciliation, CLI."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from ecom.backfill import backfill, load_job
from ecom.cli import main
from ecom.events import HEADER_LINE
from ecom.load.landing import LANDING_COLUMNS
from ecom.warehouse import PROJECT_ROOT, RAW_EVENTS_DDL_DUCKDB

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.slow]


def _snapshot(root: Path) -> dict[str, str]:
    """Every published file under root (relative path -> sha256); staging must be gone."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def sample_copy(sample_files: list[Path], tmp_path: Path) -> list[Path]:
    """Two real sample files plus one file with bad rows, copied so their mtimes are ours."""
    src = tmp_path / "in"
    src.mkdir()
    copies = [Path(shutil.copy(f, src / f.name)) for f in sample_files[:2]]
    good = sample_files[0].read_text().splitlines()[1]
    bad = src / "bad.csv"
    bad.write_text("\n".join([HEADER_LINE, good, good.replace("UTC", "GMT"), "x,y"]) + "\n")
    os.utime(bad, (1_570_000_000, 1_570_000_000))
    return [*copies, bad]


def test_layout_types_and_idempotent_rerun(
    spark: Any, sample_copy: list[Path], tmp_path: Path
) -> None:
    job = load_job()
    root = tmp_path / "lake"
    # when: the same input is backfilled twice
    first = backfill(sample_copy, root, spark=spark)
    before = _snapshot(root)
    second = backfill(sample_copy, root, spark=spark)
    after = _snapshot(root)

    # then: the same objects with the same bytes, nothing appended, no staging left behind
    assert after == before
    assert first.to_dict() == second.to_dict()
    assert not any(k.startswith(job.STAGING_PREFIX + "/backfill-") for k in after)
    # counts reconcile: 4,000 real rows + 1 good + 2 bad
    assert (first.read, first.accepted, first.rejected) == (4_003, 4_001, 2)
    assert first.rejected_by_reason == {"bad_event_time": 1, "wrong_field_count": 1}
    # layout: one folder per event date, deterministic part names, one quarantine file per input
    parquet = [k for k in after if k.endswith(".parquet")]
    assert parquet and all(
        k.startswith("landing/events/source=backfill/event_date=") and "/part-" in k
        for k in parquet
    )
    assert sorted(k for k in after if k.startswith("quarantine/")) == [
        "quarantine/backfill/bad.csv.jsonl"
    ]
    records = [
        json.loads(x) for x in (root / "quarantine/backfill/bad.csv.jsonl").read_text().splitlines()
    ]
    assert [(r["line"], r["reason"]) for r in records] == [
        (3, "bad_event_time"),
        (4, "wrong_field_count"),
    ]
    assert records[0]["source"] == str(sample_copy[-1].resolve())

    # the files load into raw.events as they are (DuckDB read_parquet, the warehouse DDL)
    con = duckdb.connect()
    con.execute(RAW_EVENTS_DDL_DUCKDB)
    files = [str(root / k) for k in parquet]
    con.execute(
        """insert into raw.events
           select event_id, event_time, event_type, product_id, category_id, category_code, brand,
                  price, user_id, user_session, source, filename, now()::timestamp
           from read_parquet(?, filename = true, hive_partitioning = false)""",
        [files],
    )
    described = con.execute(
        "describe select * from read_parquet(?, hive_partitioning = false)", [files]
    ).fetchall()
    assert tuple(r[0] for r in described) == LANDING_COLUMNS
    types = {r[0]: r[1] for r in described}
    assert types["event_time"] == "TIMESTAMP"
    assert types["price"] == "DECIMAL(10,2)"
    assert types["product_id"] == types["category_id"] == types["user_id"] == "BIGINT"
    loaded = con.execute(
        "select count(*), count(distinct event_id), min(source), max(source) from raw.events"
    ).fetchone()
    assert loaded == (4_001, loaded[1], "backfill", "backfill")
    # every row sits in the partition of its own date, and ingested_at is its file's mtime
    misplaced = con.execute(
        """select count(*) from read_parquet(?, filename = true, hive_partitioning = false)
           where filename not like '%event_date=' || strftime(event_time, '%Y-%m-%d') || '/%'""",
        [files],
    ).fetchone()
    assert misplaced == (0,)
    bad_mtime = con.execute(
        "select distinct ingested_at from read_parquet(?) where event_id = ?",
        [files, _python_event_id(sample_copy[-1])],
    ).fetchall()
    # (the same event is also in a sample file, ingested from a file with a newer mtime)
    assert (datetime.fromtimestamp(1_570_000_000, UTC).replace(tzinfo=None),) in bad_mtime


def _python_event_id(path: Path) -> str:
    from ecom.events import Event, read_csv_events

    return next(o.event_id for o in read_csv_events(path) if isinstance(o, Event))


def test_rerun_replaces_a_partition_instead_of_adding_to_it(spark: Any, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    rows = [f"2019-10-01 0{h}:00:00 UTC,view,1,2,,,1.00,{h + 1},s" for h in range(5)]
    path = src / "day.csv"
    path.write_text("\n".join([HEADER_LINE, *rows]) + "\n")
    root = tmp_path / "lake"
    backfill([path], root, spark=spark)
    # the file is corrected upstream: two rows gone, one now bad
    path.write_text("\n".join([HEADER_LINE, *rows[:2], rows[2].replace("view", "zoom")]) + "\n")
    report = backfill([path], root, spark=spark)
    files = sorted(root.glob("landing/events/source=backfill/event_date=2019-10-01/*.parquet"))
    assert duckdb.execute(
        "select count(*) from read_parquet(?)", [[str(f) for f in files]]
    ).fetchone() == (2,)
    assert (report.read, report.accepted, report.rejected) == (3, 2, 1)


def test_cli_explains_missing_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["backfill", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_help_names_the_cluster_path() -> None:
    result = CliRunner().invoke(main, ["backfill", "--help"])
    assert result.exit_code == 0
    assert "spark/backfill.py" in result.output and "--root" in result.output


def test_the_cluster_command_needs_only_pyspark_and_the_contract_file() -> None:
    """``spark-submit --py-files loaders/ecom/contract.py spark/backfill.py`` (docs/backfill.md)
    loads the job, contract included, on a Python that has neither PySpark nor the ``ecom``
    package installed, as a cluster's may: spark-submit puts its own PySpark on the path and
    ``--py-files`` the contract."""
    import pyspark

    bare = sys._base_executable  # the interpreter this virtualenv was made from
    for module in ("pyspark", "ecom", "contract"):
        probe = subprocess.run([bare, "-c", f"import {module}"], capture_output=True, check=False)
        assert probe.returncode != 0, f"{bare} imports {module}: the test would prove nothing"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "PYSPARK_PYTHON": bare,
        "PYSPARK_DRIVER_PYTHON": bare,
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "spark-submit"),
            "--py-files",
            "loaders/ecom/contract.py",
            "spark/backfill.py",
            "--help",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    usage = " ".join(result.stdout.split())
    assert "usage: spark-submit --py-files loaders/ecom/contract.py spark/backfill.py" in usage
    assert "--input INPUT --root ROOT" in usage
