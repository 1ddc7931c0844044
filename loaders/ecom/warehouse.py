"""The local warehouse: where the DuckDB file lives, and how dbt is invoked for this project."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecom.contract import HEADER

if TYPE_CHECKING:
    import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROFILES_DIR = PROJECT_ROOT / "profiles"


def local_state_dir() -> Path:
    """Git-ignored folder for the local warehouse and emulator state (``ECOM_HOME`` overrides)."""
    from ecom import settings

    return settings.get().home or PROJECT_ROOT / ".ecom"


def duckdb_path() -> Path:
    """The local DuckDB warehouse file (``ECOM_DUCKDB_PATH`` overrides)."""
    from ecom import settings

    return settings.get().duckdb_path or local_state_dir() / "warehouse.duckdb"


def dbt_env() -> dict[str, str]:
    """Environment for dbt: project profiles, the local DuckDB path, no anonymous telemetry."""
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(PROFILES_DIR))
    env.setdefault("ECOM_DUCKDB_PATH", str(duckdb_path()))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    Path(env["ECOM_DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    return env


def run_dbt(args: list[str], *, cwd: Path | None = None) -> int:
    """Run ``dbt ARGS`` in the project directory; returns dbt's exit code."""
    import subprocess
    import sys

    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt) if dbt.exists() else "dbt", *args]
    return subprocess.call(command, cwd=cwd or PROJECT_ROOT, env=dbt_env())


# -- raw.events ---------------------------------------------------------------------------------

#: Columns of raw.events, in order. Every loader (stream, backfill, files) writes these.
RAW_EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    *HEADER,
    "source",
    "source_object",
    "loaded_at",
)

RAW_EVENTS_DDL_DUCKDB = """
create schema if not exists raw;
create table if not exists raw.events (
    event_id      varchar       not null,
    event_time    timestamp     not null,
    event_type    varchar       not null,
    product_id    bigint        not null,
    category_id   bigint        not null,
    category_code varchar,
    brand         varchar,
    price         decimal(10,2) not null,
    user_id       bigint        not null,
    user_session  varchar,
    source        varchar       not null,
    source_object varchar       not null,
    loaded_at     timestamp     not null
);
"""


def connect_duckdb(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the local warehouse with raw.events in place."""
    import duckdb

    path = path or duckdb_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("set timezone = 'UTC'")
    con.execute(RAW_EVENTS_DDL_DUCKDB)
    return con


# -- load audit and load rejects (written by `ecom load`) ----------------------------------------

#: raw.load_audit's columns, in order.
LOAD_AUDIT_COLUMNS: tuple[str, ...] = (
    "bucket",
    "object_key",
    "etag",
    "bytes",
    "format",
    "status",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "load_id",
    "manifest_key",
    "loaded_at",
)

#: One row per landing object loaded, committed in the same transaction as its rows.
#: A (bucket, object_key, etag) in this table is never loaded again.
LOAD_AUDIT_DDL_DUCKDB = """
create schema if not exists raw;
create table if not exists raw.load_audit (
    bucket        varchar   not null,
    object_key    varchar   not null,
    etag          varchar   not null,
    bytes         bigint    not null,
    format        varchar   not null,
    status        varchar   not null,
    rows_read     bigint    not null,
    rows_loaded   bigint    not null,
    rows_rejected bigint    not null,
    load_id       varchar   not null,
    manifest_key  varchar   not null,
    loaded_at     timestamp not null,
    primary key (bucket, object_key, etag)
);
create table if not exists raw.load_rejects (
    load_id     varchar   not null,
    object_key  varchar   not null,
    line        bigint,
    reason      varchar   not null,
    detail      varchar,
    raw         varchar,
    rejected_at timestamp not null
);
"""

# -- Redshift -------------------------------------------------------------------------------------

#: raw.events on Redshift: 19-digit ids fit bigint (int64); events of one user sit on one slice
#: (sessions, funnels and RFM join and window by user), sorted by time for range scans.
RAW_EVENTS_DDL_REDSHIFT = """
create table if not exists raw.events (
    event_id      varchar(32)   not null encode zstd,
    event_time    timestamp     not null encode az64,
    event_type    varchar(16)   not null encode zstd,
    product_id    bigint        not null encode az64,
    category_id   bigint        not null encode az64,
    category_code varchar(255)           encode zstd,
    brand         varchar(255)           encode zstd,
    price         decimal(10,2) not null encode az64,
    user_id       bigint        not null encode az64,
    user_session  varchar(64)            encode zstd,
    source        varchar(16)   not null encode zstd,
    source_object varchar(1024) not null encode zstd,
    loaded_at     timestamp     not null encode az64
)
diststyle key distkey (user_id)
compound sortkey (event_time)
"""

LOAD_AUDIT_DDL_REDSHIFT = """
create table if not exists raw.load_audit (
    bucket        varchar(63)   not null,
    object_key    varchar(1024) not null,
    etag          varchar(64)   not null,
    bytes         bigint        not null,
    format        varchar(16)   not null,
    status        varchar(16)   not null,
    rows_read     bigint        not null,
    rows_loaded   bigint        not null,
    rows_rejected bigint        not null,
    load_id       varchar(64)   not null,
    manifest_key  varchar(1024) not null,
    loaded_at     timestamp     not null,
    primary key (bucket, object_key, etag)
)
diststyle all
sortkey (loaded_at)
"""

LOAD_REJECTS_DDL_REDSHIFT = """
create table if not exists raw.load_rejects (
    load_id     varchar(64)    not null,
    object_key  varchar(1024)  not null,
    line        bigint,
    reason      varchar(64)    not null,
    detail      varchar(1024),
    raw         varchar(65535),
    rejected_at timestamp      not null
)
diststyle even
sortkey (rejected_at)
"""

#: Every DDL statement `ecom load --target redshift` runs (idempotent), in order.
REDSHIFT_DDL: tuple[str, ...] = (
    "create schema if not exists raw",
    RAW_EVENTS_DDL_REDSHIFT,
    LOAD_AUDIT_DDL_REDSHIFT,
    LOAD_REJECTS_DDL_REDSHIFT,
)


def table_columns(
    con: Any, schemas: Sequence[str], *, catalog: str | None = None, qualified: bool = True
) -> dict[str, list[str]]:
    """Every table and view of ``schemas`` in a DuckDB connection (of ``catalog`` when given)
    with its columns in order, keyed ``schema.table`` (``table`` alone unless ``qualified``)."""
    name = "table_schema || '.' || table_name" if qualified else "table_name"
    where = "table_schema in (select unnest($schemas))"
    params: dict[str, Any] = {"schemas": list(schemas)}
    if catalog is not None:
        where += " and table_catalog = $catalog"
        params["catalog"] = catalog
    rows = con.execute(
        f"select {name}, column_name from information_schema.columns where {where}"
        " order by 1, ordinal_position",
        params,
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables
