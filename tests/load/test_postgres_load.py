"""``ecom load --target postgres`` and ``ecom load-files --target postgres`` on a real server.

The landing objects live on the suite's real moto S3 server; PostgreSQL is a throwaway
server (tests/postgres_fixtures.py) with a fresh database per test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from load_helpers import Landing, gzip_csv, landing_rows, make_event, run_at_once, stream_key

from ecom.files import load_files
from ecom.load.duck import load_duckdb
from ecom.pg.load import PostgresSettings, load_files_postgres, load_postgres
from ecom.warehouse import duckdb_path
from postgres_fixtures import PostgresDatabase

pytestmark = pytest.mark.xdist_group("postgres")


def pg_rows(sql: str) -> list[tuple[Any, ...]]:
    with PostgresSettings.from_env().connect() as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]


def pg_events() -> Counter[str]:
    return Counter(r[0] for r in pg_rows("select event_id from raw.events"))


def put_batches(landing: Landing, n: int, per_object: int) -> tuple[list[str], list[str]]:
    events = [make_event(i) for i in range(n)]
    keys = []
    for k, start in enumerate(range(0, n, per_object)):
        key = stream_key("2019-10-01", f"shardId-{k % 2:012d}", start)
        landing.put_events(key, events[start : start + per_object])
        keys.append(key)
    return keys, [e.event_id for e in events]


def test_load_is_exact_audited_and_idempotent(
    landing: Landing, postgres_db: PostgresDatabase
) -> None:
    keys, ids = put_batches(landing, 1_000, per_object=150)

    first = load_postgres(landing.bucket, client=landing.client)

    assert pg_events() == Counter(ids)
    assert (first.objects_loaded, first.read, first.loaded, first.rejected) == (len(keys), 1_000, 1_000, 0)  # fmt: skip
    audit = pg_rows(
        "select object_key, etag, rows_read, rows_loaded, status, manifest_key from raw.load_audit"
    )
    assert sorted(a[0] for a in audit) == sorted(keys)
    assert all(a[2] == a[3] and a[4] == "loaded" and a[5] in first.manifests for a in audit)
    manifest_urls = [
        entry["url"] for key in first.manifests for entry in json.loads(landing.get(key))["entries"]
    ]
    assert sorted(manifest_urls) == sorted(f"s3://{landing.bucket}/{k}" for k in keys)
    # typed exactly as landed, from the object's key
    e = make_event(7)
    row = pg_rows(
        "select to_char(event_time, 'YYYY-MM-DD HH24:MI:SS'), product_id, price::text, user_session,"
        f" source, source_object from raw.events where event_id = '{e.event_id}'"
    )[0]
    assert row[:5] == (e.event_time, e.product_id, e.price, e.user_session, "stream")
    # every row names the s3:// object it came from (the same on every target)
    landed = {i: f"s3://{landing.bucket}/{keys[n // 150]}" for n, i in enumerate(ids)}
    assert dict(pg_rows("select event_id, source_object from raw.events")) == landed

    again = load_postgres(landing.bucket, client=landing.client)

    assert (again.objects_loaded, again.objects_skipped, again.manifests) == (0, len(keys), [])
    assert sum(pg_events().values()) == 1_000


def test_rejects_and_audit_match_the_duckdb_loader(
    landing: Landing, postgres_db: PostgresDatabase
) -> None:
    # given one object with good and bad rows, and one that is not gzip at all
    good = [make_event(i) for i in range(20)]
    rows = landing_rows(good)
    t = rows[0]
    bad = [
        ["not-an-id", *t[1:]],
        [*t[:1], "2019-02-30 00:00:00", *t[2:]],
        [*t[:2], "like", *t[3:]],
        [*t[:3], "12x", *t[4:]],
        [*t[:3], "-5", *t[4:]],
        [*t[:7], "1.999", *t[8:]],
        t[:6],
        [*t[:6], "b" * 300, *t[7:]],
        [*t[:5], "", *t[6:]],  # an empty category code: a valid row, NULL in both warehouses
    ]
    landing.put(stream_key("2019-10-01", "shardId-000000000000", 1), gzip_csv(rows + bad))
    broken = stream_key("2019-10-01", "shardId-000000000000", 2)
    landing.put(broken, b"PK\x03\x04 a zip file, not gzip")

    # when both loaders load the same bucket
    post = load_postgres(landing.bucket, client=landing.client)
    duck = load_duckdb(landing.bucket, client=landing.client)

    # then they count, reject and audit alike
    assert (post.read, post.loaded, post.rejected) == (duck.read, duck.loaded, duck.rejected) == (29, 21, 8)  # fmt: skip
    assert post.rejected_by_reason == duck.rejected_by_reason
    assert [o.obj.key for o in post.objects_unreadable] == [broken]
    con = duckdb.connect(str(duckdb_path()), read_only=True)
    try:
        for sql in (
            "select object_key, line, reason, detail, raw from raw.load_rejects",
            "select object_key, etag, status, rows_read, rows_loaded, rows_rejected from raw.load_audit",
            "select event_id, event_time, event_type, product_id, category_id, category_code,"
            " brand, price, user_id, user_session, source, source_object from raw.events",
        ):
            in_duckdb = sorted(map(tuple, con.execute(sql).fetchall()), key=repr)
            assert sorted(pg_rows(sql), key=repr) == in_duckdb, sql
    finally:
        con.close()
    records = [json.loads(line) for line in landing.get(str(post.quarantine)).splitlines()]
    assert Counter(r["reason"] for r in records) == post.rejected_by_reason + Counter(
        unreadable_object=1
    )


def test_an_error_before_commit_loads_nothing(
    landing: Landing, postgres_db: PostgresDatabase
) -> None:
    _, ids = put_batches(landing, 300, per_object=100)

    def crash() -> None:
        raise RuntimeError("crash between COPY and COMMIT")

    with pytest.raises(RuntimeError, match="between COPY and COMMIT"):
        load_postgres(landing.bucket, client=landing.client, before_commit=crash)

    assert pg_rows("select (select count(*) from raw.events), (select count(*) from raw.load_audit)") == [(0, 0)]  # fmt: skip
    report = load_postgres(landing.bucket, client=landing.client)
    assert report.objects_loaded == 3
    assert pg_events() == Counter(ids)


def test_two_loaders_at_once_never_load_an_object_twice(
    landing: Landing, postgres_db: PostgresDatabase
) -> None:
    keys, ids = put_batches(landing, 2_000, per_object=100)
    script = textwrap.dedent(
        f"""
        import json, time
        from ecom.load.landing import s3_client
        from ecom.pg.load import load_postgres
        report = load_postgres({landing.bucket!r}, client=s3_client(), before_commit=lambda: time.sleep(1.0))
        print(json.dumps({{"objects": report.objects_loaded}}))
        """
    )
    outputs = run_at_once(script)

    assert sorted(o["objects"] for o in outputs) == [0, len(keys)]
    assert pg_events() == Counter(ids)


def test_load_files_matches_the_duckdb_file_loader(
    postgres_db: PostgresDatabase, sample_files: list[Path], tmp_path: Path
) -> None:
    from datetime import datetime

    at = datetime(2020, 3, 1, 12, 0, 0, 123456)
    post = load_files_postgres(sample_files, quarantine_dir=tmp_path / "q", loaded_at=at)
    db = tmp_path / "w.duckdb"
    duck = load_files(sample_files, db_path=db, quarantine_dir=tmp_path / "q", loaded_at=at)
    assert (post.files, post.read, post.loaded, post.rejected) == (duck.files, duck.read, duck.loaded, duck.rejected)  # fmt: skip
    assert post.read == post.loaded + post.rejected
    columns = "event_id, event_time, event_type, product_id, category_id, category_code, brand, price, user_id, user_session, source, source_object, loaded_at"  # fmt: skip
    con = duckdb.connect(str(db), read_only=True)
    expected = sorted(
        map(tuple, con.execute(f"select {columns} from raw.events").fetchall()), key=repr
    )
    con.close()
    assert sorted(pg_rows(f"select {columns} from raw.events"), key=repr) == expected
    # a second load of the same files is skipped
    again = load_files_postgres(sample_files, quarantine_dir=tmp_path / "q")
    assert (again.files, len(again.skipped_files)) == (0, len(sample_files))


def test_cli_load_files_into_postgres(postgres_db: PostgresDatabase, tmp_path: Path) -> None:
    rows = [
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session",
        "2019-10-01 00:00:00 UTC,view,5802432,2053013552259662037,,,1.50,463240011,s1",
        "2019-10-01 00:00:01 UTC,nope,5802432,2053013552259662037,,,1.50,463240011,s1",
    ]
    path = tmp_path / "2019-Oct.csv"
    path.write_text("\n".join(rows) + "\n")
    env = {**os.environ, "ECOM_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-m", "ecom.cli", "load-files", "--target", "postgres", str(path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "read 2 · loaded 1 · rejected 1" in run.stdout
    assert pg_rows("select count(*) from raw.events") == [(1,)]
    missing = subprocess.run(
        [sys.executable, "-m", "ecom.cli", "load-files", "--target", "postgres", str(path)],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in env.items() if k != "DBT_ENV_SECRET_POSTGRES_PASSWORD"},
    )  # fmt: skip
    assert missing.returncode == 1 and "ecom postgres up" in missing.stderr
