"""Load the landing zone into Redshift: ``COPY ... MANIFEST`` and the audit row in one transaction.

The statement sequence of one load (autocommit off at the protocol level; every statement
below is sent as written, so a recording connection sees exactly what Redshift would)::

    BEGIN
    LOCK raw.load_audit                       -- a second loader waits here, then sees our rows
    SELECT bucket, object_key, etag FROM raw.load_audit WHERE bucket = ...
    (one manifest per object, s3://<bucket>/manifests/<load id>/<n>.<format>.manifest)
    CREATE TEMP TABLE load_stage ... (price as text), load_stage_parquet ..., load_objects ...
    INSERT INTO load_objects ...
    then for every object, in key order:
    COPY load_stage (...) FROM '<its manifest>' IAM_ROLE ... MANIFEST FORMAT AS CSV GZIP ...
        (a Parquet object: COPY load_stage_parquet ... FORMAT AS PARQUET)
    INSERT INTO load_copies SELECT pg_last_copy_id()
    INSERT INTO raw.events SELECT ..., '<its s3:// URL>', ... FROM load_stage WHERE <contract holds>
    INSERT INTO raw.load_rejects ...          -- contract breaks (ecom.load.checks, as on DuckDB)
    DELETE FROM load_stage
    INSERT INTO raw.load_rejects ...          -- COPY errors (stl_load_errors)
    INSERT INTO raw.load_audit ...            -- one row per object, rows from stl_load_commits
    COMMIT

Any error before ``COMMIT`` sends ``ROLLBACK``: nothing of the load stays.

One COPY per object, because COPY cannot say which file of a manifest a row came from, and
``raw.events.source_object`` is the object's URL on every target. The price: Redshift no
longer spreads one COPY over the files of a load, and a load of n objects sends 5n statements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ecom import settings
from ecom.load import checks
from ecom.load.core import LoadError, LoadReport, ObjectResult, new_load_id, pending, utc_now
from ecom.load.landing import (
    LANDING_COLUMNS,
    LANDING_PREFIX,
    LandingObject,
    list_landing_objects,
    write_manifest,
)
from ecom.warehouse import RAW_EVENT_COLUMNS, REDSHIFT_DDL

#: Staging tables, one per landing format. A CSV row is staged as text, so that the contract
#: checks (``ecom.load.checks``, the same as on DuckDB) see each field's spelling; a Parquet
#: row arrives typed (COPY cannot put Parquet types into text columns) and is turned into
#: the same text by :data:`_STAGED`. Text columns are wider than the contract's 255
#: characters so that the checks, not COPY, reject a long field (beyond 1024 bytes COPY does,
#: error 1204, also as ``field_too_long``).
_STAGE_COLUMNS_DDL = """(
    event_id      varchar(64),
    event_time    {time},
    event_type    varchar(1024),
    product_id    {id},
    category_id   {id},
    category_code varchar(1024),
    brand         varchar(1024),
    price         {price},
    user_id       {id},
    user_session  varchar(1024),
    ingested_at   timestamp,
    source        varchar(16)
)"""
STAGE_TABLES: dict[str, str] = {"csv": "load_stage", "parquet": "load_stage_parquet"}
STAGE_DDL: tuple[str, ...] = (
    "create temp table load_stage "
    + _STAGE_COLUMNS_DDL.format(time="varchar(1024)", id="varchar(1024)", price="varchar(1024)"),
    "create temp table load_stage_parquet "
    + _STAGE_COLUMNS_DDL.format(time="timestamp", id="bigint", price="decimal(10,2)"),
)
#: The staged rows of each format as text, for the contract checks.
_STAGED: dict[str, str] = {
    "csv": "load_stage",
    "parquet": "(select event_id, cast(event_time as varchar(64)) as event_time, event_type,"
    " cast(product_id as varchar(64)) as product_id,"
    " cast(category_id as varchar(64)) as category_id, category_code, brand,"
    " cast(price as varchar(64)) as price, cast(user_id as varchar(64)) as user_id,"
    " user_session, source from load_stage_parquet) as parquet_rows",
}
OBJECTS_DDL = """
create temp table load_objects (
    url          varchar(1100),
    bucket       varchar(63),
    object_key   varchar(1024),
    etag         varchar(64),
    bytes        bigint,
    format       varchar(16),
    manifest_key varchar(1024)
)
"""
COPIES_DDL = "create temp table load_copies (query integer)"

#: The contract rules a typed staged row can still break (generated from ``ecom.contract``).
REASON_SQL = checks.reason_sql("redshift")

#: Redshift load error codes (stl_load_errors.err_code) as contract reasons; the rest are
#: ``bad_<column>`` when Redshift names the column, else ``malformed_csv``.
_COPY_ERROR_REASON_SQL = """case
    when err_code in (1214, 1213) then 'wrong_field_count'
    when err_code = 1220 then 'invalid_utf8'
    when err_code = 1204 then 'field_too_long'
    when trim(colname) <> '' then 'bad_' || trim(colname)
    else 'malformed_csv'
end"""

#: Rows a single CSV COPY may reject before Redshift fails it (they are quarantined, not lost).
MAX_ERRORS = 100_000
_OBJECT_ROWS_PER_INSERT = 500


class Cursor(Protocol):
    def execute(self, operation: str, args: Any = None) -> Any: ...
    def fetchall(self) -> Sequence[Sequence[Any]] | None: ...


class Connection(Protocol):
    def cursor(self) -> Any: ...


@dataclass(frozen=True)
class RedshiftSettings:
    """Where Redshift is and which role it reads S3 with; all from the environment."""

    iam_role: str
    region: str | None = None

    @classmethod
    def from_env(cls) -> RedshiftSettings:
        env = settings.get()
        role = env.redshift_iam_role
        if not role:
            raise LoadError(
                "ECOM_REDSHIFT_IAM_ROLE is not set: the ARN of the IAM role Redshift assumes to "
                "read the landing bucket (arn:aws:iam::<account>:role/<name>)"
            )
        return cls(iam_role=role, region=env.redshift_s3_region)


def connect_from_env() -> Any:
    """A redshift_connector connection from the same variables as the dbt ``redshift`` target."""
    import redshift_connector

    env = settings.get()
    given = {
        "REDSHIFT_HOST": env.redshift_host,
        "REDSHIFT_USER": env.redshift_user,
        "DBT_ENV_SECRET_REDSHIFT_PASSWORD": env.redshift_password,
    }
    missing = [name for name, value in given.items() if not value]
    if missing or not (env.redshift_host and env.redshift_user and env.redshift_password):
        raise LoadError(f"Redshift target needs {', '.join(missing)} in the environment")
    con = redshift_connector.connect(
        host=env.redshift_host,
        port=env.redshift_port,
        database=env.redshift_database,
        user=env.redshift_user,
        password=env.redshift_password.get_secret_value(),
    )
    con.autocommit = True  # the loader sends BEGIN / COMMIT / ROLLBACK itself
    return con


def lit(value: object) -> str:
    """A SQL literal. Values are the loader's own (keys, ETags, ids, timestamps), never rows."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value:%Y-%m-%d %H:%M:%S.%f}'::timestamp"
    text = str(value)
    if "\\" in text or "\x00" in text:
        raise ValueError(f"refusing to quote {text!r}: backslash or NUL")
    return "'" + text.replace("'", "''") + "'"


def copy_statement(manifest_url: str, fmt: str, settings: RedshiftSettings) -> str:
    """The COPY of one manifest into the staging table of its format."""
    if fmt not in STAGE_TABLES:
        raise ValueError(f"unknown landing format {fmt!r}")
    lines = [
        f"copy {STAGE_TABLES[fmt]} ({', '.join(LANDING_COLUMNS)})",
        f"from {lit(manifest_url)}",
        f"iam_role {lit(settings.iam_role)}",
        "manifest",
    ]
    if fmt == "csv":
        lines += [
            "format as csv",
            "gzip",
            "ignoreheader 1",
            # landing timestamps are UTC without a suffix; fractional seconds are accepted
            "timeformat 'YYYY-MM-DD HH:MI:SS'",
            "emptyasnull",
            "blanksasnull",
            f"maxerror {MAX_ERRORS}",
        ]
    else:
        lines += ["format as parquet"]
    lines += ["compupdate off", "statupdate off"]
    if settings.region:
        lines.append(f"region {lit(settings.region)}")
    return "\n".join(lines)


def _objects_inserts(objects: list[LandingObject], manifest_of: dict[str, str]) -> list[str]:
    statements = []
    for start in range(0, len(objects), _OBJECT_ROWS_PER_INSERT):
        rows = [
            "("
            + ", ".join(
                lit(v)
                for v in (o.url, o.bucket, o.key, o.etag, o.size, o.format, manifest_of[o.url])
            )
            + ")"
            for o in objects[start : start + _OBJECT_ROWS_PER_INSERT]
        ]
        statements.append("insert into load_objects values\n" + ",\n".join(rows))
    return statements


def _move_statements(load_id: str, loaded_at: datetime, obj: LandingObject) -> list[str]:
    """The staged rows of one object into raw.events, ``source_object`` its ``s3://`` URL as
    on DuckDB and PostgreSQL (contract breaks into raw.load_rejects under its key)."""
    at = lit(loaded_at)
    staged = _STAGED[obj.format]
    events = f"""insert into raw.events ({", ".join(RAW_EVENT_COLUMNS)})
select event_id, {checks.TYPED_SELECT}, coalesce(source, 'unknown'),
       {lit(obj.url)}, {at}
from {staged}
where ({REASON_SQL}) is null"""
    contract_rejects = f"""insert into raw.load_rejects
select {lit(load_id)}, {lit(obj.key)}, null, reason, {checks.detail_sql()},
       {checks.raw_sql()}, {at}
from (select *, ({REASON_SQL}) as reason from {staged}) r
where reason is not null"""
    return [events, contract_rejects, f"delete from {STAGE_TABLES[obj.format]}"]


def _audit_statements(load_id: str, loaded_at: datetime) -> list[str]:
    """COPY's rejected lines into raw.load_rejects, then one raw.load_audit row per object."""
    at = lit(loaded_at)
    copy_rejects = f"""insert into raw.load_rejects
select {lit(load_id)}, o.object_key, e.line_number, {_COPY_ERROR_REASON_SQL},
       trim(e.err_reason), trim(e.raw_line), {at}
from stl_load_errors e
join load_objects o on o.url = trim(e.filename)
where e.query in (select query from load_copies)"""
    audit = f"""insert into raw.load_audit
    (bucket, object_key, etag, bytes, format, status, rows_read, rows_loaded, rows_rejected,
     load_id, manifest_key, loaded_at)
select o.bucket, o.object_key, o.etag, o.bytes, o.format, 'loaded',
       coalesce(c.lines, 0) + coalesce(e.errors, 0),
       coalesce(c.lines, 0),
       coalesce(e.errors, 0),
       {lit(load_id)}, o.manifest_key, {at}
from load_objects o
left join (select trim(filename) as url, sum(lines_scanned) as lines
           from stl_load_commits where query in (select query from load_copies)
           group by 1) c on c.url = o.url
left join (select trim(filename) as url, count(*) as errors
           from stl_load_errors where query in (select query from load_copies)
           group by 1) e on e.url = o.url"""
    return [copy_rejects, audit]


def ensure_tables(con: Connection) -> None:
    """Create raw.events, raw.load_audit and raw.load_rejects if they are missing."""
    cur = con.cursor()
    for statement in REDSHIFT_DDL:
        cur.execute(statement)


def load_redshift(
    bucket: str,
    *,
    client: Any,
    connection: Connection,
    settings: RedshiftSettings,
    prefix: str = LANDING_PREFIX,
    before_commit: Callable[[], None] | None = None,
) -> LoadReport:
    """Load every landing object not yet in raw.load_audit into Redshift, in one transaction."""
    report = LoadReport(target="redshift", load_id=new_load_id())
    listed = list(list_landing_objects(client, bucket, prefix))
    report.objects_listed = len(listed)
    ensure_tables(connection)
    cur = connection.cursor()
    cur.execute("begin")
    try:
        cur.execute("lock raw.load_audit")
        cur.execute(
            f"select bucket, object_key, etag from raw.load_audit where bucket = {lit(bucket)}"
        )
        audited = [(str(b), str(k), str(e)) for b, k, e in cur.fetchall() or []]
        todo = pending(listed, audited)
        report.objects_skipped = len(listed) - len(todo)
        if not todo:
            cur.execute("rollback")
            return report
        manifest_of: dict[str, str] = {}
        for part, obj in enumerate(todo):
            key = write_manifest(client, bucket, report.load_id, obj.format, [obj], part)
            report.manifests.append(key)
            manifest_of[obj.url] = key
        for table in (*STAGE_TABLES.values(), "load_objects", "load_copies"):
            cur.execute(f"drop table if exists {table}")
        for statement in STAGE_DDL:
            cur.execute(statement)
        cur.execute(OBJECTS_DDL)
        cur.execute(COPIES_DDL)
        for statement in _objects_inserts(todo, manifest_of):
            cur.execute(statement)
        loaded_at = utc_now()
        for obj in todo:
            manifest_url = f"s3://{bucket}/{manifest_of[obj.url]}"
            cur.execute(copy_statement(manifest_url, obj.format, settings))
            cur.execute("insert into load_copies select pg_last_copy_id()")
            for statement in _move_statements(report.load_id, loaded_at, obj):
                cur.execute(statement)
        for statement in _audit_statements(report.load_id, loaded_at):
            cur.execute(statement)
        cur.execute(
            "select object_key, rows_read, rows_loaded, rows_rejected from raw.load_audit"
            f" where load_id = {lit(report.load_id)}"
        )
        counted = {str(r[0]): r for r in cur.fetchall() or []}
        if before_commit is not None:
            before_commit()
        cur.execute("commit")
    except BaseException:
        cur.execute("rollback")
        raise
    report.committed = True
    report.loaded_at = loaded_at
    for obj in todo:
        row = counted.get(obj.key)
        read, loaded, rejected = (int(row[1]), int(row[2]), int(row[3])) if row else (0, 0, 0)
        report.objects.append(ObjectResult(obj, read, loaded, rejected))
    return report
