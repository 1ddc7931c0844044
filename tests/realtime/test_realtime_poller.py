"""The local event source mapping's batching window (``ecom realtime --follow``)."""

from __future__ import annotations

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


def test_one_shards_batching_window_does_not_hold_up_the_other_shard(aws_stack: AwsStack) -> None:
    # given one record on each of the two shards (a hash key in each half of the range)
    kinesis = aws_stack.client("kinesis")
    events = [_event(0), _event(1)]
    shards = {
        kinesis.put_record(
            StreamName=aws_stack.stream,
            Data=encode_event(event),
            PartitionKey=f"key-{n}",
            ExplicitHashKey=str(hash_key),
        )["ShardId"]
        for n, (event, hash_key) in enumerate(zip(events, (1, 3 * 2**126), strict=True))
    }
    assert len(shards) == 2
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
