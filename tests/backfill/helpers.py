"""Compare the Python validator and the Spark job on the same files, row by row."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from ecom.backfill import load_job
from ecom.events import Event, Rejection, read_csv_events

Row = tuple[Any, ...]


def python_outcomes(files: list[Path]) -> tuple[Counter[Row], dict[tuple[str, int], str]]:
    """Accepted rows (as a multiset) and {(file name, line): reason} from ``ecom.events``."""
    accepted: Counter[Row] = Counter()
    rejected: dict[tuple[str, int], str] = {}
    for path in files:
        for outcome in read_csv_events(path):
            if isinstance(outcome, Event):
                accepted[outcome.to_row()] += 1
            else:
                assert isinstance(outcome, Rejection)
                assert outcome.line_no is not None
                rejected[(path.name, outcome.line_no)] = outcome.reason
    return accepted, rejected


def spark_outcomes(root: Path) -> tuple[Counter[Row], dict[tuple[str, int], str]]:
    """The same two things, read back from what the Spark job published under ``root``."""
    job = load_job()
    accepted: Counter[Row] = Counter()
    parquet = sorted((root / job.LANDING_PREFIX).glob("event_date=*/part-*.parquet"))
    if parquet:
        rows = duckdb.execute(
            """
            select event_id, strftime(event_time, '%Y-%m-%d %H:%M:%S'), event_type,
                   product_id::varchar, category_id::varchar, coalesce(category_code, ''),
                   coalesce(brand, ''), price::varchar, user_id::varchar,
                   coalesce(user_session, '')
            from read_parquet(?)
            """,
            [[str(p) for p in parquet]],
        ).fetchall()
        accepted.update(rows)
    rejected: dict[tuple[str, int], str] = {}
    for q in sorted((root / job.QUARANTINE_PREFIX).glob("*.jsonl")):
        for line in q.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            rejected[(Path(record["source"]).name, record["line"])] = record["reason"]
    return accepted, rejected
