"""``ecom produce`` and ``ecom sink``: CSV files -> Kinesis -> S3 landing zone."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

if TYPE_CHECKING:
    from ecom.stream.sink import SinkConfig

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _aws() -> tuple[Any, Any]:
    """The resolved AWS target and the stack's resources (clear errors when there is none)."""
    from ecom.aws import session

    t = session.target()
    return t, session.resources(t)


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


#: ``--until-caught-up/--follow``, for the commands that read the stream (sink, realtime).
until_caught_up_option = click.option(
    "--until-caught-up/--follow",
    default=True,
    show_default=True,
    help="Stop once every shard is read to its end (batch runs, tests), or keep following.",
)


@contextmanager
def stream_run(
    target: Any, *, follow: bool, stopping: str, console: Console
) -> Iterator[Callable[[], bool]]:
    """Around a stream reader's run: an AWS error becomes a CLI error naming ``target``; in
    follow mode a first Ctrl-C asks the reader to stop (``stopping`` is printed) and a second
    aborts. Yields the reader's ``should_stop``."""
    stop = {"flag": False}

    def on_sigint(_signum: int, _frame: Any) -> None:
        if stop["flag"]:
            raise KeyboardInterrupt
        stop["flag"] = True
        console.print(stopping)

    previous = signal.signal(signal.SIGINT, on_sigint) if follow else None
    try:
        yield lambda: stop["flag"]
    except _aws_errors() as exc:
        raise click.ClickException(f"AWS error on the {target.describe()}: {exc}") from exc
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--pack-bytes",
    type=click.IntRange(0, 1_000_000),
    default=64 * 1024,
    show_default=True,
    help="Pack a shard's events into Kinesis records of up to this many bytes (0: one event per record).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Replay at this multiple of real time, by event_time (e.g. 3600: an hour per second).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="PutRecords attempts per entry before it is dead-lettered.",
)
def produce(
    paths: tuple[Path, ...], pack_bytes: int, rate: float | None, max_attempts: int
) -> None:
    """Stream REES46 CSV files (or directories of them) into the Kinesis stream.

    Rows are validated by the event contract; invalid rows go to quarantine/produce/
    in the landing bucket with their reason; events Kinesis refuses after every retry
    go to deadletter/producer/. Partition key: user_session (user_id when missing).
    """
    from ecom.aws import session
    from ecom.profile import expand_paths
    from ecom.stream.produce import produce_files
    from ecom.stream.producer import Producer, RetryPolicy, StreamNotFound

    try:
        files = expand_paths(paths)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    t, res = _aws()
    console.print(f"producing to stream {res.stream} on the {t.describe()}")
    s3 = session.client("s3", target_=t)
    producer = Producer(
        session.client("kinesis", target_=t),
        res.stream,
        s3=s3,
        bucket=res.bucket,
        pack_bytes=pack_bytes,
        retry=RetryPolicy(max_attempts=max_attempts),
    )
    total = sum(f.stat().st_size for f in files)
    progress = Progress(
        TextColumn("[bold]produce"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task("produce", total=total)
        try:
            report = produce_files(
                files,
                producer,
                s3=s3,
                bucket=res.bucket,
                rate=rate,
                progress=lambda n: progress.advance(task, n),
            )
        except StreamNotFound as exc:
            raise click.ClickException(f"{exc}; is the stack deployed? (`ecom aws up`)") from exc
        except _aws_errors() as exc:
            raise click.ClickException(f"AWS error on the {t.describe()}: {exc}") from exc
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {note}")
    out.print(
        f"files {report.files} · read {report.read:,} · sent {report.sent:,} · "
        f"rejected {report.rejected:,} · retried {report.retried:,} · "
        f"dead-lettered {report.dead_lettered:,} · {report.records:,} records in {report.calls:,} calls"
    )
    for reason, n in sorted(report.rejected_by_reason.items()):
        out.print(f"  rejected {reason}: {n:,}")
    for code, n in sorted(report.errors.items()):
        out.print(f"  Kinesis {code}: {n:,} event attempts")
    for key in report.deadletter_keys:
        out.print(f"  dead letters: s3://{res.bucket}/{key}")
    if not report.reconciles:  # pragma: no cover - a bug, not an input problem
        raise click.ClickException(
            "counts do not reconcile: read != sent + rejected + dead-lettered"
        )
    if report.dead_lettered:
        raise SystemExit(2)


def sink_config(buffer_mb: float, buffer_records: int, buffer_seconds: float) -> SinkConfig:
    """The sink's settings from its options (``--buffer-mb`` is in MiB, as SinkConfig's default)."""
    from ecom.stream.sink import SinkConfig

    return SinkConfig(
        buffer_bytes=int(buffer_mb * 2**20),
        buffer_records=buffer_records,
        buffer_seconds=buffer_seconds,
    )


@click.command()
@until_caught_up_option
@click.option(
    "--buffer-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Flush a shard's micro-batch at this many MiB (2^20 bytes) of CSV.",
)
@click.option(
    "--buffer-records",
    type=click.IntRange(min=1),
    default=500_000,
    show_default=True,
    help="Flush a shard's micro-batch at this many events.",
)
@click.option(
    "--buffer-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    help="Flush a shard's micro-batch when its oldest event is this old.",
)
def sink(
    until_caught_up: bool, buffer_mb: float, buffer_records: int, buffer_seconds: float
) -> None:
    """Read every shard of the stream into the S3 landing zone, checkpointing in DynamoDB.

    Micro-batches are gzip CSV under
    landing/events/source=stream/dt=<arrival date>/shard=<id>/<first sequence number>.csv.gz;
    a shard's checkpoint advances only after its object is written, so a crash
    replays into the same keys. Ctrl-C in follow mode writes what is buffered first.
    """
    from ecom.aws import session
    from ecom.stream.sink import Sink, SinkReport

    t, res = _aws()
    console.print(
        f"sinking stream {res.stream} into s3://{res.bucket}/landing/ on the {t.describe()}"
    )
    progress = Progress(
        TextColumn("[bold]sink"),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )

    with progress:
        task = progress.add_task("sink", total=None, note="")

        def report_progress(r: SinkReport) -> None:
            progress.update(
                task, note=f"{r.events:,} events · {r.objects:,} objects · {r.records:,} records"
            )

        config = sink_config(buffer_mb, buffer_records, buffer_seconds)
        worker = Sink.on(
            lambda service: session.client(service, target_=t),
            res,
            config=config,
            progress=report_progress,
        )
        with stream_run(
            t,
            follow=not until_caught_up,
            stopping="stopping: writing buffered events first (Ctrl-C again to abort)",
            console=console,
        ) as should_stop:
            report = worker.run(until_caught_up=until_caught_up, should_stop=should_stop)
    out.print(
        f"records {report.records:,} · events landed {report.events:,} · objects {report.objects:,} "
        f"({report.bytes / 1e6:,.1f} MB gzip) · quarantined {report.quarantined:,} · "
        f"checkpoints {report.checkpoints:,} · shards finished {len(report.shards_finished)}"
    )
    if report.shards_lost:
        console.print(
            f"[yellow]note[/yellow] shards taken over by another sink: {', '.join(report.shards_lost)}"
        )


def register(group: click.Group) -> None:
    group.add_command(produce)
    group.add_command(sink)
