"""Engine parity: compare the tables dbt built on DuckDB and on PostgreSQL, row for row.

Every table and view of the compared schemas is found in both catalogs (nothing is listed by
hand, so a new mart is compared as soon as dbt builds it). Each PostgreSQL table is copied
into an in-memory DuckDB with the types PostgreSQL declares (``COPY ... TO STDOUT``, CSV:
decimals as written, timestamps to the microsecond), next to the DuckDB warehouse attached
read-only; then ``EXCEPT ALL`` both ways must return no row. Decimals compare exactly (the
same precision and scale on both sides), so do timestamps, text and booleans.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ecom.errors import EcomError
from ecom.warehouse import table_columns

#: Schemas dbt builds (seeds and raw are inputs, not results).
COMPARED_SCHEMAS: tuple[str, ...] = ("staging", "intermediate", "marts")

_PG_TYPES: dict[str, str] = {
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "double precision": "DOUBLE",
    "real": "FLOAT",
}
_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
_VARCHAR = re.compile(r"character varying\(\d+\)")


def duckdb_type(pg_type: str) -> str:
    """The DuckDB type that holds a PostgreSQL column's values exactly."""
    if pg_type in _PG_TYPES:
        return _PG_TYPES[pg_type]
    if m := _NUMERIC.fullmatch(pg_type):
        return f"DECIMAL({m[1]}, {m[2]})"
    if _VARCHAR.fullmatch(pg_type):
        return "VARCHAR"
    raise ValueError(f"no exact DuckDB type for PostgreSQL's {pg_type!r}")


@dataclass
class TableParity:
    """One table compared: its rows on each engine and the rows only one of them has."""

    schema: str
    table: str
    duckdb_rows: int
    postgres_rows: int
    only_duckdb: int
    only_postgres: int
    examples: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def equal(self) -> bool:
        return self.only_duckdb == 0 and self.only_postgres == 0


@dataclass
class Parity:
    """The outcome of :func:`compare`: every table, and the tables only one engine has."""

    tables: list[TableParity]
    only_duckdb: list[str]
    only_postgres: list[str]
    column_mismatches: dict[str, tuple[list[str], list[str]]]

    @property
    def equal(self) -> bool:
        return (
            not self.only_duckdb
            and not self.only_postgres
            and not self.column_mismatches
            and all(t.equal for t in self.tables)
        )

    def describe(self) -> str:
        lines = [
            f"{t.name}: duckdb {t.duckdb_rows:,} rows, postgres {t.postgres_rows:,} rows, "
            f"only duckdb {t.only_duckdb:,}, only postgres {t.only_postgres:,}"
            for t in self.tables
        ]
        lines += [f"only on duckdb: {name}" for name in self.only_duckdb]
        lines += [f"only on postgres: {name}" for name in self.only_postgres]
        lines += [
            f"columns of {name} differ: duckdb {d}, postgres {p}"
            for name, (d, p) in self.column_mismatches.items()
        ]
        for t in self.tables:
            lines += [f"  {t.name} {side}: {row}" for side, row in t.examples]
        return "\n".join(lines)


def postgres_columns(pg: Any, schemas: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    rows = pg.execute(
        """select n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
           from pg_attribute a
           join pg_class c on c.oid = a.attrelid
           join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
             and a.attnum > 0 and not a.attisdropped
           order by 1, a.attnum""",
        [list(schemas)],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for name, column, pg_type in rows:
        tables.setdefault(name, []).append((column, pg_type))
    return tables


def copy_table_from_postgres(
    pg: Any, con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]], into: str
) -> None:
    """PostgreSQL's ``name`` as DuckDB table ``into``, every value exact (CSV through COPY)."""
    with tempfile.TemporaryDirectory(prefix="ecom-parity-") as folder:
        path = Path(folder) / "rows.csv"
        cols = ", ".join(f'"{c}"' for c, _ in columns)
        query = f"copy (select {cols} from {name}) to stdout (format csv)"
        with pg.cursor() as cur, open(path, "wb") as f, cur.copy(query) as copy:
            for block in copy:
                f.write(block)
        types = "{" + ", ".join(f"'{c}': '{duckdb_type(t)}'" for c, t in columns) + "}"
        con.execute(
            f"create or replace table {into} as select * from read_csv('{path}', columns = {types},"
            " header = false, auto_detect = false, quote = '\"', escape = '\"',"
            " allow_quoted_nulls = false)"
        )


def compare(
    duckdb_path: Path,
    pg: Any,
    *,
    schemas: tuple[str, ...] = COMPARED_SCHEMAS,
    examples: int = 3,
) -> Parity:
    """Compare every table and view of ``schemas`` in the DuckDB file and the PostgreSQL database."""
    con = duckdb.connect()
    try:
        con.execute("set timezone = 'UTC'")
        # attached under its own name: dbt's views there name their catalog
        catalog = duckdb_path.stem
        con.execute(f"attach '{duckdb_path}' as \"{catalog}\" (read_only)")
        duck = table_columns(con, schemas, catalog=catalog)
        post = postgres_columns(pg, schemas)
        parity = Parity(
            tables=[],
            only_duckdb=sorted(set(duck) - set(post)),
            only_postgres=sorted(set(post) - set(duck)),
            column_mismatches={},
        )
        for name in sorted(set(duck) & set(post)):
            pg_columns = post[name]
            if sorted(duck[name]) != sorted(c for c, _ in pg_columns):
                parity.column_mismatches[name] = (duck[name], [c for c, _ in pg_columns])
                continue
            copy_table_from_postgres(pg, con, name, pg_columns, "pg_side")
            cols = ", ".join(f'"{c}"' for c in duck[name])
            left = f'select {cols} from "{catalog}".{name}'
            right = f"select {cols} from pg_side"
            schema, table = name.split(".", 1)
            result = TableParity(
                schema=schema,
                table=table,
                duckdb_rows=_count(con, f'select count(*) from "{catalog}".{name}'),
                postgres_rows=_count(con, "select count(*) from pg_side"),
                only_duckdb=_count(con, f"select count(*) from ({left} except all {right})"),
                only_postgres=_count(con, f"select count(*) from ({right} except all {left})"),
            )
            if not result.equal and examples:
                for side, query in (("duckdb", f"{left} except all {right}"), ("postgres", f"{right} except all {left}")):  # fmt: skip
                    for row in con.execute(f"{query} limit {examples}").fetchall():
                        result.examples.append((side, tuple(row)))
            parity.tables.append(result)
        return parity
    finally:
        con.close()


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    if row is None:  # a count always gives a row; say so if DuckDB ever does not
        raise EcomError(f"DuckDB returned no row for: {sql}")
    return int(row[0])
