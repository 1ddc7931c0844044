"""``ecom load``: the CLI over :mod:`ecom.load.duck` and :mod:`ecom.load.redshift`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ecom.cli_options import duckdb_option


def register(group: click.Group) -> None:
    group.add_command(load_cmd)


def _default_target() -> str:
    from ecom import settings

    return settings.get().load_target


@click.command("load")
@click.option(
    "--target",
    type=click.Choice(["duckdb", "redshift", "postgres"]),
    default=lambda: _default_target(),
    show_default="duckdb, or $ECOM_LOAD_TARGET",
    help="Warehouse to load into.",
)
@click.option(
    "--bucket",
    default=None,
    help="Landing bucket. Default: $ECOM_BUCKET, else the one `ecom aws up` deployed.",
)
@click.option(
    "--prefix",
    default="landing/events/",
    show_default=True,
    help="Only objects under this prefix (gzip CSV *.csv.gz and *.parquet).",
)
@duckdb_option("Warehouse file (duckdb target)")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait while another loader (or dbt) holds the DuckDB warehouse.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the load report as JSON.")
def load_cmd(
    target: str,
    bucket: str | None,
    prefix: str,
    db_path: Path | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Load new landing-zone objects into raw.events, idempotently, with an audit row per object.

    \b
    1. lists the landing objects (stream gzip CSV, backfill Parquet) and leaves out those
       already in raw.load_audit with the same ETag;
    2. writes a COPY manifest of the rest to s3://<bucket>/manifests/;
    3. loads them in ONE transaction with one raw.load_audit row per object
       (DuckDB reads s3:// through httpfs; Redshift runs COPY ... MANIFEST; PostgreSQL
       gets the rows DuckDB staged and validated by COPY ... FROM STDIN).

    A rerun loads nothing new; a crash before the commit loads nothing; a second loader
    waits for the first. Rows that break the contract go to raw.load_rejects and to
    s3://<bucket>/quarantine/load/ with their reason. Redshift needs ECOM_REDSHIFT_IAM_ROLE,
    REDSHIFT_HOST, REDSHIFT_USER and DBT_ENV_SECRET_REDSHIFT_PASSWORD; PostgreSQL the
    variables of the dbt postgres target (`eval "$(ecom postgres up)"` sets them).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from ecom.cli import console, out, stage_progress
    from ecom.load.core import LoadError, LoadReport
    from ecom.load.landing import LandingError, landing_bucket, s3_client

    try:
        bucket = bucket or landing_bucket()
        client = s3_client()
        report: LoadReport
        if target == "duckdb":
            from ecom.load.duck import load_duckdb

            with stage_progress() as progress:
                task = progress.add_task("load", total=None, note="listing the landing zone")

                def advance(done: int, total: int, note: str) -> None:
                    progress.update(task, completed=done, total=total, note=note)

                report = load_duckdb(
                    bucket,
                    client=client,
                    db_path=db_path,
                    prefix=prefix,
                    lock_timeout=lock_timeout,
                    progress=advance,
                )
        elif target == "postgres":
            from ecom.pg.load import load_postgres

            with stage_progress() as progress:
                task = progress.add_task("load", total=None, note="listing the landing zone")

                def advance_pg(done: int, total: int, note: str) -> None:
                    progress.update(task, completed=done, total=total, note=note)

                report = load_postgres(bucket, client=client, prefix=prefix, progress=advance_pg)
        else:
            from ecom.load.redshift import RedshiftSettings, connect_from_env, load_redshift

            settings = RedshiftSettings.from_env()
            connection = connect_from_env()
            try:
                console.print(f"loading s3://{bucket}/{prefix} into Redshift (COPY ... MANIFEST)")
                report = load_redshift(
                    bucket, client=client, connection=connection, settings=settings, prefix=prefix
                )
            finally:
                connection.close()
    except (LoadError, LandingError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (BotoCoreError, ClientError) as exc:
        raise click.ClickException(
            f"cannot reach the landing bucket {bucket!r}: {exc}. Is the emulator running "
            "(`ecom aws up`), or are AWS credentials and AWS_ENDPOINT_URL set?"
        ) from exc

    if as_json:
        payload = {
            "target": report.target,
            "load_id": report.load_id,
            "objects_listed": report.objects_listed,
            "objects_skipped": report.objects_skipped,
            "objects_loaded": report.objects_loaded,
            "objects_unreadable": [
                {"key": o.obj.key, "error": o.detail} for o in report.objects_unreadable
            ],
            "read": report.read,
            "loaded": report.loaded,
            "rejected": report.rejected,
            "rejected_by_reason": dict(report.rejected_by_reason),
            "manifests": report.manifests,
            "quarantine": report.quarantine,
        }
        out.print_json(json.dumps(payload))
        return
    if not report.objects:
        out.print(
            f"nothing to load: {report.objects_listed:,} landing objects, all already loaded"
            if report.objects_listed
            else f"nothing to load: no landing objects under s3://{bucket}/{prefix}"
        )
        return
    out.print(f"load {report.load_id} into {report.target}: {report.summary()}")
    for reason, n in sorted(report.rejected_by_reason.items()):
        out.print(f"  rejected {reason}: {n:,}")
    for o in report.objects_unreadable:
        console.print(f"[yellow]unreadable object[/yellow] {o.obj.key}: {o.detail}")
    for key in report.manifests:
        out.print(f"manifest: s3://{bucket}/{key}")
    if report.quarantine:
        out.print(f"quarantine: s3://{bucket}/{report.quarantine}")
