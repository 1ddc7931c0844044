"""Every implementation of the event contract decides every case of the corpus the same way.

The contract is declared once in ``ecom.contract``. This test runs each implementation on
the shared corpus (``tests/contract_cases.py``) and compares, case by case, with the
declaration's own validator (``ecom.events.parse_fields``): accepted or rejected, the
reason, and the ``event_id`` of an accepted row.

Implementations: the row validator's slow path and its one-regex fast path, the CSV file
reader, the producer's block reader (RE2), the HTTP body parser, the OpenAPI ``Event``
schema (a JSON Schema cannot say everything, so it is held to never refusing an event the
validator accepts and never admitting one it rejects for a rule the schema can express),
the Spark job, the DuckDB loader and the Redshift loader's SQL (run on a real PostgreSQL
server, Redshift's ancestor, on the rows a COPY could type). The loaders read landing rows,
so each case goes to them in landing form: its canonical fields when the validator accepts
it, the fields as given when it rejects it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest

from contract_cases import CASES
from ecom import blocks, contract, events
from ecom.api import openapi, payload
from ecom.blocks import BlockReader
from ecom.events import Event, ParseStats, Rejection, parse_fields, read_csv_events, split_line
from ecom.load import checks, redshift
from ecom.load.duck import load_duckdb
from ecom.pg.load import load_postgres

#: (reason or None, event_id or None) for one case; None for a blank line (skipped).
Outcome = tuple[str | None, str | None]
LANDING_HEADER = ",".join((*checks.STAGE_COLUMNS[:-1], "ingested_at", "source"))


def _outcome(o: Event | Rejection) -> Outcome:
    return (None, o.event_id) if isinstance(o, Event) else (o.reason, None)


def _blank(case: str) -> bool:
    """A line the readers skip: empty or ASCII whitespace only (bytes.isspace, as files are read)."""
    return not case or case.encode().isspace()


#: The declaration's validator on each non-blank case (index -> outcome).
REFERENCE: dict[int, Outcome] = {
    i: _outcome(parse_fields(split_line(c), raw=c)) for i, c in enumerate(CASES) if not _blank(c)
}


def _corpus_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_bytes((contract.HEADER_LINE + "\n" + "\n".join(CASES) + "\n").encode())
    return path


def _by_line(outcomes: dict[int, Outcome]) -> dict[int, Outcome]:
    """File line numbers (header = line 1) back to case indexes."""
    return {line - 2: o for line, o in outcomes.items()}


# -- the implementations -----------------------------------------------------------------------


def run_fast_path(_tmp: Path) -> dict[int, Outcome]:
    return {i: _outcome(events.parse_line(CASES[i])) for i in REFERENCE}


def run_csv_reader(tmp: Path) -> dict[int, Outcome]:
    stats = ParseStats()
    found = [_outcome(o) for o in read_csv_events(_corpus_file(tmp), stats)]
    assert stats.read == stats.accepted + stats.rejected == len(REFERENCE)
    # in file order, blank lines skipped
    return dict(zip(sorted(REFERENCE), found, strict=True))


def run_block_reader(tmp: Path) -> dict[int, Outcome]:
    """Blocks of one case each (so the regexes decide what they can) and of the whole file."""
    out: dict[int, Outcome] = {}
    for i in REFERENCE:
        path = tmp / f"case{i}.csv"
        # an ordinary row first, so a block is not handed back row by row for its sake
        path.write_bytes((contract.HEADER_LINE + "\n" + CASES[i] + "\n").encode())
        reader = BlockReader()
        try:
            with open(path, "rb") as handle:
                found = [_block_outcomes(b) for b in reader.read(handle, ParseStats())]
        finally:
            reader.close()
        flat = [o for outcomes in found for o in outcomes]
        assert len(flat) == 1, (i, flat)
        out[i] = flat[0]
    return out


def _block_outcomes(block: blocks.Block) -> list[Outcome]:
    if block.rows is not None:
        return [_outcome(o) for o in block.rows]
    found: list[Outcome] = [_outcome(r) for r in block.rejections]
    for line in (block.lines or []).to_pylist() if block.lines is not None else []:
        found.append((None, line.split(",", 1)[0]))
    return found


def _json_object(fields: list[str]) -> dict[str, Any]:
    obj: dict[str, Any] = dict(zip(contract.HEADER, fields, strict=True))
    for name in contract.TEXT_FIELDS:
        if obj[name] == "":
            obj[name] = None  # JSON says "missing" with null
    return obj


def run_http(_tmp: Path) -> dict[int, Outcome]:
    """``POST /events`` bodies: each 9-field case as one JSON object (a CSV field count or
    encoding problem cannot be posted as JSON)."""
    indexes = [i for i in REFERENCE if len(split_line(CASES[i])) == 9]
    body = json.dumps([_json_object(split_line(CASES[i])) for i in indexes]).encode()
    items = payload.parse_body(body, "application/json")
    return {i: _outcome(item.outcome) for i, item in zip(indexes, items, strict=True)}


def _landing_row(i: int) -> list[str]:
    """Case ``i`` as a landing row: canonical fields if accepted, the fields as given if not."""
    fields = split_line(CASES[i])
    outcome = parse_fields(fields)
    if isinstance(outcome, Event):
        body = list(outcome.to_row())
    else:
        case_id = hashlib.md5(CASES[i].encode()).hexdigest()
        body = [case_id, fields[0].removesuffix(" UTC"), *fields[1:]]
    return [*body, "2026-01-01 00:00:00", "stream"]


def _landing_cases() -> list[int]:
    return [i for i in REFERENCE if len(split_line(CASES[i])) == 9]


def _landing_expected(i: int) -> Outcome:
    """What a loader must make of case ``i``'s landing row: the contract's decision on that
    row read back as source fields (a landing time has no `` UTC`` suffix to get wrong)."""
    row = _landing_row(i)
    outcome = parse_fields([row[1] + " UTC", *row[2:10]])
    return (None, row[0]) if isinstance(outcome, Event) else (outcome.reason, None)


def _gzip_landing(indexes: list[int]) -> bytes:
    text = io.StringIO()
    text.write(LANDING_HEADER + "\n")
    csv.writer(text, lineterminator="\n").writerows(_landing_row(i) for i in indexes)
    return gzip.compress(text.getvalue().encode())


def _has_line_break(i: int) -> bool:
    return "\r" in CASES[i] or "\n" in CASES[i]


def run_landing_loader(tmp: Path, s3: Any, target: str, pg: Any = None) -> dict[int, Outcome]:
    """A real loader (``duckdb`` or ``postgres``) on real S3 (moto) landing objects.

    A field with a line break cannot be read back from a landing CSV row by row (DuckDB's
    reader gives up on the object): those cases go in a second object, which must be
    quarantined whole as ``unreadable_object``; their rows count as rejected.
    """
    client, bucket = s3
    cases = _landing_cases()
    plain = [i for i in cases if not _has_line_break(i)]
    breaks = [i for i in cases if _has_line_break(i)]
    prefix = "landing/events/source=stream/dt=2019-10-01/shard=0/"
    client.put_object(Bucket=bucket, Key=prefix + "1.csv.gz", Body=_gzip_landing(plain))
    client.put_object(Bucket=bucket, Key=prefix + "2.csv.gz", Body=_gzip_landing(breaks))
    if target == "duckdb":
        report = load_duckdb(bucket, client=client, db_path=tmp / "w.duckdb")
    else:
        report = load_postgres(bucket, client=client)
    assert report.read == report.loaded + report.rejected == len(plain)
    assert [o.obj.key for o in report.objects_unreadable] == [prefix + "2.csv.gz"]
    events_sql = "select event_id from raw.events"
    rejects_sql = "select reason, raw from raw.load_rejects where raw is not null"
    if target == "duckdb":
        import duckdb

        con = duckdb.connect(str(tmp / "w.duckdb"), read_only=True)
        try:
            loaded = {r[0] for r in con.execute(events_sql).fetchall()}
            rejects = con.execute(rejects_sql).fetchall()
        finally:
            con.close()
    else:
        with pg.connect() as con:
            loaded = {r[0] for r in con.execute(events_sql).fetchall()}
            rejects = con.execute(rejects_sql).fetchall()
    rejected = {str(r[1])[:32]: r[0] for r in rejects}
    out: dict[int, Outcome] = {}
    for i in plain:
        row_id = _landing_row(i)[0]
        if row_id in loaded:
            out[i] = (None, row_id)
        else:
            out[i] = (rejected.get(row_id, "neither loaded nor rejected"), None)
    for i in breaks:  # rejected with their whole object: the contract must reject them too
        out[i] = (_landing_expected(i)[0] or "accepted by the contract, lost by the loader", None)
    return out


def run_redshift_sql_on_postgres(tmp: Path, pg: Any) -> dict[int, Outcome]:
    """The Redshift loader's staging table and contract SQL, on a real PostgreSQL server.

    The landing rows are copied in as CSV, as Redshift's COPY does; a row holding NUL is
    left out (PostgreSQL and Redshift's COPY refuse NUL in text).
    """
    cases = [i for i in _landing_cases() if "\x00" not in CASES[i]]
    with pg.connect(autocommit=True) as con:
        con.execute(redshift.STAGE_DDL[0].replace("ingested_at   timestamp,\n", ""))
        with con.cursor() as cur:
            columns = ", ".join((*checks.STAGE_COLUMNS[:-1], "source"))
            with cur.copy(
                f"copy load_stage ({columns}) from stdin with (format csv, header true)"
            ) as copy:
                text_rows = io.StringIO()
                # every field quoted: a bare CR stays inside its field
                writer = csv.writer(text_rows, lineterminator="\n", quoting=csv.QUOTE_ALL)
                writer.writerow(checks.STAGE_COLUMNS)
                writer.writerows([*r[:10], r[11]] for r in (_landing_row(i) for i in cases))
                copy.write(text_rows.getvalue())
            cur.execute(f"select event_id, {redshift.REASON_SQL} from load_stage")
            reasons = {r[0]: r[1] for r in cur.fetchall()}
    out: dict[int, Outcome] = {}
    for i in cases:
        row_id = _landing_row(i)[0]
        if row_id in reasons:
            reason = reasons[row_id]
            out[i] = (reason, None if reason else row_id)
    assert len(out) == len(cases), "every case reaches the SQL"
    return out


def run_spark(tmp: Path, spark: Any) -> dict[int, Outcome]:
    from backfill.helpers import spark_outcomes
    from ecom.backfill import backfill

    path = _corpus_file(tmp)
    backfill([path], tmp / "lake", spark=spark)
    accepted, rejected = spark_outcomes(tmp / "lake")
    out: dict[int, Outcome] = {
        i: (r, None) for i, r in _by_line({line: r for (_, line), r in rejected.items()}).items()
    }
    # accepted rows carry no line number: match them to the cases by content
    remaining = Counter(accepted)
    for i, (reason, _) in REFERENCE.items():
        if reason is None:
            row = parse_fields(split_line(CASES[i]))
            assert isinstance(row, Event)
            if remaining[row.to_row()] > 0:
                remaining[row.to_row()] -= 1
                out[i] = (None, row.event_id)
    assert not +remaining, f"Spark accepted rows no case accounts for: {+remaining}"
    return out


# -- the test ----------------------------------------------------------------------------------

IMPLEMENTATIONS = [
    "fast path",
    "csv reader",
    "block reader",
    "http",
    "duckdb loader",
    "postgres loader",
    "redshift sql on postgres",
    pytest.param("spark", marks=[pytest.mark.slow]),
]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_every_implementation_decides_every_case_as_the_contract(
    implementation: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if implementation == "fast path":
        got = run_fast_path(tmp_path)
    elif implementation == "csv reader":
        got = run_csv_reader(tmp_path)
    elif implementation == "block reader":
        got = run_block_reader(tmp_path)
    elif implementation == "http":
        got = run_http(tmp_path)
    elif implementation in ("duckdb loader", "postgres loader"):
        landing = request.getfixturevalue("moto_server")
        client = boto3.client(
            "s3",
            endpoint_url=landing,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        bucket = "contract-" + hashlib.md5(str(tmp_path).encode()).hexdigest()[:12]
        client.create_bucket(Bucket=bucket)
        if implementation == "duckdb loader":
            got = run_landing_loader(tmp_path, (client, bucket), "duckdb")
        else:
            pg = request.getfixturevalue("postgres_db")
            got = run_landing_loader(tmp_path, (client, bucket), "postgres", pg)
    elif implementation == "redshift sql on postgres":
        got = run_redshift_sql_on_postgres(tmp_path, request.getfixturevalue("postgres_db"))
    else:
        got = run_spark(tmp_path, request.getfixturevalue("spark"))
    loader = implementation.endswith("loader") or implementation.startswith("redshift")
    expected = {i: _landing_expected(i) if loader else REFERENCE[i] for i in got}
    differing = {CASES[i]: (got[i], expected[i]) for i in got if got[i] != expected[i]}
    assert not differing, f"{implementation} disagrees (got, expected): {differing}"
    # the implementation decided the cases it can see: all of them, or the 9-field ones
    assert len(got) >= len(_landing_cases()) * 3 // 4


def test_the_corpus_exercises_every_reason_and_both_outcomes() -> None:
    reasons = Counter(r for r, _ in REFERENCE.values())
    assert set(reasons) - {None} == set(contract.Reason.ALL) - {contract.Reason.INVALID_UTF8}
    assert reasons[None] >= 20
    assert len(REFERENCE) >= 100


def test_the_openapi_schema_never_contradicts_the_validator() -> None:
    """The schema admits every event the validator accepts, and refuses every object the
    validator rejects for a rule a schema can express (type, enum, pattern, length)."""
    schema = openapi.EVENT_SCHEMA
    expressible = {
        contract.Reason.UNKNOWN_EVENT_TYPE,
        contract.Reason.CONTROL_CHARACTER,
        contract.Reason.FIELD_TOO_LONG,
    }
    checked = 0
    for i, (reason, _) in REFERENCE.items():
        fields = split_line(CASES[i])
        if len(fields) != 9:
            continue
        valid = jsonschema.Draft202012Validator(schema).is_valid(_json_object(fields))
        if reason is None:
            assert valid, CASES[i]
        elif reason in expressible:
            assert not valid, CASES[i]
        checked += 1
    assert checked >= 80


def test_every_copy_of_the_declaration_agrees() -> None:
    """The declaration is consistent, the Spark job reads it instead of keeping a copy, and
    the one copy that cannot import it (the block reader's date regex) says the same."""
    from ecom.backfill import load_job

    assert contract.reasons_in_order() == contract.Reason.ALL
    assert load_job().contract is contract
    # the block reader's calendar regex starts at MIN_YEAR and no earlier
    date = re.compile(blocks._DATE)
    assert date.fullmatch(f"{contract.MIN_YEAR}-01-01")
    assert not date.fullmatch(f"{contract.MIN_YEAR - 1}-12-31")
    # docs/contracts.md carries the generated table
    docs = (Path(__file__).resolve().parents[1] / "docs" / "contracts.md").read_text()
    assert contract.markdown_table() in docs, "regenerate: python -m ecom.contract"
