"""Every environment variable the project reads, in one settings object.

:func:`get` returns the :class:`Settings` of the current environment: the environment is read
here and nowhere else in ``loaders/ecom`` (a test keeps it so), and read again only when one
of the variables below changes (tests and ``ecom run`` change them between stages).
``python -m ecom.settings`` prints the table of ``docs/configuration.md``.

The dbt profiles (``profiles/profiles.yml``) read some of the same variables through dbt's
``env_var``; they are declared here too so that one table documents them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class Secret(str):
    """A value kept out of reprs and logs (passwords, API keys); ``str(secret)`` is the value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')"

    def get_secret_value(self) -> str:
        return str.__str__(self)


def _env(*names: str, group: str, doc: str, default: Any = None) -> Any:
    """A setting read from the environment variable ``names[0]`` (else the next ones)."""
    return field(default=default, metadata={"names": names, "group": group, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """The project's configuration, from the environment (empty values count as unset).

    A plain dataclass rather than pydantic-settings: the ingestion Lambdas read it on a cold
    start, where importing pydantic-settings alone cost ~0.4 s and building the model ~0.5 s
    more on this machine (``python -X importtime``), longer than the whole handler's import.
    """

    # -- local state --------------------------------------------------------------------------
    home: Path | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "ECOM_HOME",
        group="local state",
        doc="Folder of local state (emulator state, run outputs, load-files quarantine). "
        "Default: `.ecom/` in the project.",
    )
    duckdb_path: Path | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "ECOM_DUCKDB_PATH",
        group="local state",
        doc="The DuckDB warehouse file (also the dbt `duckdb` target's). "
        "Default: `$ECOM_HOME/warehouse.duckdb`.",
    )

    # -- AWS --------------------------------------------------------------------------------------
    aws_mode: str = _env(
        "ECOM_AWS",
        group="AWS",
        default="",
        doc="`aws`: talk to real AWS even when a local emulator is recorded.",
    )
    aws_endpoint_url: str | None = _env(
        "AWS_ENDPOINT_URL",
        group="AWS",
        doc="An AWS endpoint of your own (LocalStack, a moto server): used before anything else.",
    )
    aws_region: str | None = _env(
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        group="AWS",
        doc="Region (AWS_REGION, else AWS_DEFAULT_REGION). Default: us-east-1.",
    )
    stack: str = _env(
        "ECOM_STACK", group="AWS", default="ecom", doc="CloudFormation stack of the resources."
    )
    bucket: str | None = _env(
        "ECOM_BUCKET",
        group="AWS",
        doc="Landing bucket. Default: the stack's output (the Lambdas get it from the template).",
    )
    stream: str | None = _env(
        "ECOM_STREAM",
        group="AWS",
        doc="Kinesis stream. Default: the stack's output (the Lambdas get it from the template).",
    )
    checkpoint_table: str | None = _env(
        "ECOM_CHECKPOINT_TABLE",
        group="AWS",
        doc="DynamoDB table of the sink's checkpoints. Default: the stack's output.",
    )
    metrics_table: str | None = _env(
        "ECOM_METRICS_TABLE",
        group="AWS",
        doc="DynamoDB table of the real-time metrics. Default: the stack's output.",
    )

    # -- HTTP API ----------------------------------------------------------------------------------
    api_keys: Secret | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "ECOM_API_KEYS",
        "ECOM_API_KEY",
        group="HTTP API",
        doc="Accepted `x-api-key` values, comma-separated (ECOM_API_KEYS, else ECOM_API_KEY). "
        "Unset: `ecom api serve` makes one up and prints it.",
    )

    # -- dashboard ---------------------------------------------------------------------------------
    dashboard_api_url: str | None = _env(
        "ECOM_DASHBOARD_API_URL",
        group="dashboard",
        doc="Base URL of `ecom api serve` that the dashboard app's live page reads "
        "(`ecom dashboard serve --api-url` sets it); it sends the first of the API keys.",
    )

    # -- loading -----------------------------------------------------------------------------------
    load_target: str = _env(
        "ECOM_LOAD_TARGET",
        group="loading",
        default="duckdb",
        doc="Default warehouse of `ecom load`: duckdb, redshift or postgres.",
    )
    redshift_iam_role: str | None = _env(
        "ECOM_REDSHIFT_IAM_ROLE",
        group="loading",
        doc="ARN of the role Redshift assumes to read the landing bucket (COPY).",
    )
    redshift_s3_region: str | None = _env(
        "ECOM_REDSHIFT_S3_REGION",
        group="loading",
        doc="Region of the landing bucket, when it is not the cluster's.",
    )

    # -- warehouses (the loaders and the dbt profiles) ---------------------------------------
    redshift_host: str | None = _env("REDSHIFT_HOST", group="Redshift", doc="Cluster endpoint.")
    redshift_port: int = _env("REDSHIFT_PORT", group="Redshift", default=5439, doc="Port.")
    redshift_database: str = _env(
        "REDSHIFT_DATABASE", group="Redshift", default="dev", doc="Database."
    )
    redshift_user: str | None = _env("REDSHIFT_USER", group="Redshift", doc="User.")
    redshift_password: Secret | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "DBT_ENV_SECRET_REDSHIFT_PASSWORD",
        group="Redshift",
        doc="Password (dbt keeps `DBT_ENV_SECRET_*` out of its logs).",
    )
    redshift_schema: str | None = _env(
        "REDSHIFT_SCHEMA", group="Redshift", doc="dbt profile only: the target schema."
    )
    redshift_sslmode: str | None = _env(
        "REDSHIFT_SSLMODE", group="Redshift", doc="dbt profile only: sslmode."
    )
    postgres_host: str = _env(
        "POSTGRES_HOST", group="PostgreSQL", default="127.0.0.1", doc="Server host."
    )
    postgres_port: int = _env("POSTGRES_PORT", group="PostgreSQL", default=5432, doc="Port.")
    postgres_database: str = _env(
        "POSTGRES_DATABASE", group="PostgreSQL", default="ecom", doc="Database."
    )
    postgres_user: str = _env("POSTGRES_USER", group="PostgreSQL", default="ecom", doc="User.")
    postgres_password: Secret | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "DBT_ENV_SECRET_POSTGRES_PASSWORD",
        group="PostgreSQL",
        doc='Password; its presence selects a configured server (`eval "$(ecom postgres up)"` '
        "sets all of these).",
    )
    postgres_schema: str | None = _env(
        "POSTGRES_SCHEMA", group="PostgreSQL", doc="dbt profile only: the target schema."
    )
    postgres_sslmode: str | None = _env(
        "POSTGRES_SSLMODE", group="PostgreSQL", doc="dbt profile only: sslmode."
    )
    postgres_threads: int | None = _env(
        "POSTGRES_THREADS", group="PostgreSQL", doc="dbt profile only: threads."
    )
    pg_bindir: Path | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "ECOM_PG_BINDIR",
        group="PostgreSQL",
        doc="Folder of PostgreSQL's server binaries (initdb, pg_ctl) for `ecom postgres up`. "
        "Default: found under /usr/lib/postgresql.",
    )
    dbt_target: str | None = _env(
        "DBT_TARGET",
        group="dbt",
        doc="dbt profile only: the target (duckdb, redshift or postgres). Default: duckdb.",
    )

    # -- Spark ---------------------------------------------------------------------------------
    java_home: Path | None = _env(  # noqa: RUF009 (a dataclasses.field with metadata)
        "JAVA_HOME", group="Spark", doc="The Java (17) that `ecom backfill` starts Spark with."
    )

    # -- derived ---------------------------------------------------------------------------------

    def group_env(self, group: str) -> dict[str, str]:
        """The variables of ``group`` that are set, as an environment (for a child process)."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["group"] != group or value is None or f.name == "pg_bindir":
                continue
            env[f.metadata["names"][0]] = str(value)
        return env

    @classmethod
    def from_environ(cls, environ: dict[str, str] | os._Environ[str]) -> Settings:
        """Read every declared variable of ``environ`` (the first set name of each), typed."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = next((environ[n] for n in f.metadata["names"] if environ.get(n)), None)
            if raw is None:
                continue
            values[f.name] = _parse(f.name, f.type, raw, f.metadata["names"])
        return cls(**values)

    def api_key_set(self) -> frozenset[str] | None:
        """The accepted API keys, or ``None`` when none is configured."""
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        keys = frozenset(k.strip() for k in raw.split(",") if k.strip())
        return keys or None


def _parse(name: str, annotation: Any, raw: str, names: tuple[str, ...]) -> Any:
    kind = str(annotation)
    if kind.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            from ecom.errors import ConfigurationError

            raise ConfigurationError(f"{names[0]}={raw!r} is not an integer") from None
    if kind.startswith("Path"):
        return Path(raw)
    if kind.startswith("Secret"):
        return Secret(raw)
    return raw


def variables() -> list[tuple[str, str, str, str]]:
    """(variable names, group, default, description) of every setting, in declaration order."""
    rows = []
    for f in fields(Settings):
        default = "" if f.default in (None, "") else str(f.default)
        rows.append(
            (", ".join(f.metadata["names"]), f.metadata["group"], default, f.metadata["doc"])
        )
    return rows


#: Every variable name :class:`Settings` reads.
NAMES: tuple[str, ...] = tuple(n.strip() for names, *_ in variables() for n in names.split(","))

_cache: dict[tuple[str | None, ...], Settings] = {}


def get() -> Settings:
    """The settings of the current environment (built once per distinct set of values)."""
    key = tuple(os.environ.get(name) for name in NAMES)
    settings = _cache.get(key)
    if settings is None:
        if len(_cache) > 64:
            _cache.clear()
        settings = _cache[key] = Settings.from_environ(os.environ)
    return settings


def markdown_table() -> str:
    """The table of docs/configuration.md (a test keeps the file equal to it)."""
    lines = ["| variable | group | default | meaning |", "|---|---|---|---|"]
    for names, group, default, doc in variables():
        shown = ", ".join(f"`{n.strip()}`" for n in names.split(","))
        lines.append(f"| {shown} | {group} | {default} | {doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
