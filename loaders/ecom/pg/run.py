"""``ecom run --warehouse postgres``: where the run's PostgreSQL is, and what it hands back.

The run loads into PostgreSQL and builds the marts there. Its reconciliation (ecom.run.reconcile)
reads the warehouse with DuckDB's SQL, so after the build the tables it reads (raw, staging,
marts) are copied exactly from PostgreSQL into a DuckDB file beside the run's report (the same
copy as the parity test's, values unchanged), and the checks run on that copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecom.pg.load import PostgresSettings

#: The schemas a run fills (dropped by --fresh) and the ones the reconciliation reads.
RUN_SCHEMAS: tuple[str, ...] = ("raw", "staging", "intermediate", "marts", "seeds")
SNAPSHOT_SCHEMAS: tuple[str, ...] = ("raw", "staging", "marts")


def run_server() -> tuple[PostgresSettings, dict[str, str], str]:
    """(settings, dbt env, how it was found): the server the environment names (the
    ``postgres`` target's variables), else the one ``ecom postgres up`` runs, else a new one
    started now and left running like ``ecom postgres up``'s (``ecom postgres down`` stops it)."""
    from ecom import settings as ecom_settings

    if ecom_settings.get().postgres_password is not None:
        settings = PostgresSettings.from_env()
        env = ecom_settings.get().group_env("PostgreSQL")
        return settings, env, f"{settings.host}:{settings.port} (from the environment)"
    from ecom.pg.cli import running_server, state_file
    from ecom.pg.server import PostgresServer

    server = running_server()
    how = "reusing `ecom postgres up`'s server"
    if server is None:
        server = PostgresServer.start()
        server.save(state_file())
        how = "started a throwaway server (`ecom postgres down` stops it)"
    env = server.env()
    settings = PostgresSettings(
        env["POSTGRES_HOST"], server.port, server.database, server.user, server.password
    )
    return settings, env, f"127.0.0.1:{server.port}, {how}"


def empty(settings: PostgresSettings) -> None:
    """--fresh: drop every schema a run fills."""
    with settings.connect(autocommit=True) as con:
        for schema in RUN_SCHEMAS:
            con.execute(f'drop schema if exists "{schema}" cascade')


def snapshot(settings: PostgresSettings, path: Path) -> int:
    """Copy raw, staging and marts from PostgreSQL into a new DuckDB file; returns the tables."""
    import duckdb

    from ecom.pg.parity import copy_table_from_postgres, postgres_columns

    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        with settings.connect() as pg:
            tables: dict[str, Any] = postgres_columns(pg, SNAPSHOT_SCHEMAS)
            for schema in SNAPSHOT_SCHEMAS:
                con.execute(f"create schema if not exists {schema}")
            for name, columns in tables.items():
                copy_table_from_postgres(pg, con, name, columns, name)
        return len(tables)
    finally:
        con.close()
