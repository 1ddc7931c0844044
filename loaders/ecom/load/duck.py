"""Load the landing zone into the local DuckDB warehouse, reading ``s3://`` through httpfs.

A load runs in two phases, both while holding the warehouse's load lock:

1. **Stage** (outside any transaction, into connection-local temp tables): read each chunk
   of the manifest's objects with explicit column types; CSV rows DuckDB cannot parse are
   captured by ``store_rejects`` with the line and the error, rows that parse but break
   the contract get a reason from :data:`REASON_SQL`. An object DuckDB cannot read at all
   (corrupt gzip, not Parquet) is set aside as ``unreadable``. Nothing persistent changes.
2. **Commit** (one transaction): valid rows into ``raw.events``, rejected rows into
   ``raw.load_rejects``, one ``raw.load_audit`` row per object; then ``COMMIT``.

A crash anywhere before the ``COMMIT`` leaves the warehouse as it was; the audit row of an
object is committed with its rows, so a rerun skips exactly what was committed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from ecom import quarantine
from ecom.load import checks
from ecom.load.core import (
    LoadError,
    LoadReport,
    LockTimeout,
    ObjectResult,
    ProgressFn,
    chunks,
    exclusive_lock,
    new_load_id,
    pending,
    utc_now,
)
from ecom.load.landing import (
    LANDING_PREFIX,
    LandingObject,
    list_landing_objects,
    read_manifest,
    write_manifest,
    write_quarantine,
)
from ecom.warehouse import (
    LOAD_AUDIT_COLUMNS,
    LOAD_AUDIT_DDL_DUCKDB,
    RAW_EVENT_COLUMNS,
    connect_duckdb,
    duckdb_path,
)

#: Columns of a landing CSV object, in the contract's order. Everything is staged as text:
#: the contract checks (``ecom.load.checks``) want the canonical spelling, and only rows that
#: pass them are cast into ``raw.events``.
CSV_COLUMNS: dict[str, str] = dict.fromkeys(
    (*checks.STAGE_COLUMNS[:-1], "ingested_at", "source"), "VARCHAR"
)
#: The staged columns (both formats), after the object's URL.
STAGE_COLUMNS: tuple[str, ...] = tuple(c for c in CSV_COLUMNS if c != "ingested_at")

#: The first contract rule a typed row breaks, or NULL (generated from ``ecom.contract``).
REASON_SQL = checks.reason_sql("duckdb")
_DETAIL_SQL = checks.detail_sql()
_RAW_SQL = checks.raw_sql()

#: DuckDB's CSV error types, as contract reasons.
_CSV_ERROR_REASON_SQL = """case
    when error_type = 'INVALID ENCODING' then 'invalid_utf8'
    when error_type in ('TOO MANY COLUMNS', 'MISSING COLUMNS') then 'wrong_field_count'
    when error_type = 'CAST' then 'bad_' || column_name
    else 'malformed_csv'
end"""
_CSV_ERROR_RANK_SQL = """case
    when error_type = 'INVALID ENCODING' then 0
    when error_type in ('TOO MANY COLUMNS', 'MISSING COLUMNS') then 1
    when error_type = 'CAST' then 10 + coalesce(column_idx, 0)
    else 2
end"""

_STAGE_DDL = """
create or replace temp table load_stage (
    source_url varchar, event_id varchar, event_time varchar, event_type varchar,
    product_id varchar, category_id varchar, category_code varchar, brand varchar, price varchar,
    user_id varchar, user_session varchar, source varchar, reason varchar
);
create or replace temp table load_stage_errors (
    source_url varchar, line bigint, reason varchar, detail varchar, raw varchar
);
create or replace temp table load_objects (
    bucket varchar, object_key varchar, etag varchar, bytes bigint, format varchar, status varchar,
    rows_read bigint, rows_loaded bigint, rows_rejected bigint, load_id varchar,
    manifest_key varchar, loaded_at timestamp, detail varchar
);
"""

#: load_objects: raw.load_audit's columns and the unreadable object's error.
_OBJECT_COLUMNS = (*LOAD_AUDIT_COLUMNS, "detail")

#: A chunk is read by one DuckDB scan: big enough to keep both cores busy, small enough to
#: keep one bad object from costing much when the chunk is re-read object by object.
CHUNK_BYTES = 256 * 2**20
CHUNK_OBJECTS = 256


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _url_list(objects: list[LandingObject]) -> str:
    return "[" + ", ".join(_quote(o.url) for o in objects) + "]"


# -- connection -----------------------------------------------------------------------------------


def load_httpfs(con: duckdb.DuckDBPyConnection) -> None:
    """Load httpfs, installing it from the pinned ``duckdb-extension-httpfs`` wheel if needed."""
    try:
        con.execute("load httpfs")
    except duckdb.Error:
        import duckdb_extensions

        duckdb_extensions.import_extension("httpfs", con)
        con.execute("load httpfs")


def configure_s3(con: duckdb.DuckDBPyConnection, client: Any) -> None:
    """Point DuckDB's S3 reader at the same endpoint and credentials as the boto3 ``client``."""
    load_httpfs(con)
    options = [
        "type s3",
        f"region {_quote(client.meta.region_name or 'us-east-1')}",
    ]
    signer = getattr(client, "_request_signer", None)
    credentials = getattr(signer, "_credentials", None)
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options.append(f"key_id {_quote(frozen.access_key)}")
        options.append(f"secret {_quote(frozen.secret_key)}")
        if frozen.token:
            options.append(f"session_token {_quote(frozen.token)}")
    endpoint = urlsplit(client.meta.endpoint_url)
    if endpoint.hostname and not endpoint.hostname.endswith("amazonaws.com"):
        options.append(f"endpoint {_quote(endpoint.netloc)}")
        options.append("url_style 'path'")
        options.append(f"use_ssl {'true' if endpoint.scheme == 'https' else 'false'}")
    con.execute(f"create or replace secret ecom_landing ({', '.join(options)})")


def held_by_another_process(path: Path) -> bool:
    """Another process holds DuckDB's write lock on ``path`` (a POSIX record lock on the file).

    Asked of the file itself rather than read from DuckDB's error message. Call it only while
    this process has no connection to ``path`` open: closing our descriptor drops every POSIX
    lock this process holds on the file.
    """
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def connect_waiting(path: Path, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to ``timeout`` s while another process (dbt) holds it."""
    deadline = time.monotonic() + timeout
    failed_while_free = 0
    while True:
        try:
            con = connect_duckdb(path)
            con.execute("set enable_progress_bar = false")  # the CLI draws its own
            con.execute(LOAD_AUDIT_DDL_DUCKDB)
            return con
        except duckdb.IOException as exc:
            if not held_by_another_process(path):
                # Either the error is not about the lock, or the holder let go between our
                # attempt and the check: one more attempt tells the two apart.
                failed_while_free += 1
                if failed_while_free > 1:
                    raise LoadError(f"cannot open the warehouse {path}: {exc}") from exc
                continue
            failed_while_free = 0
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"another process has held the warehouse {path} for {timeout:g} s "
                    f"(DuckDB allows one writer): {str(exc).splitlines()[0]}"
                ) from exc
            time.sleep(0.2)


# -- staging --------------------------------------------------------------------------------------


def _stage_csv(con: duckdb.DuckDBPyConnection, objects: list[LandingObject]) -> None:
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in CSV_COLUMNS.items()) + "}"
    con.execute("drop table if exists load_csv_errors; drop table if exists load_csv_scans")
    read = (
        f"read_csv({_url_list(objects)}, columns = {columns}, header = true, auto_detect = false,"
        " delim = ',', quote = '\"', escape = '\"', filename = true, hive_partitioning = false,"
        " store_rejects = true, rejects_table = 'load_csv_errors', rejects_scan = 'load_csv_scans')"
    )
    cols = ", ".join(STAGE_COLUMNS)
    con.execute(
        f"insert into load_stage select filename, {cols}, {REASON_SQL}"
        f" from (select filename, {cols} from {read})"
    )
    con.execute(
        f"""insert into load_stage_errors
        select s.file_path, e.line,
               arg_min({_CSV_ERROR_REASON_SQL}, {_CSV_ERROR_RANK_SQL}),
               arg_min(e.error_message, {_CSV_ERROR_RANK_SQL}),
               any_value(e.csv_line)
        from load_csv_errors e join load_csv_scans s using (scan_id, file_id)
        group by s.file_path, e.line"""
    )


def _stage_parquet(con: duckdb.DuckDBPyConnection, objects: list[LandingObject]) -> None:
    read = f"read_parquet({_url_list(objects)}, filename = true, hive_partitioning = false, union_by_name = true)"
    present = {row[0]: row[1] for row in con.execute(f"describe select * from {read}").fetchall()}
    exprs = []
    for column, sql_type in CSV_COLUMNS.items():
        if column == "ingested_at":
            continue
        if column not in present:
            exprs.append(f"null::{sql_type} as {column}")
        elif column == "price" and present[column] != "VARCHAR":
            exprs.append("try_cast(try_cast(price as decimal(10,2)) as varchar) as price")
        else:
            exprs.append(f"try_cast({column} as {sql_type}) as {column}")
    cols = ", ".join(STAGE_COLUMNS)
    con.execute(
        f"insert into load_stage select filename, {cols}, {REASON_SQL}"
        f" from (select filename, {', '.join(exprs)} from {read})"
    )


def _stage(con: duckdb.DuckDBPyConnection, objects: list[LandingObject]) -> None:
    if objects[0].format == "csv":
        _stage_csv(con, objects)
    else:
        _stage_parquet(con, objects)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def stage_objects(
    con: duckdb.DuckDBPyConnection,
    objects: list[LandingObject],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    chunk_objects: int = CHUNK_OBJECTS,
    progress: ProgressFn | None = None,
) -> dict[str, str]:
    """Stage every object; returns {url: error} for the objects DuckDB could not read at all."""
    unreadable: dict[str, str] = {}
    done = 0
    for group in chunks(objects, chunk_bytes, chunk_objects):
        try:
            _stage(con, group)
        except duckdb.Error as exc:
            if len(group) == 1:
                unreadable[group[0].url] = _first_line(exc)
            else:  # find the bad objects: one scan per object of this chunk
                for obj in group:
                    try:
                        _stage(con, [obj])
                    except duckdb.Error as one:
                        unreadable[obj.url] = _first_line(one)
        done += len(group)
        if progress:
            progress(done, len(objects), f"staged {group[-1].key.rsplit('/', 1)[-1]}")
    return unreadable


# -- the load -------------------------------------------------------------------------------------


def load_duckdb(
    bucket: str,
    *,
    client: Any,
    db_path: Path | None = None,
    prefix: str = LANDING_PREFIX,
    lock_timeout: float = 60.0,
    chunk_bytes: int = CHUNK_BYTES,
    chunk_objects: int = CHUNK_OBJECTS,
    progress: ProgressFn | None = None,
    before_commit: Callable[[], None] | None = None,
) -> LoadReport:
    """Load every landing object not yet in ``raw.load_audit`` into the DuckDB warehouse.

    ``before_commit`` runs inside the transaction just before ``COMMIT`` (tests use it to
    crash there). Returns the report; nothing is committed if anything raises.
    """
    path = db_path or duckdb_path()
    report = LoadReport(target="duckdb", load_id=new_load_id())
    with exclusive_lock(
        path.with_name(path.name + ".load.lock"), lock_timeout, f"the warehouse {path}"
    ):
        con = connect_waiting(path, lock_timeout)
        try:
            _load_locked(
                con,
                report,
                bucket,
                client,
                prefix,
                chunk_bytes,
                chunk_objects,
                progress,
                before_commit,
            )
        finally:
            con.close()
    return report


def count_rejects(con: Any, report: LoadReport, placeholder: str = "?") -> None:
    """``report.rejected_by_reason`` from the load's raw.load_rejects rows (unreadable objects
    apart: they are counted as objects); ``placeholder``: the driver's (``%s`` for psycopg)."""
    for reason, n in con.execute(
        "select reason, count(*) from raw.load_rejects"
        f" where load_id = {placeholder} and reason <> 'unreadable_object' group by reason",
        [report.load_id],
    ).fetchall():
        report.rejected_by_reason[reason] = int(n)


def plan_load(
    report: LoadReport, client: Any, bucket: str, prefix: str, audited: list[Any]
) -> tuple[list[LandingObject], dict[str, str]] | None:
    """The landing objects under ``prefix`` that the ``audited`` rows do not hold yet, with
    their manifests written (:func:`write_manifests`); None when there are none. ``report``
    counts the listed and the skipped objects."""
    listed = list(list_landing_objects(client, bucket, prefix))
    todo = pending(listed, audited)
    report.objects_listed = len(listed)
    report.objects_skipped = len(listed) - len(todo)
    return write_manifests(client, bucket, report, todo) if todo else None


def rejects_query(bucket: str) -> str:
    """The staged load's raw.load_rejects rows (parameters ``$load_id`` and ``$at``): rows the
    checks rejected, rows the CSV reader could not parse, unreadable objects."""
    key_start = len(f"s3://{bucket}/") + 1
    return f"""select $load_id as load_id, substr(source_url, {key_start}) as object_key,
                   null as line, reason, {_DETAIL_SQL} as detail, {_RAW_SQL} as raw,
                   $at as rejected_at
            from load_stage where reason is not null
            union all
            select $load_id, substr(source_url, {key_start}), line, reason, detail, raw, $at
            from load_stage_errors
            union all
            select $load_id, object_key, null, 'unreadable_object', detail, null, $at
            from load_objects where status = 'unreadable'"""


def _load_locked(
    con: duckdb.DuckDBPyConnection,
    report: LoadReport,
    bucket: str,
    client: Any,
    prefix: str,
    chunk_bytes: int,
    chunk_objects: int,
    progress: ProgressFn | None,
    before_commit: Callable[[], None] | None,
) -> None:
    audited = con.execute("select bucket, object_key, etag from raw.load_audit").fetchall()
    planned = plan_load(report, client, bucket, prefix, audited)
    if planned is None:
        return
    ordered, manifest_of = planned

    configure_s3(con, client)
    con.execute(_STAGE_DDL)
    unreadable = stage_objects(
        con, ordered, chunk_bytes=chunk_bytes, chunk_objects=chunk_objects, progress=progress
    )

    counts = stage_counts(con)

    loaded_at = utc_now()
    report.loaded_at = loaded_at
    rows: dict[str, list[Any]] = {name: [] for name in _OBJECT_COLUMNS}
    for obj in ordered:
        values = object_row(report, bucket, obj, counts, unreadable, manifest_of, loaded_at)
        for name, value in zip(_OBJECT_COLUMNS, values, strict=True):
            rows[name].append(value)
    object_rows = pa.table(rows)  # noqa: F841  (DuckDB reads it by name)
    con.execute("insert into load_objects select * from object_rows")

    con.execute("begin transaction")
    try:
        con.execute(
            f"""insert into raw.events ({", ".join(RAW_EVENT_COLUMNS)})
            select event_id, {checks.TYPED_SELECT},
                   coalesce(source, nullif(regexp_extract(source_url, 'source=([^/]+)', 1), ''), 'unknown'),
                   source_url, $loaded_at
            from load_stage where reason is null""",
            {"loaded_at": loaded_at},
        )
        con.execute(
            f"insert into raw.load_rejects {rejects_query(bucket)}",
            {"load_id": report.load_id, "at": loaded_at},
        )
        con.execute(
            """insert into raw.load_audit
            select * exclude (detail) from load_objects"""
        )
        if before_commit is not None:
            before_commit()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    report.committed = True
    count_rejects(con, report)
    if report.rejected_by_reason or report.objects_unreadable:
        records = _quarantine_records(con, report.load_id)
        report.quarantine = write_quarantine(client, bucket, report.load_id, records)


def write_manifests(
    client: Any, bucket: str, report: LoadReport, todo: list[LandingObject]
) -> tuple[list[LandingObject], dict[str, str]]:
    """One manifest per format (keys added to ``report.manifests``); the objects in the order
    the manifests list them, and each object's manifest key by URL."""
    by_url = {o.url: o for o in todo}
    ordered: list[LandingObject] = []
    manifest_of: dict[str, str] = {}
    for fmt in ("csv", "parquet"):
        objects = [o for o in todo if o.format == fmt]
        if not objects:
            continue
        key = write_manifest(client, bucket, report.load_id, fmt, objects)
        report.manifests.append(key)
        for url in read_manifest(client, bucket, key):  # load exactly what the manifest lists
            ordered.append(by_url[url])
            manifest_of[url] = key
    return ordered, manifest_of


def stage_counts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """(loaded, rejected) rows per staged object URL."""
    return {
        url: (int(loaded), int(rejected))
        for url, loaded, rejected in con.execute(
            """select source_url, sum(loaded), sum(rejected) from (
                   select source_url, count(*) filter (where reason is null) as loaded,
                          count(*) filter (where reason is not null) as rejected
                   from load_stage group by source_url
                   union all
                   select source_url, 0, count(*) from load_stage_errors group by source_url)
               group by source_url"""
        ).fetchall()
    }


def object_row(
    report: LoadReport,
    bucket: str,
    obj: LandingObject,
    counts: dict[str, tuple[int, int]],
    unreadable: dict[str, str],
    manifest_of: dict[str, str],
    loaded_at: Any,
) -> tuple[Any, ...]:
    """Record the object's result in ``report``; its load_objects row (load_audit's columns)."""
    loaded, rejected = counts.get(obj.url, (0, 0))
    result = ObjectResult(obj, loaded + rejected, loaded, rejected)
    if obj.url in unreadable:
        result.status, result.detail = "unreadable", unreadable[obj.url]
    report.objects.append(result)
    return (
        bucket,
        obj.key,
        obj.etag,
        obj.size,
        obj.format,
        result.status,
        result.rows_read,
        result.rows_loaded,
        result.rows_rejected,
        report.load_id,
        manifest_of[obj.url],
        loaded_at,
        result.detail,
    )


def _quarantine_records(con: duckdb.DuckDBPyConnection, load_id: str) -> list[dict[str, Any]]:
    rows = con.execute(
        "select object_key, line, reason, detail, raw from raw.load_rejects where load_id = ?"
        " order by object_key, line",
        [load_id],
    ).fetchall()
    return [quarantine.record("load", r[0], r[1], r[2], r[3], r[4], load_id=load_id) for r in rows]
