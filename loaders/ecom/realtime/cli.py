"""``ecom realtime``: the stream processor locally (an event source mapping around the handler)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console

from ecom.realtime.poller import PollerConfig
from ecom.stream.cli import stream_run, until_caught_up_option

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


@dataclass
class RealtimeRun:
    processor: Any  # ecom.realtime.handler.Processor, or .workers.ShardWorkers
    poller: Any  # ecom.realtime.poller.Poller

    def close(self) -> None:
        """Stop the worker processes, if any."""
        close = getattr(self.processor, "close", None)
        if close is not None:
            close()


def resources_with_metrics(client: Callable[[str], Any] | None = None) -> Any:
    """The stack's resources; a local stack deployed before the metrics table is updated."""
    from ecom.aws import emulator, session

    t = session.target()
    res = session.resources(t)
    if not res.metrics_table:
        if t.kind == "aws":
            raise click.ClickException(
                f"stack {t.stack_name!r} has no MetricsTableName output: redeploy "
                "infra/template.yaml (`ecom aws deploy`)"
            )
        emulator.deploy_stack()
        res = session.resources()
    return res


def make_realtime(
    client: Callable[[str], Any],
    res: Any,
    *,
    progress: Callable[[Any], None] | None = None,
    processes: int = 0,
    **config: Any,
) -> RealtimeRun:
    """The processor and its local event source mapping on ``res`` (clients from ``client``);
    ``processes``: worker processes the batches go to (:mod:`ecom.realtime.workers`; 0 runs
    the handler in this process); ``config``: fields of
    :class:`ecom.realtime.poller.PollerConfig`. Call :meth:`RealtimeRun.close` when done."""
    from ecom.aws.session import LazyClient
    from ecom.realtime.handler import Processor
    from ecom.realtime.poller import Poller

    # one client per service for the processor and the poller; S3 only takes quarantined
    # records and dead letters, so it is made if one comes
    made: dict[str, Any] = {"s3": LazyClient(lambda: client("s3"))}

    def once(service: str) -> Any:
        if service not in made:
            made[service] = client(service)
        return made[service]

    processor: Any = Processor(
        once("dynamodb"), once("s3"), table=res.metrics_table, bucket=res.bucket
    )
    poller = Poller.on(
        once, res, handler=processor, config=PollerConfig(**config), progress=progress
    )
    if processes:
        # forked once the poller has loaded the service models (a worker has them then)
        from ecom.realtime.workers import ShardWorkers

        def make() -> Processor:  # in a worker: clients of its own
            s3 = LazyClient(lambda: client("s3"))
            return Processor(client("dynamodb"), s3, table=res.metrics_table, bucket=res.bucket)

        processor = poller.handler = ShardWorkers(make, processes=processes)
    return RealtimeRun(processor, poller)


@click.command("realtime")
@until_caught_up_option
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=PollerConfig.batch_size,
    show_default=True,
    help="Kinesis records per handler call (the event source mapping's BatchSize; a packed "
    "record holds up to 64 KiB of events).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=PollerConfig.max_attempts,
    show_default=True,
    help="Deliveries of a failing batch before its range goes to deadletter/realtime/.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes the batches go to, the shards in turn (as Lambda runs each shard "
    "in a container of its own); 0 runs the handler in this process.  [default: one per "
    "core, 0 on one core]",
)
@click.option(
    "--batch-window",
    type=click.FloatRange(0, 300),
    default=0.5,
    show_default=True,
    help="Follow mode: seconds to wait for a fuller batch once records come (fewer DynamoDB "
    "writes; each second adds to the figures' delay).",
)
def realtime(
    until_caught_up: bool,
    batch_size: int,
    max_attempts: int,
    processes: int | None,
    batch_window: float,
) -> None:
    """Process the stream into live KPIs in DynamoDB (read them with GET /metrics).

    Polls every shard and calls the stream processor's Lambda handler
    (ecom.realtime.handler) as an event source mapping would: in order per shard,
    redelivering from the first failed record, checkpointing after success, with its
    own position (apart from `ecom sink`). Each distinct event is counted once.
    """
    from ecom.aws import session

    t = session.target()
    res = resources_with_metrics()
    console.print(
        f"processing stream {res.stream} into table {res.metrics_table} on the {t.describe()}"
    )
    from ecom.realtime.workers import default_processes

    run = make_realtime(
        lambda s: session.client(s, target_=t),
        res,
        processes=default_processes() if processes is None else processes,
        batch_size=batch_size,
        max_attempts=max_attempts,
        batch_window=0.0 if until_caught_up else batch_window,  # follow mode only
    )
    with stream_run(
        t,
        follow=not until_caught_up,
        stopping="stopping after the current batch (Ctrl-C again to abort)",
        console=console,
    ) as should_stop:
        try:
            run.poller.run(until_caught_up=until_caught_up, should_stop=should_stop)
        finally:
            run.close()
    r, p = run.processor.report, run.poller.report
    out.print(
        f"records {p.records:,} in {p.invocations:,} batches · events applied {r.applied:,} · "
        f"duplicates {r.duplicates:,} · quarantined {r.quarantined:,} · "
        f"DynamoDB writes {r.writes:,} in {r.transactions:,} transactions · "
        f"retried batches {p.retries:,} · checkpoints {p.checkpoints:,}"
    )
    for reason, n in sorted(r.quarantined_by_reason.items()):
        out.print(f"  quarantined {reason}: {n:,} (s3://{res.bucket}/quarantine/realtime/)")
    if p.discarded:
        for key in p.deadletter_keys:
            out.print(f"  failed batch: s3://{res.bucket}/{key}")
        raise SystemExit(2)


def register(group: click.Group) -> None:
    group.add_command(realtime)
