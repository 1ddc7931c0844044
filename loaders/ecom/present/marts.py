"""Reading the marts of the local DuckDB warehouse, read-only, with clear errors when they are missing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ecom.warehouse import duckdb_path, table_columns

#: The schema dbt builds the marts in (see macros/generate_schema_name.sql).
MARTS_SCHEMA = "marts"


class MissingMartError(RuntimeError):
    """The warehouse lacks a mart (or a column of one) that a presentation needs."""


@contextmanager
def connect_marts(db_path: Path | None = None) -> Iterator[tuple[Any, str]]:
    """A read-only connection to the warehouse and a name for it; fails clearly if it is absent."""
    import duckdb

    path = db_path or duckdb_path()
    if not path.exists():
        raise MissingMartError(
            f"no warehouse at {path}: load events and build the marts first "
            "(`make demo`, or `ecom load-files DIR` then `ecom dbt build`)"
        )
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con, path.name
    finally:
        con.close()


def mart_columns(con: Any, schema: str = MARTS_SCHEMA) -> dict[str, list[str]]:
    """Every table or view of ``schema`` with its columns, in order."""
    return table_columns(con, [schema], qualified=False)


def require_marts(
    con: Any, needed: Mapping[str, Sequence[str]], schema: str = MARTS_SCHEMA
) -> None:
    """Raise :class:`MissingMartError` naming every missing mart and column of ``needed``."""
    present = mart_columns(con, schema)
    problems = []
    for mart, columns in needed.items():
        if mart not in present:
            problems.append(f"mart {schema}.{mart} is missing")
            continue
        missing = [c for c in columns if c not in present[mart]]
        if missing:
            problems.append(f"mart {schema}.{mart} lacks column(s) {', '.join(missing)}")
    if problems:
        raise MissingMartError(
            "; ".join(problems) + " — build the marts with `ecom dbt build` (or `make demo`)"
        )
