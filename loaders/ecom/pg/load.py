"""Load into PostgreSQL: the landing zone (``ecom load --target postgres``) and local files
(``ecom load-files --target postgres``), with the guarantees of the DuckDB loader.

The landing zone: one PostgreSQL transaction per load::

    BEGIN
    LOCK raw.load_audit IN SHARE ROW EXCLUSIVE MODE   -- a second loader waits, then sees our rows
    SELECT bucket, object_key, etag FROM raw.load_audit WHERE bucket = ...
    (manifests written to s3://<bucket>/manifests/<load id>.<format>.manifest)
    (every object of the manifests staged and validated by the DuckDB loader's own code,
     in an in-memory DuckDB: the same reasons, the same rejects, the same unreadable objects)
    COPY raw.events (...) FROM STDIN          -- the valid rows, in bulk, each chunk of objects
                                              -- sent right after it is staged
    COPY raw.load_rejects FROM STDIN          -- the rejected rows, with their reasons
    COPY raw.load_audit FROM STDIN            -- one row per object
    COMMIT

A crash before ``COMMIT`` leaves nothing; a rerun skips exactly the committed objects.
Local files: one transaction per file, as ``ecom.files.load_files`` does for DuckDB (the same
parser, the same quarantine file), recorded in ``raw.file_loads``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import duckdb

from ecom import quarantine as quarantine_records
from ecom import settings
from ecom.files import FileLoadReport
from ecom.load import checks
from ecom.load.core import LoadError, LoadReport, ProgressFn, new_load_id
from ecom.load.core import utc_now as _utc_now
from ecom.load.landing import (
    LANDING_PREFIX,
    LandingObject,
    write_quarantine,
)
from ecom.warehouse import (
    LOAD_AUDIT_COLUMNS,
    LOAD_AUDIT_DDL_DUCKDB,
    RAW_EVENT_COLUMNS,
    RAW_EVENTS_DDL_DUCKDB,
)

#: raw.file_loads: one row per local file loaded by ``ecom load-files`` (name and size).
FILE_LOADS_DDL = """
create table if not exists raw.file_loads (
    file        varchar   not null,
    bytes       bigint    not null,
    rows_read   bigint    not null,
    rows_loaded bigint    not null,
    rows_rejected bigint  not null,
    loaded_at   timestamp not null,
    primary key (file, bytes)
)
"""
#: The raw tables on PostgreSQL: the same DDL as DuckDB's (standard SQL types).
POSTGRES_DDL: tuple[str, ...] = (RAW_EVENTS_DDL_DUCKDB, LOAD_AUDIT_DDL_DUCKDB, FILE_LOADS_DDL)

#: Objects are staged, then sent, a chunk at a time (the DuckDB loader's chunks): a large load
#: overlaps the staging of a chunk with PostgreSQL's parsing of the last. Smaller chunks were
#: slower on this 2-core machine (300k rows: 29-36 s with 8 MB chunks, 18-24 s with one).
STREAM_CHUNK_BYTES = 256 * 2**20
_REJECT_COLUMNS = ("load_id", "object_key", "line", "reason", "detail", "raw", "rejected_at")


@dataclass(frozen=True)
class PostgresSettings:
    """Where PostgreSQL is: the same variables as the dbt ``postgres`` target."""

    host: str
    port: int
    database: str
    user: str
    password: str

    @classmethod
    def from_env(cls) -> PostgresSettings:
        env = settings.get()
        if env.postgres_password is None:
            raise LoadError(
                "the postgres target needs POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, "
                "POSTGRES_DATABASE and DBT_ENV_SECRET_POSTGRES_PASSWORD in the environment "
                '(`eval "$(ecom postgres up)"` starts a local server and sets them)'
            )
        return cls(
            host=env.postgres_host,
            port=env.postgres_port,
            database=env.postgres_database,
            user=env.postgres_user,
            password=env.postgres_password.get_secret_value(),
        )

    def connect(self, **kwargs: Any) -> Any:
        import psycopg

        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=self.password,
                **kwargs,
            )
        except psycopg.OperationalError as exc:
            raise LoadError(
                f"cannot connect to PostgreSQL at {self.host}:{self.port}/{self.database}: "
                f"{str(exc).strip()}"
            ) from exc


def ensure_raw_tables(con: Any) -> None:
    """Create raw.events, raw.load_audit, raw.load_rejects and raw.file_loads if missing."""
    with con.transaction():
        # two loaders creating the tables at once must not collide: serialise on a lock
        con.execute("select pg_advisory_xact_lock(hashtext('ecom raw ddl'))")
        for ddl in POSTGRES_DDL:
            con.execute(ddl)


# -- bulk transfer: a DuckDB query's rows into a PostgreSQL table, by COPY -----------------------


def write_query(
    duck: duckdb.DuckDBPyConnection,
    query: str,
    copy: Any,
    params: dict[str, Any] | None = None,
    batch_rows: int = 100_000,
) -> None:
    """Send ``query``'s rows (DuckDB) into an open ``COPY ... FROM STDIN (FORMAT csv)``.

    The rows stream as Arrow record batches, each written as CSV by Arrow's writer (text
    quoted, NULL unquoted and empty: what PostgreSQL's CSV COPY reads back as '' and NULL;
    timestamps with their microseconds).
    """
    import io

    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, batch_size=8192)
    for batch in duck.execute(query, params or {}).to_arrow_reader(batch_rows):
        if batch.num_rows:
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())


@contextmanager
def copy_into(pg: Any, table: str, columns: Sequence[str]) -> Iterator[Any]:
    """An open ``COPY table (columns) FROM STDIN (FORMAT csv)`` whose data a writer thread
    sends, so that the caller prepares the next rows while PostgreSQL parses the last."""
    from psycopg.copy import QueuedLibpqWriter

    with (
        pg.cursor() as cur,
        cur.copy(
            f"copy {table} ({', '.join(columns)}) from stdin (format csv)",
            writer=QueuedLibpqWriter(cur),
        ) as copy,
    ):
        yield copy


def copy_query(
    duck: duckdb.DuckDBPyConnection,
    query: str,
    pg: Any,
    table: str,
    columns: Sequence[str],
    params: dict[str, Any] | None = None,
) -> None:
    """Write ``query``'s rows (DuckDB) into ``table`` (PostgreSQL) with ``COPY ... FROM STDIN``."""
    with copy_into(pg, table, columns) as copy:
        write_query(duck, query, copy, params)


# -- the landing zone ----------------------------------------------------------------------------


def load_postgres(
    bucket: str,
    *,
    client: Any,
    settings: PostgresSettings | None = None,
    prefix: str = LANDING_PREFIX,
    progress: ProgressFn | None = None,
    before_commit: Callable[[], None] | None = None,
) -> LoadReport:
    """Load every landing object not yet in ``raw.load_audit`` into PostgreSQL, in one transaction.

    ``before_commit`` runs inside the transaction just before ``COMMIT`` (tests crash there).
    """
    settings = settings or PostgresSettings.from_env()
    report = LoadReport(target="postgres", load_id=new_load_id())
    pg = settings.connect()
    try:
        ensure_raw_tables(pg)
        with pg.transaction():
            pg.execute("lock table raw.load_audit in share row exclusive mode")
            _load_locked(pg, report, bucket, client, prefix, progress, before_commit)
        report.committed = bool(report.objects)
    finally:
        pg.close()
    if report.rejected_by_reason or report.objects_unreadable:
        report.quarantine = write_quarantine(
            client, bucket, report.load_id, report_records(report, settings)
        )
    return report


def _load_locked(
    pg: Any,
    report: LoadReport,
    bucket: str,
    client: Any,
    prefix: str,
    progress: ProgressFn | None,
    before_commit: Callable[[], None] | None,
) -> None:
    from ecom.load import duck

    audited = pg.execute(
        "select bucket, object_key, etag from raw.load_audit where bucket = %s", [bucket]
    ).fetchall()
    planned = duck.plan_load(report, client, bucket, prefix, audited)
    if planned is None:
        return
    ordered, manifest_of = planned

    stage = duckdb.connect()  # in memory: staging and validation only
    try:
        stage.execute("set timezone = 'UTC'")
        stage.execute("set enable_progress_bar = false")
        duck.configure_s3(stage, client)
        stage.execute(duck._STAGE_DDL)
        loaded_at = _utc_now()
        report.loaded_at = loaded_at
        unreadable = _stage_and_copy_events(stage, pg, ordered, loaded_at, progress)
        counts = duck.stage_counts(stage)
        for obj in ordered:
            stage.execute(
                "insert into load_objects values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                list(
                    duck.object_row(report, bucket, obj, counts, unreadable, manifest_of, loaded_at)
                ),
            )

        copy_query(
            stage,
            # PostgreSQL text cannot hold NUL (a row the contract rejected may): written as \x00
            f"""select load_id, object_key, line, reason,
                   replace(detail, chr(0), '\\x00'), replace(raw, chr(0), '\\x00'), rejected_at
               from ({duck.rejects_query(bucket)})""",
            pg,
            "raw.load_rejects",
            _REJECT_COLUMNS,
            {"load_id": report.load_id, "at": loaded_at},
        )
        copy_query(
            stage,
            f"select {', '.join(LOAD_AUDIT_COLUMNS)} from load_objects",
            pg,
            "raw.load_audit",
            LOAD_AUDIT_COLUMNS,
        )
    finally:
        stage.close()
    duck.count_rejects(pg, report, "%s")
    if before_commit is not None:
        before_commit()


def _stage_and_copy_events(
    stage: duckdb.DuckDBPyConnection,
    pg: Any,
    objects: list[LandingObject],
    loaded_at: datetime,
    progress: ProgressFn | None,
) -> dict[str, str]:
    """Stage the objects a chunk at a time (the DuckDB loader's staging and validation) and
    send each chunk's valid rows into raw.events while the next chunk is staged: DuckDB reads
    and checks while PostgreSQL parses. Returns {url: error} of the unreadable objects."""
    from ecom.load import duck
    from ecom.load.core import chunks

    unreadable: dict[str, str] = {}
    staged = done = 0
    with copy_into(pg, "raw.events", RAW_EVENT_COLUMNS) as copy:
        for group in chunks(objects, STREAM_CHUNK_BYTES, duck.CHUNK_OBJECTS):
            unreadable.update(duck.stage_objects(stage, group))
            write_query(
                stage,
                f"""select event_id, {checks.TYPED_SELECT},
                       coalesce(source, nullif(regexp_extract(source_url, 'source=([^/]+)', 1), ''),
                                'unknown'),
                       source_url, $loaded_at
                   from load_stage where rowid >= $staged and reason is null""",
                copy,
                {"loaded_at": loaded_at, "staged": staged},
            )
            # the next chunk's rows come after every row staged so far (a failed insert may
            # leave a gap in the row ids: start after the largest, not at the count)
            row = stage.execute("select coalesce(max(rowid), -1) + 1 from load_stage").fetchone()
            staged = int(row[0]) if row else 0
            done += len(group)
            if progress:
                progress(done, len(objects), f"loaded {group[-1].key.rsplit('/', 1)[-1]}")
    return unreadable


def report_records(report: LoadReport, settings: PostgresSettings) -> list[dict[str, Any]]:
    """The load's rejects as quarantine records (the DuckDB loader's format)."""
    with settings.connect() as pg:
        rows = pg.execute(
            "select object_key, line, reason, detail, raw from raw.load_rejects"
            " where load_id = %s order by object_key, line",
            [report.load_id],
        ).fetchall()
    return [
        quarantine_records.record("load", r[0], r[1], r[2], r[3], r[4], load_id=report.load_id)
        for r in rows
    ]


# -- local files ---------------------------------------------------------------------------------


def load_files_postgres(
    paths: Sequence[Path],
    *,
    settings: PostgresSettings | None = None,
    quarantine_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    loaded_at: datetime | None = None,
) -> FileLoadReport:
    """``ecom.files.load_files`` into PostgreSQL: each file parsed by the event contract's
    parser, its valid rows COPYed into raw.events and a raw.file_loads row, in one transaction;
    rejected rows in a quarantine file with their reason. A file already loaded is skipped."""
    from ecom.events import ParseStats
    from ecom.files import _batch, event_batches, load_each_file

    settings = settings or PostgresSettings.from_env()
    pg = settings.connect()
    duck = duckdb.connect()
    duck.execute("set timezone = 'UTC'")
    columns = ", ".join(RAW_EVENT_COLUMNS)

    def load_one(
        path: Path, key: str, size: int, at: datetime, stats: ParseStats, quarantine: TextIO
    ) -> bool:
        with pg.transaction():
            # a second loader of the same file waits here, then sees it loaded
            pg.execute("select pg_advisory_xact_lock(hashtext(%s))", [key])
            seen = pg.execute(
                "select 1 from raw.file_loads where file = %s and bytes = %s", [key, size]
            ).fetchone()
            if seen:
                return False
            for rows in event_batches(path, stats, quarantine):
                duck.register("events_batch", _batch(rows, key, at))
                copy_query(
                    duck, f"select {columns} from events_batch", pg, "raw.events", RAW_EVENT_COLUMNS
                )
                duck.unregister("events_batch")
                if progress:
                    progress(len(rows))
                del rows  # else this loop variable holds the last batch while the next is read
            pg.execute(
                "insert into raw.file_loads values (%s, %s, %s, %s, %s, %s)",
                [key, size, stats.read, stats.accepted, stats.rejected, at],
            )
        return True

    try:
        ensure_raw_tables(pg)
        return load_each_file(paths, load_one, quarantine_dir=quarantine_dir, loaded_at=loaded_at)
    finally:
        duck.close()
        pg.close()
