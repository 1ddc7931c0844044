"""Loader: rows/s from the emulator's landing zone into DuckDB, against a bare DuckDB read of the same objects.

Both sides read the same gzip CSV objects from the same moto server through httpfs and write
a fresh DuckDB file; the baseline is ``create table ... as select * from read_csv(...)`` with
typed columns (no validation, no quarantine, no audit, no manifest).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import duckdb
from moto.server import ThreadedMotoServer

from benchmarks.run import Context, Result
from ecom.generate import FULL_SCALE_ROWS, GenerateConfig, generate
from ecom.load.duck import CSV_COLUMNS, configure_s3, load_duckdb
from ecom.load.landing import LandingObject, list_landing_objects

TARGET_RATIO = 1.5
ROWS_PER_OBJECT = 250_000

#: The landing rows of the generated CSV, event_id as the contract computes it in SQL.
LANDING_SQL = """
select md5(concat_ws(chr(31), strftime(t, '%Y-%m-%d %H:%M:%S'), event_type, product_id::varchar,
         category_id::varchar, coalesce(category_code, ''), coalesce(brand, ''),
         printf('%.2f', price), user_id::varchar, coalesce(user_session, ''))) as event_id,
       strftime(t, '%Y-%m-%d %H:%M:%S') as event_time, event_type, product_id, category_id,
       category_code, brand, printf('%.2f', price) as price, user_id, user_session,
       '2026-01-01 00:00:00' as ingested_at, 'stream' as source
from (select strptime(replace(event_time, ' UTC', ''), '%Y-%m-%d %H:%M:%S') as t, *
      from read_csv('{src}/*.csv', header = true, types = {{'event_time': 'VARCHAR', 'price': 'DECIMAL(10,2)',
           'product_id': 'BIGINT', 'category_id': 'BIGINT', 'user_id': 'BIGINT'}}))
"""


def _landing_files(ctx: Context) -> tuple[list[Path], int]:
    rows_wanted = max(10_000, int(FULL_SCALE_ROWS * ctx.scale))
    src = ctx.cache.get("generated_dir")
    if src is None or ctx.cache.get("generated_rows", 0) < rows_wanted * 0.9:
        src = ctx.workdir / "load-generated"
        shutil.rmtree(src, ignore_errors=True)
        generate(GenerateConfig(out=src, events=rows_wanted, seed=46))
    return write_landing_objects(src, ctx.workdir / "load-landing", ROWS_PER_OBJECT)


def write_landing_objects(src: Path, out: Path, rows_per_object: int) -> tuple[list[Path], int]:
    """The generated CSV files in ``src`` as landing objects (gzip CSV of ``rows_per_object``
    rows, as the sink writes them) in a fresh ``out``; the files and their rows."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"create table landing as {LANDING_SQL.format(src=src)}")
    total = int(con.execute("select count(*) from landing").fetchone()[0])  # type: ignore[index]
    files = []
    for n, start in enumerate(range(0, total, rows_per_object)):
        path = out / f"{n:06d}.csv.gz"
        con.execute(
            f"copy (select * from landing limit {rows_per_object} offset {start})"
            f" to '{path}' (header, compression gzip)"
        )
        files.append(path)
    con.close()
    return files, total


@contextmanager
def landing_on_moto(
    files: list[Path], bucket_prefix: str
) -> Iterator[tuple[Any, str, list[LandingObject], int]]:
    """A moto server on 127.0.0.1 with ``files`` uploaded as stream landing objects of a new
    bucket: its S3 client, the bucket, the landing objects and their bytes. Stops on exit."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1")
        bucket = f"{bucket_prefix}-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        total_bytes = 0
        for n, path in enumerate(files):
            key = f"landing/events/source=stream/dt=2019-10-01/shard=bench/{n:020d}.csv.gz"
            client.upload_file(str(path), bucket, key)
            total_bytes += path.stat().st_size
        yield client, bucket, list(list_landing_objects(client, bucket)), total_bytes
    finally:
        server.stop()


def load_and_rerun(load: Callable[[], Any], rows: int) -> tuple[float, float]:
    """Seconds of a loader's first run over the landing objects (``load()``, which must load
    all ``rows``) and of its rerun (which must find nothing new)."""
    start = time.perf_counter()
    report = load()
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    rerun = load()
    rerun_seconds = time.perf_counter() - start
    assert report.loaded == rows, (report.loaded, rows)
    assert rerun.loaded == 0, rerun.loaded
    return seconds, rerun_seconds


def run(ctx: Context) -> list[Result]:
    files, rows = _landing_files(ctx)
    with landing_on_moto(files, "bench-landing") as (client, bucket, objects, total_bytes):
        # baseline: bare DuckDB read of the same objects into a fresh file
        base_db = ctx.workdir / "load-baseline.duckdb"
        base_db.unlink(missing_ok=True)
        con = duckdb.connect(str(base_db))
        con.execute("set enable_progress_bar = false")
        configure_s3(con, client)
        columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in CSV_COLUMNS.items()) + "}"
        urls = "[" + ", ".join(f"'{o.url}'" for o in objects) + "]"
        start = time.perf_counter()
        con.execute(
            f"create table events as select * from read_csv({urls}, columns = {columns},"
            " header = true, auto_detect = false)"
        )
        con.execute("checkpoint")
        baseline = time.perf_counter() - start
        base_rows = con.execute("select count(*) from events").fetchone()[0]  # type: ignore[index]
        con.close()
        base_db.unlink(missing_ok=True)

        # the loader: manifest, staging with validation, one transaction with the audit
        load_db = ctx.workdir / "load-warehouse.duckdb"
        load_db.unlink(missing_ok=True)
        assert base_rows == rows, (base_rows, rows)
        seconds, rerun_seconds = load_and_rerun(
            lambda: load_duckdb(bucket, client=client, db_path=load_db), rows
        )
        load_db.unlink(missing_ok=True)
    ratio = seconds / baseline
    return [
        Result(
            "load",
            "landing zone -> DuckDB raw.events",
            rows / seconds,
            "rows/s",
            "bare DuckDB read_csv of the same objects into a table",
            rows / baseline,
            ratio,
            f"<= {TARGET_RATIO}x the baseline's time",
            ratio <= TARGET_RATIO,
            notes=f"{rows:,} rows in {len(objects)} gzip CSV objects ({total_bytes / 1e6:,.0f} MB) on a "
            f"moto server over HTTP; loader {seconds:.1f} s vs baseline {baseline:.1f} s (both write "
            f"a fresh DuckDB file). A rerun that finds nothing new took {rerun_seconds:.2f} s.",
        ),
        Result("load", "rerun with nothing new", rerun_seconds, "s"),
    ]
