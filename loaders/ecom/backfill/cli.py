"""``ecom backfill``: historic CSV -> validated, date-partitioned Parquet with local Spark."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

T = TypeVar("T")


def register(group: click.Group) -> None:
    group.add_command(backfill_cmd)


@click.command("backfill")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Landing-zone root to write under (landing/events/source=backfill/..., "
    "quarantine/backfill/...). Default: $ECOM_HOME/lake (.ecom/lake).",
)
@click.option(
    "--master",
    default="local[*]",
    show_default=True,
    help="Spark master; the backfill runs Spark in local mode on this machine.",
)
@click.option(
    "--driver-memory", default="4g", show_default=True, help="Memory for the local Spark JVM."
)
@click.option(
    "--upload",
    is_flag=True,
    help="Then publish what this run wrote into the landing bucket (same keys), deleting "
    "part files of its date partitions that the run no longer wrote.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def backfill_cmd(
    paths: tuple[Path, ...],
    root: Path | None,
    master: str,
    driver_memory: str,
    upload: bool,
    as_json: bool,
) -> None:
    """Backfill historic REES46 CSV files (or directories of them) with Spark.

    Every row is validated by the event contract (the same rules, reasons and event_id
    as the stream); accepted rows become Parquet partitioned by event date, rejected
    rows go to quarantine/backfill/<file>.jsonl with their reason and line number.
    Rerunning on the same files rewrites the same partitions (no copies).

    \b
    Example:
      ecom backfill data/2019-Oct.csv data/2019-Nov.csv --root .ecom/lake
      ecom backfill data/2019-Oct.csv --upload     # then into the bucket for `ecom load`
    On a cluster, submit spark/backfill.py instead (see docs/backfill.md).
    """
    from ecom.backfill import backfill, default_root, expand_inputs, load_job, local_session
    from ecom.cli import console, out

    if shutil.which("java") is None and not _java_home():
        raise click.ClickException(
            "Spark needs Java 17 or later: install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) "
            "or set JAVA_HOME"
        )
    try:
        files = expand_inputs(paths)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    target = root or default_root()
    # with --upload, find the bucket before spending minutes in Spark
    bucket = _aws(lambda: _landing_bucket()) if upload else None
    job = load_job()
    started = time.perf_counter()
    console.print(f"starting Spark ({master}) for {len(files)} file(s) ...")
    spark = local_session(master, driver_memory=driver_memory)
    console.print(f"Spark up in {time.perf_counter() - started:.1f} s")

    def say(message: str) -> None:
        console.print(f"[{time.perf_counter() - started:6.1f} s] {message}")

    try:
        report = backfill(files, target, spark=spark, progress=say)
    except job.BackfillError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        spark.stop()
    published = None
    if upload:
        published = _aws(lambda: _publish_run(target, report, bucket))
        say(
            f"uploaded {len(published.uploaded)} object(s) to s3://{published.bucket}/, "
            f"deleted {len(published.deleted)} stale"
        )
    if as_json:
        body = report.to_dict()
        if published is not None:
            body["upload"] = published.to_dict()
        out.print_json(json.dumps(body))
    else:
        out.print(
            f"read {report.read:,} · accepted {report.accepted:,} · rejected {report.rejected:,} "
            f"· written {report.written_rows:,} rows in {len(report.parquet_files)} Parquet file(s) "
            f"over {len(report.event_dates)} day(s)"
        )
        for reason, n in sorted(report.rejected_by_reason.items()):
            out.print(f"  rejected {reason}: {n:,}")
        for name in report.files_without_header:
            out.print(f"  no header line (read as data): {name}")
        out.print(f"landing: {Path(target) / job.LANDING_PREFIX}")
        for q in report.quarantine_files:
            out.print(f"quarantine: {q}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    if report.read and not report.accepted:
        sys.exit(1)


def _landing_bucket() -> str:
    from ecom.load.landing import landing_bucket

    return landing_bucket()


def _publish_run(target: Path, report: Any, bucket: str | None) -> Any:
    """Publish this run's date partitions and quarantine files to the landing bucket."""
    from ecom.backfill.publish import publish_run

    return publish_run(target, report, bucket=bucket)


def _aws(call: Callable[[], T]) -> T:
    """``call()``, with AWS and landing-zone errors turned into a one-line CLI error."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ecom.load.landing import LandingError

    try:
        return call()
    except click.ClickException:
        raise
    except (LandingError, BotoCoreError, ClientError) as exc:
        raise click.ClickException(f"landing bucket: {exc}") from exc


def _java_home() -> bool:
    from ecom import settings

    home = settings.get().java_home
    return home is not None and Path(home, "bin", "java").exists()
