"""``ecom load`` into DuckDB from a real moto S3 server, read through httpfs."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from load_helpers import Landing, gzip_csv, landing_rows, make_event, run_at_once, stream_key

from ecom import quarantine
from ecom.events import Event, read_csv_events
from ecom.generate import GenerateConfig, generate
from ecom.load.core import LoadError, LockTimeout, exclusive_lock
from ecom.load.duck import load_duckdb
from ecom.warehouse import duckdb_path


def warehouse_rows(sql: str) -> list[tuple]:
    con = duckdb.connect(str(duckdb_path()), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def event_counter(db_sql: str = "select event_id from raw.events") -> Counter[str]:
    return Counter(r[0] for r in warehouse_rows(db_sql))


@pytest.fixture(scope="module")
def generated_events(tmp_path_factory: pytest.TempPathFactory) -> list[Event]:
    """Valid events of a small generated slice (duplicates included, as the generator injects them)."""
    from datetime import date

    out = tmp_path_factory.mktemp("gen")
    generate(GenerateConfig(out=out, start=date(2019, 10, 1), end=date(2019, 10, 3), events=6_000))
    events = [
        e for f in sorted(out.glob("*.csv")) for e in read_csv_events(f) if isinstance(e, Event)
    ]
    assert len(events) > 3_000
    return events


def put_stream_batches(landing: Landing, events: list[Event], per_object: int) -> list[str]:
    keys = []
    for n, start in enumerate(range(0, len(events), per_object)):
        key = stream_key(events[start].event_time[:10], f"shardId-{n % 2:012d}", start)
        landing.put_events(key, events[start : start + per_object])
        keys.append(key)
    return keys


def put_backfill_parquet(landing: Landing, events: list[Event], key: str) -> None:
    """A Parquet object as Spark writes it: typed columns, the date as a partition directory."""
    table = pa.table(
        {
            "event_id": [e.event_id for e in events],
            "event_time": pa.array([e.event_time for e in events], pa.string()).cast(
                pa.timestamp("us")
            ),
            "event_type": [e.event_type for e in events],
            "product_id": pa.array([e.product_id for e in events], pa.int64()),
            "category_id": pa.array([e.category_id for e in events], pa.int64()),
            "category_code": [e.category_code for e in events],
            "brand": [e.brand for e in events],
            "price": pa.array([e.price for e in events]).cast(pa.decimal128(10, 2)),
            "user_id": pa.array([e.user_id for e in events], pa.int64()),
            "user_session": [e.user_session for e in events],
            "source": ["backfill"] * len(events),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    landing.put(key, buffer.getvalue())


def test_load_puts_exactly_the_landed_events_into_raw_events_and_a_rerun_changes_nothing(
    landing: Landing, generated_events: list[Event]
) -> None:
    # given: stream micro-batches for most events, one backfill Parquet object for the rest
    stream_part, backfill_part = generated_events[:-500], generated_events[-500:]
    keys = put_stream_batches(landing, stream_part, per_object=700)
    put_backfill_parquet(
        landing,
        backfill_part,
        "landing/events/source=backfill/event_date=2019-10-03/part-0.parquet",
    )
    landing.put("landing/events/source=backfill/event_date=2019-10-03/_SUCCESS", b"")

    # when
    first = load_duckdb(landing.bucket, client=landing.client)

    # then: the multiset of event_ids is exactly what landed (copies included)
    assert event_counter() == Counter(e.event_id for e in generated_events)
    assert first.objects_loaded == len(keys) + 1
    assert (first.read, first.loaded, first.rejected) == (len(generated_events),) * 2 + (0,)
    assert all(o.rows_read == o.rows_loaded + o.rows_rejected for o in first.objects)
    e = backfill_part[0]
    row = warehouse_rows(
        f"select strftime(event_time, '%Y-%m-%d %H:%M:%S'), product_id, category_id, price::varchar,"
        f" user_id, source, source_object from raw.events where event_id = '{e.event_id}'"
        " and source = 'backfill'"
    )[0]
    assert row[:6] == (e.event_time, e.product_id, e.category_id, e.price, e.user_id, "backfill")
    # every row names the s3:// object it came from (the same on every target)
    parquet_url = f"s3://{landing.bucket}/landing/events/source=backfill/event_date=2019-10-03/part-0.parquet"  # fmt: skip
    landed = Counter(
        [(e.event_id, parquet_url) for e in backfill_part]
        + [
            (e.event_id, f"s3://{landing.bucket}/{key}")
            for n, key in enumerate(keys)
            for e in stream_part[n * 700 : (n + 1) * 700]
        ]
    )
    assert Counter(warehouse_rows("select event_id, source_object from raw.events")) == landed
    # one audit row per object, with its ETag and rows
    audit = warehouse_rows("select object_key, etag, rows_loaded, manifest_key from raw.load_audit")
    assert len(audit) == len(keys) + 1
    assert {a[0] for a in audit} >= set(keys)
    # the manifests list exactly the loaded objects
    manifest_urls = [
        entry["url"] for key in first.manifests for entry in json.loads(landing.get(key))["entries"]
    ]
    assert sorted(manifest_urls) == sorted(f"s3://{landing.bucket}/{a[0]}" for a in audit)

    # when: loaded again
    second = load_duckdb(landing.bucket, client=landing.client)

    # then: nothing new, and no new manifest
    assert (second.objects_loaded, second.objects_skipped) == (0, len(keys) + 1)
    assert second.manifests == []
    assert sum(event_counter().values()) == len(generated_events)
    assert len(landing.keys("manifests/")) == len(first.manifests)


def test_bad_rows_are_quarantined_with_reasons_and_counts_reconcile(landing: Landing) -> None:
    good = [make_event(i) for i in range(20)]
    rows = landing_rows(good)
    template = rows[0]
    bad = [
        ["not-an-id", *template[1:]],  # bad_event_id
        [*template[:1], "2019-02-30 00:00:00", *template[2:]],  # bad_event_time (not a real date)
        [*template[:2], "like", *template[3:]],  # unknown_event_type
        [*template[:3], "12x", *template[4:]],  # bad_product_id (not digits)
        [*template[:3], "-5", *template[4:]],  # bad_product_id (not positive)
        [*template[:7], "1.999", *template[8:]],  # bad_price
        template[:6],  # wrong_field_count
        [*template[:6], "b" * 300, *template[7:]],  # field_too_long
    ]
    key = stream_key("2019-10-01", "shardId-000000000000", 1)
    landing.put(key, gzip_csv(rows + bad))
    broken = stream_key("2019-10-01", "shardId-000000000000", 2)
    landing.put(broken, b"PK\x03\x04 a zip file, not gzip")

    report = load_duckdb(landing.bucket, client=landing.client)

    assert (report.read, report.loaded, report.rejected) == (28, 20, 8)
    assert report.rejected_by_reason == Counter(
        bad_event_id=1,
        bad_event_time=1,
        unknown_event_type=1,
        bad_product_id=2,
        bad_price=1,
        wrong_field_count=1,
        field_too_long=1,
    )
    assert [o.obj.key for o in report.objects_unreadable] == [broken]
    assert event_counter() == Counter(e.event_id for e in good)
    # the quarantine in S3 holds every rejected row with its reason, plus the unreadable object
    records = [json.loads(line) for line in landing.get(str(report.quarantine)).splitlines()]
    assert Counter(r["reason"] for r in records) == report.rejected_by_reason + Counter(
        unreadable_object=1
    )
    assert all(r["detail"] for r in records)
    assert all(tuple(r)[:6] == quarantine.FIELDS and r["stage"] == "load" for r in records)
    assert {r["source"] for r in records} == {key, broken}
    # the unreadable object is audited (not retried for ever) unless it is rewritten
    assert warehouse_rows(f"select status from raw.load_audit where object_key = '{broken}'") == [
        ("unreadable",)
    ]
    landing.put_events(broken, [make_event(99)])
    again = load_duckdb(landing.bucket, client=landing.client)
    assert (again.objects_loaded, again.loaded) == (1, 1)


def test_a_rewritten_object_with_a_new_etag_is_loaded_again_and_staging_sees_the_copy(
    landing: Landing,
) -> None:
    key = stream_key("2019-10-01", "shardId-000000000000", 7)
    landing.put_events(key, [make_event(i) for i in range(5)])
    load_duckdb(landing.bucket, client=landing.client)
    landing.put_events(key, [make_event(i) for i in range(6)])  # a replay that grew

    report = load_duckdb(landing.bucket, client=landing.client)

    assert report.loaded == 6
    assert warehouse_rows("select count(*), count(distinct event_id) from raw.events") == [(11, 6)]
    assert warehouse_rows("select count(*) from raw.load_audit") == [(2,)]


def test_an_error_before_commit_loads_nothing_and_the_next_run_loads_everything_once(
    landing: Landing,
) -> None:
    events = [make_event(i) for i in range(300)]
    put_stream_batches(landing, events, per_object=100)

    def crash() -> None:
        raise RuntimeError("crash between COPY and COMMIT")

    with pytest.raises(RuntimeError, match="between COPY and COMMIT"):
        load_duckdb(landing.bucket, client=landing.client, before_commit=crash)

    assert warehouse_rows("select count(*) from raw.events") == [(0,)]
    assert warehouse_rows("select count(*) from raw.load_audit") == [(0,)]
    report = load_duckdb(landing.bucket, client=landing.client)
    assert report.objects_loaded == 3
    assert event_counter() == Counter(e.event_id for e in events)


def _loader_script(bucket: str, extra: str = "", before_commit: str = "None") -> str:
    return textwrap.dedent(
        f"""
        import json, os, signal, sys, time
        from ecom.load.landing import s3_client
        from ecom.load.duck import load_duckdb
        {extra}
        report = load_duckdb({bucket!r}, client=s3_client(), lock_timeout=60, before_commit={before_commit})
        print(json.dumps({{"objects": report.objects_loaded, "loaded": report.loaded}}))
        """
    )


def test_a_loader_killed_before_commit_leaves_the_warehouse_unchanged(landing: Landing) -> None:
    events = [make_event(i) for i in range(200)]
    put_stream_batches(landing, events, per_object=50)
    script = _loader_script(
        landing.bucket, before_commit="lambda: os.kill(os.getpid(), signal.SIGKILL)"
    )

    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), timeout=120)

    assert proc.returncode == -signal.SIGKILL
    assert warehouse_rows("select count(*) from raw.events") == [(0,)]
    assert warehouse_rows("select count(*) from raw.load_audit") == [(0,)]
    report = load_duckdb(landing.bucket, client=landing.client)
    assert event_counter() == Counter(e.event_id for e in events)
    assert report.objects_loaded == 4


def test_two_loaders_started_at_once_never_load_an_object_twice(landing: Landing) -> None:
    events = [make_event(i) for i in range(2_000)]
    keys = put_stream_batches(landing, events, per_object=100)
    # each loader sleeps inside its transaction, so the two overlap for certain
    script = _loader_script(landing.bucket, extra="", before_commit="lambda: time.sleep(1.0)")

    outputs = run_at_once(script)

    assert sorted(o["objects"] for o in outputs) == [0, len(keys)]
    assert event_counter() == Counter(e.event_id for e in events)
    assert warehouse_rows("select count(*), count(distinct object_key) from raw.load_audit") == [
        (len(keys), len(keys))
    ]


def test_a_second_loader_that_cannot_get_the_lock_in_time_fails_cleanly(landing: Landing) -> None:
    landing.put_events(stream_key("2019-10-01", "s", 1), [make_event(1)])
    path = duckdb_path()

    with (
        exclusive_lock(path.with_name(path.name + ".load.lock"), 1, "test"),
        pytest.raises(LockTimeout, match="another loader"),
    ):
        load_duckdb(landing.bucket, client=landing.client, lock_timeout=0.3)

    assert not path.exists() or warehouse_rows("select count(*) from raw.events") == [(0,)]


def test_the_loader_waits_while_another_process_holds_the_duckdb_file(
    landing: Landing, tmp_path: Path
) -> None:
    landing.put_events(stream_key("2019-10-01", "s", 1), [make_event(1), make_event(2)])
    path = duckdb_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True);"
            " time.sleep(1.5); c.close()",
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"

    report = load_duckdb(landing.bucket, client=landing.client, lock_timeout=30)

    holder.wait(timeout=30)
    assert report.loaded == 2


def test_a_warehouse_file_that_is_not_a_database_fails_at_once(landing: Landing) -> None:
    # given: no other process holds the file, but it is not a DuckDB database
    landing.put_events(stream_key("2019-10-01", "s", 1), [make_event(1)])
    path = duckdb_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a DuckDB database file, only text long enough to be read as one\n" * 8)

    # when / then: the loader names the file instead of waiting for a lock nobody holds
    with pytest.raises(LoadError, match="cannot open the warehouse"):
        load_duckdb(landing.bucket, client=landing.client, lock_timeout=600)
