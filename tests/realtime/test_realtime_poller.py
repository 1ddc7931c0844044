"""The local event source mapping's batching window (``ecom realtime --follow``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from realtime_helpers import actual_figures, expected_figures, poller, processor

from aws_fixtures import AwsStack
from ecom.events import Event, parse_fields
from ecom.stream.records import encode_event


def _event(i: int) -> Event:
    row = (
        f"2019-11-15 10:0{i}:00 UTC",
        "view",
        str(1000 + i),
        "1",
        "",
        "b",
        "1.00",
        str(100 + i),
        f"s{i}",
    )
    outcome = parse_fields(row)
    assert isinstance(outcome, Event)
    return outcome


def _one_record_per_shard(stack: AwsStack, kinesis: Any) -> list[Event]:
    """Put one event on each of the two shards (a hash key in each half of the range)."""
    events = [_event(0), _event(1)]
    shards = {
        kinesis.put_record(
            StreamName=stack.stream,
            Data=encode_event(event),
            PartitionKey=f"key-{n}",
            ExplicitHashKey=str(hash_key),
        )["ShardId"]
        for n, (event, hash_key) in enumerate(zip(events, (1, 3 * 2**126), strict=True))
    }
    assert len(shards) == 2
    return events


def test_one_shards_batching_window_does_not_hold_up_the_other_shard(aws_stack: AwsStack) -> None:
    # given one record on each of the two shards
    kinesis = aws_stack.client("kinesis")
    events = _one_record_per_shard(aws_stack, kinesis)
    # and a log of what the poller reads (per record's partition key) and when it invokes
    log: list[tuple[str, str]] = []

    def read(parsed: dict[str, Any], **_: Any) -> None:
        for record in parsed.get("Records", []):
            log.append(("read", record["PartitionKey"]))

    kinesis.meta.events.register("after-call.kinesis.GetRecords", read)
    proc = processor(aws_stack)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        log.append(("invoke", event["Records"][0]["eventID"].split(":")[0]))
        return proc(event, context)

    # when the poller follows with a 1 s batching window until both shards were delivered
    esm = poller(aws_stack, handler, kinesis=kinesis, batch_window=1.0, idle_sleep=0.01)
    esm.run(
        until_caught_up=False,
        should_stop=lambda: len({s for kind, s in log if kind == "invoke"}) == 2,
    )
    # then every record was read before the first batch went out: the first shard's window
    # did not keep the second shard from being read (each shard has its own window)
    first_invoke = next(n for n, (kind, _) in enumerate(log) if kind == "invoke")
    last_read = max(n for n, (kind, _) in enumerate(log) if kind == "read")
    assert last_read < first_invoke
    assert [kind for kind, _ in log].count("invoke") == 2
    assert actual_figures(aws_stack) == expected_figures(events)


def test_a_slow_batch_on_one_shard_does_not_hold_up_the_other(aws_stack: AwsStack) -> None:
    # given one record on each of the two shards, and a handler whose first batch waits (up to
    # 20 s) until a batch of the other shard has been handled
    events = _one_record_per_shard(aws_stack, aws_stack.client("kinesis"))
    proc = processor(aws_stack)
    lock = threading.Lock()
    handled: set[str] = set()
    first: list[str] = []
    waited: list[bool] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        shard = event["Records"][0]["eventID"].split(":")[0]
        with lock:
            is_first = not first
            first.append(shard)
        if is_first:
            deadline = time.monotonic() + 20
            while not handled - {shard} and time.monotonic() < deadline:
                time.sleep(0.01)
            waited.append(bool(handled - {shard}))
        response = proc(event, context)
        with lock:
            handled.add(shard)
        return response

    # when the poller runs until caught up
    poller(aws_stack, handler).run(until_caught_up=True)
    # then the other shard's batch was handled while the first one waited (shards are read at
    # once, as an event source mapping reads them), and both events count once
    assert waited == [True]
    assert len(handled) == 2 and len(first) == 2
    assert actual_figures(aws_stack) == expected_figures(events)


def test_one_client_per_service_and_s3_only_once_something_is_quarantined(
    aws_stack: AwsStack,
) -> None:
    # given ecom realtime's processor and poller on the stack, counting the clients made
    from types import SimpleNamespace

    from ecom.realtime.cli import make_realtime

    made: list[str] = []

    def client(service: str) -> Any:
        made.append(service)
        return aws_stack.client(service)

    res = SimpleNamespace(
        stream=aws_stack.stream,
        bucket=aws_stack.bucket,
        checkpoint_table=aws_stack.checkpoint_table,
        metrics_table=aws_stack.outputs["MetricsTableName"],
    )
    kinesis = aws_stack.client("kinesis")
    events = _one_record_per_shard(aws_stack, kinesis)
    run = make_realtime(client, res, retry_delay=0.001)
    run.poller.run(until_caught_up=True)
    # then clean records need one DynamoDB and one Kinesis client, and no S3 client
    assert sorted(made) == ["dynamodb", "kinesis"]
    assert run.processor.report.applied == len(events)
    # when a poison record comes: S3 is made once, for its quarantine object
    kinesis.put_record(StreamName=aws_stack.stream, Data=b"not,an,event", PartitionKey="k")
    run.poller.run(until_caught_up=True)
    assert sorted(made) == ["dynamodb", "kinesis", "s3"]
    assert run.processor.report.quarantined == 1
    assert len(run.processor.report.quarantine_keys) == 1
