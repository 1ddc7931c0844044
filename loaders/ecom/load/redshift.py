"""Load the landing zone into Redshift: ``COPY ... MANIFEST`` and the audit row in one transaction.

The statement sequence of one load (autocommit off at the protocol level; every statement
below is sent as written, so a recording connection sees exactly what Redshift would)::

    BEGIN
    LOCK raw.load_audit                       -- a second loader waits here, then sees our rows
    SELECT bucket, object_key, etag FROM raw.load_audit WHERE bucket = ...
    (manifests written to s3://<bucket>/manifests/<load id>.<format>.manifest)
    CREATE TEMP TABLE load_stage ...; CREATE TEMP TABLE load_objects ...; INSERT INTO load_objects ...
    COPY load_stage (...) FROM '<csv manifest>' IAM_ROLE ... MANIFEST FORMAT AS CSV GZIP ...
    INSERT INTO load_copies SELECT pg_last_copy_id()
    COPY load_stage (...) FROM '<parquet manifest>' IAM_ROLE ... MANIFEST FORMAT AS PARQUET
    INSERT INTO load_copies SELECT pg_last_copy_id()
    INSERT INTO raw.events SELECT ... FROM load_stage WHERE <contract holds>
    INSERT INTO raw.load_rejects ...          -- COPY errors (stl_load_errors) and contract breaks
    INSERT INTO raw.load_audit ...            -- one row per object, rows from stl_load_commits
    COMMIT

Any error before ``COMMIT`` sends ``ROLLBACK``: nothing of the load stays.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ecom.events import EVENT_TYPES, MAX_FIELD_CHARS
from ecom.load.core import LoadError, LoadReport, ObjectResult, new_load_id, pending, utc_now
from ecom.load.landing import (
    LANDING_COLUMNS,
    LANDING_PREFIX,
    LandingObject,
    list_landing_objects,
    write_manifest,
)
from ecom.warehouse import RAW_EVENT_COLUMNS, REDSHIFT_DDL

STAGE_DDL = """
create temp table load_stage (
    event_id      varchar(64),
    event_time    timestamp,
    event_type    varchar(64),
    product_id    bigint,
    category_id   bigint,
    category_code varchar(1024),
    brand         varchar(1024),
    price         decimal(10,2),
    user_id       bigint,
    user_session  varchar(1024),
    ingested_at   timestamp,
    source        varchar(16)
)
"""
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

_TYPES = ", ".join(f"'{t}'" for t in EVENT_TYPES)
#: The contract rules a typed staged row can still break (types were checked by COPY).
REASON_SQL = f"""case
    when event_id is null or len(event_id) <> 32 or event_id !~ '^[0-9a-f]+$' then 'bad_event_id'
    when event_time is null then 'bad_event_time'
    when event_type is null or event_type not in ({_TYPES}) then 'unknown_event_type'
    when product_id is null or product_id <= 0 then 'bad_product_id'
    when category_id is null or category_id <= 0 then 'bad_category_id'
    when price is null then 'bad_price'
    when user_id is null or user_id <= 0 then 'bad_user_id'
    when greatest(len(coalesce(category_code, '')), len(coalesce(brand, '')),
                  len(coalesce(user_session, ''))) > {MAX_FIELD_CHARS} then 'field_too_long'
end"""

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
        role = os.environ.get("ECOM_REDSHIFT_IAM_ROLE")
        if not role:
            raise LoadError(
                "ECOM_REDSHIFT_IAM_ROLE is not set: the ARN of the IAM role Redshift assumes to "
                "read the landing bucket (arn:aws:iam::<account>:role/<name>)"
            )
        return cls(iam_role=role, region=os.environ.get("ECOM_REDSHIFT_S3_REGION"))


def connect_from_env() -> Any:
    """A redshift_connector connection from the same variables as the dbt ``redshift`` target."""
    import redshift_connector

    missing = [
        name
        for name in ("REDSHIFT_HOST", "REDSHIFT_USER", "DBT_ENV_SECRET_REDSHIFT_PASSWORD")
        if not os.environ.get(name)
    ]
    if missing:
        raise LoadError(f"Redshift target needs {', '.join(missing)} in the environment")
    con = redshift_connector.connect(
        host=os.environ["REDSHIFT_HOST"],
        port=int(os.environ.get("REDSHIFT_PORT", "5439")),
        database=os.environ.get("REDSHIFT_DATABASE", "dev"),
        user=os.environ["REDSHIFT_USER"],
        password=os.environ["DBT_ENV_SECRET_REDSHIFT_PASSWORD"],
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
    """The COPY of one manifest into the staging table."""
    lines = [
        f"copy load_stage ({', '.join(LANDING_COLUMNS)})",
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
    elif fmt == "parquet":
        lines += ["format as parquet"]
    else:
        raise ValueError(f"unknown landing format {fmt!r}")
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


def _move_statements(load_id: str, loaded_at: datetime, source_object: str) -> list[str]:
    """The staged rows of one manifest into raw.events (contract breaks into raw.load_rejects).

    COPY cannot say which object a row came from, so ``source_object`` is the manifest's URL
    (the audit table maps the manifest to its objects).
    """
    at = lit(loaded_at)
    events = f"""insert into raw.events ({", ".join(RAW_EVENT_COLUMNS)})
select event_id, event_time, event_type, product_id, category_id, category_code, brand, price,
       user_id, user_session, coalesce(source, 'unknown'), {lit(source_object)}, {at}
from load_stage
where ({REASON_SQL}) is null"""
    contract_rejects = f"""insert into raw.load_rejects
select {lit(load_id)}, {lit(source_object)}, null, reason, 'breaks the event contract', raw, {at}
from (select ({REASON_SQL}) as reason,
             event_id || ',' || coalesce(event_type, '') || ',' || coalesce(source, '') as raw
      from load_stage) r
where reason is not null"""
    return [events, contract_rejects, "delete from load_stage"]


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
        copies: list[tuple[str, str]] = []
        for fmt in ("csv", "parquet"):
            objects = [o for o in todo if o.format == fmt]
            if objects:
                key = write_manifest(client, bucket, report.load_id, fmt, objects)
                report.manifests.append(key)
                copies.append((f"s3://{bucket}/{key}", fmt))
                manifest_of.update({o.url: key for o in objects})
        cur.execute("drop table if exists load_stage")
        cur.execute("drop table if exists load_objects")
        cur.execute("drop table if exists load_copies")
        cur.execute(STAGE_DDL)
        cur.execute(OBJECTS_DDL)
        cur.execute(COPIES_DDL)
        for statement in _objects_inserts(todo, manifest_of):
            cur.execute(statement)
        loaded_at = utc_now()
        for manifest_url, fmt in copies:
            cur.execute(copy_statement(manifest_url, fmt, settings))
            cur.execute("insert into load_copies select pg_last_copy_id()")
            for statement in _move_statements(report.load_id, loaded_at, manifest_url):
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
