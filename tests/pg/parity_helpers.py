"""Helpers of the engine parity tests: one data set, two warehouses, the same dbt project."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from ecom.events import HEADER
from ecom.files import load_files
from ecom.pg.load import PostgresSettings, load_files_postgres
from ecom.warehouse import PROJECT_ROOT, dbt_env

Row = list[str]


def read_rows(paths: Iterable[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            assert tuple(next(reader)) == HEADER
            rows.extend(reader)
    return rows


def write_rows(path: Path, rows: list[Row]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def at(day: date, clock: str) -> str:
    return f"{day:%Y-%m-%d} {clock} UTC"


def edge_rows(day: date) -> list[Row]:
    """Rows the generator makes rarely or never, on ``day``: ties in time between products
    whose ids order differently as text and as numbers (9 and 12), of one product between
    category ids, brands and prices (9.99 and 10.00; -1.50 and -1.20), zero and negative
    prices, and events without a session (gaps of exactly 30 minutes and of more)."""
    cat, code = "2053013552259662037", "appliances.environment.vacuum"
    t = "12:00:00"
    rows = [
        # session entered and left at one instant through products 9 and 12 (and 100, 99)
        [at(day, t), "view", "12", cat, code, "tiebrand", "5.00", "900000001", "parity-tie-1"],
        [at(day, t), "view", "9", cat, code, "tiebrand", "5.00", "900000001", "parity-tie-1"],
        [at(day, t), "cart", "100", cat, "", "", "1.00", "900000002", "parity-tie-2"],
        [at(day, t), "cart", "99", cat, "", "", "1.00", "900000002", "parity-tie-2"],
        # one product seen at one instant under two category ids, brands and prices
        [at(day, "13:00:00"), "view", "777", "9", "", "alpha", "9.99", "900000003", "parity-p"],
        [at(day, "13:00:00"), "view", "777", "12", "", "beta", "10.00", "900000003", "parity-p"],
        [at(day, "13:00:01"), "view", "778", cat, "", "", "-1.50", "900000003", "parity-p"],
        [at(day, "13:00:01"), "view", "778", cat, "", "", "-1.20", "900000003", "parity-p"],
        # zero and negative prices bought
        [at(day, "14:00:00"), "purchase", "779", cat, code, "", "0.00", "900000004", "parity-z"],
        [at(day, "14:00:01"), "purchase", "780", cat, "", "", "-3.25", "900000004", "parity-z"],
        [at(day, "14:00:02"), "purchase", "12", cat, code, "tiebrand", "5.00", "900000004", "parity-z"],
        # no session: a gap of exactly 30 minutes keeps one session, a longer one splits
        [at(day, "15:00:00"), "view", "781", cat, "", "", "2.00", "900000005", ""],
        [at(day, "15:30:00"), "cart", "781", cat, "", "", "2.00", "900000005", ""],
        [at(day, "16:00:01"), "purchase", "781", cat, "", "", "2.00", "900000005", ""],
        [at(day, "16:00:01"), "view", "9", cat, "", "", "2.00", "900000005", ""],
    ]  # fmt: skip
    return rows


def split_for_increment(
    rows: list[Row], last_day: date, late_every: int = 40
) -> tuple[list[Row], list[Row]]:
    """(first load, second load): the second holds ``last_day``'s rows and late rows, every
    ``late_every``-th row of the three days before it (inside the lookback window) and of the
    tenth day before it (far outside: the run's limits rebuild its days all the same), which
    the first load leaves out."""
    late_days = {last_day - timedelta(days=d) for d in (1, 2, 3, 10)}
    first: list[Row] = []
    second: list[Row] = []
    for n, row in enumerate(rows):
        day = date.fromisoformat(row[0][:10])
        if day >= last_day or (day in late_days and n % late_every == 0):
            second.append(row)
        else:
            first.append(row)
    return first, second


def load_both(
    files: list[Path],
    duckdb_path: Path,
    pg: PostgresSettings,
    loaded_at: datetime,
    quarantine: Path,
) -> tuple[int, int]:
    """The files into both warehouses by their own loaders, stamped with one load time."""
    duck = load_files(files, db_path=duckdb_path, quarantine_dir=quarantine, loaded_at=loaded_at)
    post = load_files_postgres(files, settings=pg, quarantine_dir=quarantine, loaded_at=loaded_at)
    assert (duck.read, duck.loaded, duck.rejected) == (post.read, post.loaded, post.rejected)
    return duck.loaded, post.loaded


def dbt_build_both(
    work: Path, duckdb_path: Path, pg_env: dict[str, str], *args: str
) -> dict[str, tuple[int, str]]:
    """``dbt build ARGS`` on DuckDB and on PostgreSQL at once; {engine: (exit code, log tail)}."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    work.mkdir(parents=True, exist_ok=True)
    runs = {}
    for engine, extra in (
        ("duckdb", {"DBT_TARGET": "local", "ECOM_DUCKDB_PATH": str(duckdb_path)}),
        ("postgres", {**pg_env, "DBT_TARGET": "postgres"}),
    ):
        env = {**dbt_env(), **extra}
        out = work / f"{engine}.log"
        command = [
            dbt,
            "build",
            *args,
            "--target-path",
            str(work / f"target-{engine}"),
            "--log-path",
            str(work / f"logs-{engine}"),
        ]
        runs[engine] = (
            subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=open(out, "w"),  # noqa: SIM115 (closed with the process)
                stderr=subprocess.STDOUT,
            ),
            out,
        )
    results = {}
    for engine, (proc, out) in runs.items():
        code = proc.wait()
        results[engine] = (code, "".join(out.read_text().splitlines(keepends=True)[-15:]))
    return results
