"""``ecom load --target redshift``: the statements, in order, through a recording connection.

There is no Redshift here. The connection below records every statement the loader
sends (as redshift_connector would send it) and answers the two queries whose results the
loader reads; S3 (manifests) is a real moto server. Every statement must parse with
sqlglot's Redshift dialect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlglot
from load_helpers import Landing, make_event, stream_key
from sqlglot import exp

from ecom.load.landing import read_manifest
from ecom.load.redshift import LANDING_COLUMNS, RedshiftSettings, copy_statement, load_redshift
from ecom.warehouse import RAW_EVENT_COLUMNS, REDSHIFT_DDL

ROLE = "arn:aws:iam::123456789012:role/ecom-redshift-copy"


class RecordingConnection:
    """A DB-API connection that records statements; ``fail`` raises on a chosen statement."""

    def __init__(
        self,
        audited: list[tuple[str, str, str]] | None = None,
        fail: Callable[[str], bool] = lambda _sql: False,
    ) -> None:
        self.statements: list[str] = []
        self.audited = audited or []
        self.fail = fail
        self._result: list[tuple[Any, ...]] = []

    def cursor(self) -> RecordingConnection:
        return self

    def execute(self, operation: str, args: Any = None) -> None:
        assert args is None, "the loader inlines its own literals"
        self.statements.append(operation)
        if self.fail(operation):
            raise RuntimeError(f"Redshift refused: {operation.split()[0]}")
        if operation.startswith("select bucket, object_key, etag from raw.load_audit"):
            self._result = list(self.audited)
        else:
            self._result = []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._result

    def kinds(self) -> list[str]:
        return [" ".join(s.split()[:3]).lower() for s in self.statements]

    def index(self, prefix: str) -> int:
        return next(i for i, s in enumerate(self.statements) if s.lower().startswith(prefix))


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, dialect="redshift", error_level=sqlglot.ErrorLevel.RAISE)


def test_a_load_is_begin_lock_copy_audit_commit_in_that_order(landing: Landing) -> None:
    keys = [stream_key("2019-10-01", "shardId-000000000000", n) for n in (1, 2)]
    for n, key in enumerate(keys):
        landing.put_events(key, [make_event(n * 10 + i) for i in range(10)])
    parquet_key = "landing/events/source=backfill/event_date=2019-10-01/part-0.parquet"
    landing.put(parquet_key, b"PAR1 not inspected by this test PAR1")
    con = RecordingConnection()

    report = load_redshift(
        landing.bucket,
        client=landing.client,
        connection=con,
        settings=RedshiftSettings(iam_role=ROLE),
    )

    assert report.committed
    begin = con.statements.index("begin")
    lock = con.statements.index("lock raw.load_audit")
    copies = [i for i, s in enumerate(con.statements) if s.startswith("copy ")]
    events = con.index("insert into raw.events")
    audit = con.index("insert into raw.load_audit")
    commit = con.statements.index("commit")
    assert begin < lock < copies[0] < copies[1] < copies[2] < audit < commit
    assert commit == len(con.statements) - 1
    assert copies[0] < events < commit
    assert "rollback" not in con.statements
    # the DDL ran first and makes no transaction of its own
    assert con.statements[: len(REDSHIFT_DDL)] == list(REDSHIFT_DDL)
    # one COPY per object, in key order, each from a manifest that lists exactly that object
    parquet_copy, *csv_copies = (con.statements[i] for i in copies)
    for csv_copy in csv_copies:
        assert "format as csv" in csv_copy and "gzip" in csv_copy and "ignoreheader 1" in csv_copy
        assert "timeformat 'YYYY-MM-DD HH:MI:SS'" in csv_copy
    assert "format as parquet" in parquet_copy and "gzip" not in parquet_copy
    for statement, key in zip((parquet_copy, *csv_copies), [parquet_key, *keys], strict=True):
        entries = json.loads(landing.get(manifest_of(statement, landing.bucket)))["entries"]
        assert [e["url"] for e in entries] == [f"s3://{landing.bucket}/{key}"]
        assert all(e["mandatory"] and e["meta"]["content_length"] > 0 for e in entries)
    # the audit knows every object of the load
    objects_rows = "".join(s for s in con.statements if s.startswith("insert into load_objects"))
    assert all(f"'{k}'" in objects_rows for k in [*keys, parquet_key])


def manifest_of(copy: str, bucket: str) -> str:
    """The key of the manifest a COPY statement reads."""
    return str(parse(copy).args["files"][0].name).removeprefix(f"s3://{bucket}/")


def test_source_object_is_the_s3_object_each_row_was_copied_from(landing: Landing) -> None:
    # given two CSV objects and a Parquet object (as on DuckDB and PostgreSQL, every row of
    # raw.events must name the object it came from, not the manifest that listed it)
    keys = [stream_key("2019-10-02", "shardId-000000000001", n) for n in (1, 2)]
    for n, key in enumerate(keys):
        landing.put_events(key, [make_event(100 + n)])
    parquet_key = "landing/events/source=backfill/event_date=2019-10-02/part-0.parquet"
    landing.put(parquet_key, b"PAR1 not inspected by this test PAR1")
    con = RecordingConnection()

    # when
    load_redshift(
        landing.bucket, client=landing.client, connection=con, settings=RedshiftSettings(ROLE)
    )

    # then: the rows a COPY staged go to raw.events (and raw.load_rejects) before the staging
    # table is emptied, tagged with the URL (and key) of the one object its manifest lists
    copies = [i for i, s in enumerate(con.statements) if s.startswith("copy ")]
    tagged: dict[str, tuple[str, str]] = {}
    for start in copies:
        [url] = read_manifest(
            landing.client, landing.bucket, manifest_of(con.statements[start], landing.bucket)
        )
        end = next(
            i
            for i in range(start, len(con.statements))
            if con.statements[i].startswith("delete from load_stage")
        )
        moved = con.statements[start:end]
        [events] = [parse(s) for s in moved if s.startswith("insert into raw.events")]
        [rejects] = [parse(s) for s in moved if s.startswith("insert into raw.load_rejects")]
        source_object = events.expression.expressions[RAW_EVENT_COLUMNS.index("source_object")]
        object_key = rejects.expression.expressions[1]
        tagged[url] = (source_object.name, object_key.name)
    assert tagged == {
        f"s3://{landing.bucket}/{k}": (f"s3://{landing.bucket}/{k}", k)
        for k in [*keys, parquet_key]
    }


def test_every_statement_parses_as_redshift_sql(landing: Landing) -> None:
    landing.put_events(stream_key("2019-10-01", "s", 1), [make_event(1)])
    con = RecordingConnection()

    load_redshift(
        landing.bucket,
        client=landing.client,
        connection=con,
        settings=RedshiftSettings(iam_role=ROLE, region="eu-west-1"),
    )

    for statement in con.statements:
        tree = parse(statement)
        if statement.startswith("lock "):
            # sqlglot has no LOCK node: it keeps the statement whole as a command
            assert isinstance(tree, exp.Command) and tree.name.upper() == "LOCK"
        else:
            assert not isinstance(tree, exp.Command), statement
    copy = parse(next(s for s in con.statements if s.startswith("copy ")))
    assert isinstance(copy, exp.Copy)
    assert copy.this.this.name == "load_stage"
    assert tuple(c.name for c in copy.this.expressions) == LANDING_COLUMNS
    assert copy.args["credentials"].args["iam_role"].name == ROLE
    # sqlglot keeps COPY options as a flat list of words (it pairs them loosely): check the words
    words = {
        str(v.name).lower()
        for p in copy.args["params"]
        for v in (p.this, p.args.get("expression"))
        if v is not None
    }
    assert {"manifest", "format", "csv", "gzip", "ignoreheader", "timeformat"} <= words
    assert {"yyyy-mm-dd hh:mi:ss", "maxerror", "region", "eu-west-1"} <= words


def test_the_parse_check_catches_broken_sql() -> None:
    # the check above would fail on a statement Redshift could not parse either
    with pytest.raises(sqlglot.errors.ParseError):
        parse("insert into raw.load_audit select (o.bucket from load_objects o")
    with pytest.raises(sqlglot.errors.ParseError):
        parse("create table raw.events (event_id varchar(32) not null, price decimal(10,2)")


def test_a_failing_copy_rolls_back_and_never_commits(landing: Landing) -> None:
    landing.put_events(stream_key("2019-10-01", "s", 1), [make_event(1)])
    con = RecordingConnection(fail=lambda sql: sql.startswith("copy "))

    with pytest.raises(RuntimeError, match="Redshift refused: copy"):
        load_redshift(
            landing.bucket,
            client=landing.client,
            connection=con,
            settings=RedshiftSettings(iam_role=ROLE),
        )

    assert con.statements[-1] == "rollback"
    assert "commit" not in con.statements
    assert not any(s.startswith("insert into raw.") for s in con.statements)


def test_an_error_after_the_audit_insert_still_rolls_back(landing: Landing) -> None:
    landing.put_events(stream_key("2019-10-01", "s", 1), [make_event(1)])
    con = RecordingConnection()

    def crash() -> None:
        raise RuntimeError("killed before COMMIT")

    with pytest.raises(RuntimeError, match="before COMMIT"):
        load_redshift(
            landing.bucket,
            client=landing.client,
            connection=con,
            settings=RedshiftSettings(iam_role=ROLE),
            before_commit=crash,
        )

    assert con.index("insert into raw.load_audit") < len(con.statements) - 1
    assert con.statements[-1] == "rollback" and "commit" not in con.statements


def test_objects_already_audited_are_not_copied_again(landing: Landing) -> None:
    key = stream_key("2019-10-01", "s", 1)
    etag = landing.put_events(key, [make_event(1)])
    con = RecordingConnection(audited=[(landing.bucket, key, etag)])

    report = load_redshift(
        landing.bucket, client=landing.client, connection=con, settings=RedshiftSettings(ROLE)
    )

    assert (report.objects_listed, report.objects_skipped, report.objects_loaded) == (1, 1, 0)
    assert not any(s.startswith("copy ") for s in con.statements)
    assert con.statements[-1] == "rollback"  # the lock is released, nothing was written
    assert landing.keys("manifests/") == []


def test_redshift_ddl_holds_19_digit_ids_and_sets_dist_and_sort_keys() -> None:
    events = parse(REDSHIFT_DDL[1])
    columns = {
        c.name: c.args["kind"].sql("redshift").upper() for c in events.find_all(exp.ColumnDef)
    }
    assert columns["event_id"] == "VARCHAR(32)"
    assert {columns[c] for c in ("product_id", "category_id", "user_id")} == {"BIGINT"}
    assert columns["price"] == "DECIMAL(10, 2)"
    assert 1487580005092295511 < 2**63 - 1  # the largest real category_id fits a bigint
    ddl = " ".join(REDSHIFT_DDL[1].split())
    assert "distkey (user_id)" in ddl and "sortkey (event_time)" in ddl
    for statement in REDSHIFT_DDL:
        assert not isinstance(parse(statement), exp.Command)


def test_copy_statement_refuses_unknown_formats() -> None:
    with pytest.raises(ValueError, match="unknown landing format"):
        copy_statement("s3://b/m", "json", RedshiftSettings(ROLE))
