"""``ecom export``: every mart of the local warehouse as a Parquet file, for PowerBI without Redshift.

One file per mart (``fct_sessions.parquet``, ...), written beside nothing else, each
written to a temporary name first and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecom.present.marts import MARTS_SCHEMA, MissingMartError, connect_marts, mart_columns


@dataclass(frozen=True)
class ExportedMart:
    name: str
    path: Path
    rows: int
    columns: int


def export_marts(
    out_dir: Path, *, db_path: Path | None = None, only: tuple[str, ...] = ()
) -> list[ExportedMart]:
    """Write the marts (or only the named ones) to ``out_dir/<mart>.parquet``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    exported = []
    with connect_marts(db_path) as (con, _source):
        marts = mart_columns(con)
        if not marts:
            raise MissingMartError(
                f"the warehouse has no schema {MARTS_SCHEMA} with tables: build the marts with `ecom dbt build`"
            )
        unknown = [name for name in only if name not in marts]
        if unknown:
            raise MissingMartError(
                f"no mart named {', '.join(unknown)} in {MARTS_SCHEMA} (marts: {', '.join(sorted(marts))})"
            )
        for name in only or tuple(sorted(marts)):
            path = out_dir / f"{name}.parquet"
            partial = out_dir / f".{name}.parquet.partial"
            escaped = str(partial).replace("'", "''")
            con.execute(
                f"copy (select * from {MARTS_SCHEMA}.\"{name}\") to '{escaped}' "
                "(format parquet, compression zstd)"
            )
            partial.replace(path)
            rows = con.execute(f'select count(*) from {MARTS_SCHEMA}."{name}"').fetchone()
            exported.append(ExportedMart(name, path, int(rows[0]) if rows else 0, len(marts[name])))
    return exported
