"""Batches handled in worker processes (``ecom realtime --processes``): the same figures, each
event once, and a worker that dies is replaced while its batch is delivered again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from realtime_helpers import (
    actual_figures,
    distinct_events,
    expected_figures,
    metrics_table,
    poller,
    produce,
)

from aws_fixtures import AwsStack
from ecom.realtime.handler import Processor
from ecom.realtime.workers import ShardWorkers, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need fork()")


def _make(stack: AwsStack, *, die_after_commit: Path | None = None) -> Any:
    """A worker's processor on the stack; with ``die_after_commit``, the first worker to see
    its batch's transaction committed exits at once (a container that crashed before it
    could answer), and leaves that file behind so that its successor does not."""

    def make() -> Processor:
        dynamodb = stack.client("dynamodb")
        if die_after_commit is not None:

            def die(**_: Any) -> None:
                if not die_after_commit.exists():
                    die_after_commit.touch()
                    os._exit(9)

            dynamodb.meta.events.register("after-call.dynamodb.TransactWriteItems", die)
        return Processor(
            dynamodb,
            stack.client("s3"),
            table=metrics_table(stack),
            bucket=stack.bucket,
            base_delay=0.001,
            max_delay=0.005,
        )

    return make


def test_worker_processes_count_every_distinct_event_once(
    aws_stack: AwsStack, few_days: list[Path]
) -> None:
    # given the generated days (with the data's own exact duplicates) and a poison record
    report = produce(aws_stack, few_days)
    aws_stack.client("kinesis").put_record(
        StreamName=aws_stack.stream, Data=b"not,an,event", PartitionKey="poison"
    )
    events = distinct_events(few_days)
    # when two worker processes handle the batches
    workers = ShardWorkers(_make(aws_stack), processes=2)
    try:
        pids = workers.pids
        poller(aws_stack, workers, batch_size=20).run(until_caught_up=True)
    finally:
        workers.close()
    # then they were processes of their own, and each stopped when told, with its peak memory
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert workers.pids == [] and len(workers.peak_memory) == 2
    assert all(peak > 0 for peak in workers.peak_memory)
    # and every figure counts each distinct event once; the report adds up both workers' calls
    assert actual_figures(aws_stack) == expected_figures(events.values())
    r = workers.report
    assert r.applied == len(events) and r.duplicates == report.sent - len(events)
    assert r.quarantined == 1 and len(r.quarantine_keys) == 1
    assert r.lines == r.applied + r.duplicates + r.quarantined
    assert r.invocations > 2 and workers.started == 2


def test_a_worker_that_dies_after_its_commit_is_replaced_and_the_batch_counts_once(
    aws_stack: AwsStack, few_days: list[Path], tmp_path: Path
) -> None:
    # given the stream, and workers of which the first to commit a transaction exits before it
    # answers: the batch's figures are in the table, its checkpoint is not
    produce(aws_stack, few_days)
    events = distinct_events(few_days)
    died = tmp_path / "died"
    workers = ShardWorkers(_make(aws_stack, die_after_commit=died), processes=2)
    esm = poller(aws_stack, workers, batch_size=20)
    try:
        esm.run(until_caught_up=True)
    finally:
        workers.close()
    # then the call failed, the mapping delivered the batch again to a new worker
    assert died.exists()
    assert workers.started == 3 and esm.report.retries >= 1
    # which recognised the events the dead one had applied: every event counts once
    assert actual_figures(aws_stack) == expected_figures(events.values())
    assert workers.report.applied < len(events)  # the dead worker's answer never came
    assert esm.report.discarded == 0
