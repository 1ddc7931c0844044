"""Issue 6, done when: one generated slice through the stream path and through the Spark path
gives the same event_ids in raw.events, the same stg_events and identical marts.

(a) stream: ecom produce -> ecom sink --until-caught-up -> ecom load (warehouse A)
(b) Spark:  backfill (shared local session) -> publish to the bucket -> ecom load (warehouse B)
then a real ``dbt build`` on each warehouse, and A and B compared table by table in DuckDB.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from aws_fixtures import AwsStack
from ecom.backfill import backfill
from ecom.backfill.publish import publish_run
from ecom.cli import main
from ecom.events import Event, read_csv_events
from ecom.generate import GenerateConfig, generate
from ecom.warehouse import run_dbt

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.slow]

#: Ingestion metadata: when a row reached the warehouse, which differs between any two loads.
INGESTION_COLUMNS = {"loaded_at", "last_loaded_at"}


def _ecom(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output)


def _dbt_build(workdir: Path, db: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_DUCKDB_PATH", str(db))
        code = run_dbt(
            [
                "build",
                "--target-path",
                str(workdir / "target"),
                "--log-path",
                str(workdir / "logs"),
            ]
        )
    assert code == 0, f"dbt build failed on {db}"


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = ? and table_schema = ? and table_name = ?"
            " order by ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    ]


def _differences(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, exclude: set[str]
) -> dict[str, Any]:
    """Row counts of A and B and the rows of each that the other lacks (multiset EXCEPT ALL)."""
    cols_a = _columns(con, "a", schema, table)
    cols_b = _columns(con, "b", schema, table)
    assert cols_a == cols_b, (table, cols_a, cols_b)
    keep = ", ".join(f'"{c}"' for c in cols_a if c not in exclude)
    a = f"select {keep} from a.{schema}.{table}"
    b = f"select {keep} from b.{schema}.{table}"

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return con.execute(sql).fetchall()

    return {
        "rows": (
            rows(f"select count(*) from a.{schema}.{table}")[0][0],
            rows(f"select count(*) from b.{schema}.{table}")[0][0],
        ),
        "only_a": rows(f"{a} except all {b} limit 5"),
        "only_b": rows(f"{b} except all {a} limit 5"),
    }


def test_stream_and_spark_paths_agree_on_raw_event_ids_stg_events_and_marts(
    spark: Any, aws_stack: AwsStack, tmp_path: Path
) -> None:
    # given: one generated slice, a few days, with the generator's duplicate rows in it
    events = tmp_path / "events"
    generate(
        GenerateConfig(
            out=events, start=date(2019, 10, 1), end=date(2019, 10, 4), events=6_000, seed=6
        )
    )
    files = sorted(events.glob("*.csv"))
    source = Counter(e.event_id for f in files for e in read_csv_events(f) if isinstance(e, Event))
    assert 5_000 <= sum(source.values()) <= 7_000
    assert any(n > 1 for n in source.values())  # duplicate rows are exercised
    db_a, db_b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"

    # (a) the stream path into warehouse A
    _ecom("produce", *map(str, files))
    _ecom("sink", "--until-caught-up")
    _ecom("load", "--prefix", "landing/events/source=stream/", "--duckdb", str(db_a))

    # (b) the Spark path into warehouse B, published the way `ecom backfill --upload` does
    report = backfill(files, tmp_path / "lake", spark=spark)
    assert report.accepted == sum(source.values())
    published = publish_run(tmp_path / "lake", report)
    assert len([k for k in published.uploaded if k.endswith(".parquet")]) == len(
        report.parquet_files
    )
    _ecom("load", "--prefix", "landing/events/source=backfill/", "--duckdb", str(db_b))

    _dbt_build(tmp_path / "dbt-a", db_a)
    _dbt_build(tmp_path / "dbt-b", db_b)

    con = duckdb.connect()
    con.execute(f"attach '{db_a}' as a (read_only)")
    con.execute(f"attach '{db_b}' as b (read_only)")

    # then: raw.events holds the same event_ids; the backfill one row per source row, the
    # stream at least that (at-least-once transport may only add copies, never drop one)
    raw_a = Counter(
        dict(con.execute("select event_id, count(*) from a.raw.events group by 1").fetchall())
    )
    raw_b = Counter(
        dict(con.execute("select event_id, count(*) from b.raw.events group by 1").fetchall())
    )
    assert set(raw_a) == set(raw_b) == set(source)
    assert raw_b == source
    assert not raw_b - raw_a, "the stream path lost copies the source has"
    transport_copies = raw_a - raw_b
    sources = con.execute(
        "select (select list(distinct source) from a.raw.events),"
        " (select list(distinct source) from b.raw.events)"
    ).fetchone()
    assert sources == (["stream"], ["backfill"])

    # stg_events: identical but for ingestion time; copies_delivered counts each warehouse's
    # own raw copies, so it may differ only by the transport's repeats
    stg = _differences(con, "staging", "stg_events", INGESTION_COLUMNS | {"copies_delivered"})
    assert stg == {"rows": (len(source), len(source)), "only_a": [], "only_b": []}
    for side, raw in (("a", raw_a), ("b", raw_b)):
        copies = dict(
            con.execute(
                f"select event_id, copies_delivered from {side}.staging.stg_events"
            ).fetchall()
        )
        assert copies == dict(raw), side
    if not transport_copies:
        assert _differences(con, "staging", "stg_events", INGESTION_COLUMNS)["only_a"] == []

    # every mart, compared both ways as multisets, with row counts
    marts_a = sorted(
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables"
            " where table_catalog = 'a' and table_schema = 'marts'"
        ).fetchall()
    )
    marts_b = sorted(
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables"
            " where table_catalog = 'b' and table_schema = 'marts'"
        ).fetchall()
    )
    assert marts_a == marts_b and len(marts_a) >= 10, marts_a
    differing = {}
    for mart in marts_a:
        diff = _differences(con, "marts", mart, INGESTION_COLUMNS)
        assert diff["rows"][0] > 0, f"marts.{mart} is empty: the comparison would prove nothing"
        if diff["rows"][0] != diff["rows"][1] or diff["only_a"] or diff["only_b"]:
            differing[mart] = diff
    assert differing == {}
    con.close()
