"""The stream processor against a real moto server over HTTP: every figure counts each
distinct valid event once, whatever the stream and DynamoDB do (docs/realtime.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from realtime_helpers import (
    CrashAfter,
    LoseAcknowledgement,
    SimulatedCrash,
    ThrottleDynamo,
    actual_figures,
    distinct_events,
    esm_record,
    expected_figures,
    metrics_table,
    poller,
    processor,
    produce,
)

from aws_fixtures import AwsStack
from ecom.events import Event


@pytest.fixture
def events(aws_stack: AwsStack, few_days: list[Path]) -> dict[str, Event]:
    """The generated days produced into the stack's stream, packed: their distinct events, by
    event_id."""
    produce(aws_stack, few_days)
    return distinct_events(few_days)


def test_every_distinct_event_counts_once_including_the_datas_exact_duplicates(
    aws_stack: AwsStack, few_days: list[Path]
) -> None:
    # given the generated days (which hold exact duplicate rows) in the stream, packed
    report = produce(aws_stack, few_days)
    events = distinct_events(few_days)
    assert report.sent > len(events)  # the data's own duplicate rows were sent too
    # when the processor reads every shard
    proc = processor(aws_stack)
    poller(aws_stack, proc).run(until_caught_up=True)
    # then every figure equals the distinct events'
    assert actual_figures(aws_stack) == expected_figures(events.values())
    r = proc.report
    assert r.applied == len(events)
    assert r.lines == r.applied + r.duplicates + r.quarantined
    assert r.duplicates == report.sent - len(events)
    # and DynamoDB took far fewer writes than events
    assert r.writes < r.applied


@pytest.mark.parametrize("position_every", [0.0, 3600.0], ids=["position-each-batch", "lazy"])
def test_redelivery_after_a_crash_between_the_dynamodb_write_and_the_checkpoint(
    aws_stack: AwsStack, events: dict[str, Event], position_every: float
) -> None:
    # given the stream, and a poller killed at its second checkpoint write: the handler's
    # transaction for that batch is committed, the checkpoint is not
    checkpoints = aws_stack.client("dynamodb")
    crash = CrashAfter(checkpoints, "PutItem", nth=2, when="before")
    first = processor(aws_stack, position_every=position_every)
    with pytest.raises(SimulatedCrash):
        poller(aws_stack, first, dynamodb=checkpoints, batch_size=20).run()
    assert crash.calls == 2 and first.report.applied > 0
    # when a new processor starts from the checkpoints: the batch is delivered again
    second = processor(aws_stack, position_every=position_every)
    again = poller(aws_stack, second, batch_size=20)
    again.run()
    # then it recognises what was applied (by the shard's position when that was written with
    # the batch, else by the events' ids), and every figure counts each event once
    if position_every == 0:
        assert second.report.records_skipped > 0
    else:  # the committed batch came again whole: its events were recognised by their ids
        assert second.report.records_skipped == 0
    assert first.report.applied + second.report.applied == len(events)
    assert actual_figures(aws_stack) == expected_figures(events.values())


def test_the_position_is_read_once_per_shard_then_known(
    aws_stack: AwsStack, events: dict[str, Event]
) -> None:
    # given a processor that writes the position with every batch, over many small batches
    dynamodb = aws_stack.client("dynamodb")
    reads: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", {}).get("pk", {}).get("S", "").startswith("pos#"):
            reads.append(params["Key"]["sk"]["S"])

    dynamodb.meta.events.register("provide-client-params.dynamodb.GetItem", count)
    proc = processor(aws_stack, dynamodb=dynamodb, position_every=0)
    esm = poller(aws_stack, proc, batch_size=5)
    esm.run()
    # then each shard's position was read once (by its first batch), not once a batch
    assert esm.report.invocations > 10
    assert sorted(reads) == sorted(set(reads)) and 1 <= len(reads) <= 2
    assert proc.report.applied == len(events)
    # and the same processor skips a batch delivered again by the position it wrote, unread
    kinesis = aws_stack.client("kinesis")
    shard = reads[0]
    it = kinesis.get_shard_iterator(
        StreamName=aws_stack.stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=it, Limit=3)["Records"]
    arn = kinesis.describe_stream_summary(StreamName=aws_stack.stream)["StreamDescriptionSummary"]
    batch = [esm_record(arn["StreamARN"], shard, r["SequenceNumber"], r["Data"]) for r in records]
    before = proc.report.records_skipped
    assert proc({"Records": batch}) == {"batchItemFailures": []}
    assert proc.report.records_skipped - before == len(batch) and len(reads) <= 2
    assert actual_figures(aws_stack) == expected_figures(events.values())


def test_a_crash_between_two_transactions_of_one_batch_applies_the_rest_once(
    aws_stack: AwsStack, events: dict[str, Event]
) -> None:
    # given batches split into many small transactions (small segments, 12 to a transaction),
    # and a crash right after the second one committed (the shard position moves only with a
    # batch's last transaction)
    dynamodb = aws_stack.client("dynamodb")
    CrashAfter(dynamodb, "TransactWriteItems", nth=2)
    first = processor(aws_stack, dynamodb=dynamodb, max_items=12, segment_bytes=2_000)
    with pytest.raises(SimulatedCrash):
        poller(aws_stack, first).run()
    # when the batch is delivered again from the start
    second = processor(aws_stack, max_items=12, segment_bytes=2_000)
    poller(aws_stack, second).run()
    # then the events of the two committed transactions are recognised by their ids
    assert second.report.records_skipped == 0
    assert second.report.applied < len(events)
    assert second.report.duplicates >= len(events) - second.report.applied
    assert actual_figures(aws_stack) == expected_figures(events.values())


def test_the_same_events_put_twice_by_the_producer_count_once(
    aws_stack: AwsStack, few_days: list[Path]
) -> None:
    # given a lost acknowledgement (the batch is put twice) and the whole input sent again
    kinesis = aws_stack.client("kinesis")
    LoseAcknowledgement(kinesis, times=2)
    first = produce(aws_stack, few_days, kinesis=kinesis)
    second = produce(aws_stack, few_days, pack_bytes=0)  # again, one event per record
    events = distinct_events(few_days)
    # when the processor reads it all
    proc = processor(aws_stack)
    poller(aws_stack, proc).run()
    # then the copies are read, and skipped
    r = proc.report
    assert r.lines > first.sent + second.sent  # the lost acknowledgements made copies
    assert r.applied == len(events)
    assert r.lines == r.applied + r.duplicates + r.quarantined
    assert actual_figures(aws_stack) == expected_figures(events.values())


def test_throttled_dynamodb_writes_are_retried_then_redelivered_and_count_once(
    aws_stack: AwsStack, events: dict[str, Event]
) -> None:
    # given DynamoDB refusing the first 7 transactions (ProvisionedThroughputExceeded), and a
    # processor that tries each transaction 3 times: the first batches fail and come back
    dynamodb = aws_stack.client("dynamodb")
    throttle = ThrottleDynamo(dynamodb, times=7)
    proc = processor(aws_stack, dynamodb=dynamodb, attempts=3)
    esm = poller(aws_stack, proc)
    esm.run()
    # then every throttled attempt was retried, failed batches were redelivered, none was lost
    assert throttle.throttled == 7
    assert proc.report.throttled >= 1
    assert proc.report.records_failed >= 2 and esm.report.retries >= 2
    assert esm.report.discarded == 0
    assert proc.report.applied == len(events)
    assert actual_figures(aws_stack) == expected_figures(events.values())


def test_a_busy_hour_spreads_over_finer_segments_and_copies_are_still_found(
    aws_stack: AwsStack,
) -> None:
    # given one hour with 400 events, 400 brands, all in five minutes, and segments that fill
    # after ~3 KB: the day fills, then the hour, the ten minutes and the minutes (in parts)
    from ecom.events import Event, parse_fields
    from ecom.stream.records import encode_event

    events = []
    for i in range(400):
        row = (f"2019-11-15 10:{i % 5:02d}:{i % 7:02d} UTC", "purchase" if i % 3 else "view",
               str(1000 + i), "1602943681873052386", "", f"brand-{i}", f"{i}.99", str(500 + i), f"s{i}")  # fmt: skip
        outcome = parse_fields(row)
        assert isinstance(outcome, Event)
        events.append(outcome)
    kinesis = aws_stack.client("kinesis")

    def put_all() -> None:
        for start in range(0, 400, 100):
            data = b"".join(encode_event(e) for e in events[start : start + 100])
            kinesis.put_record(StreamName=aws_stack.stream, Data=data, PartitionKey="one")

    put_all()
    proc = processor(aws_stack, segment_bytes=3_000)
    esm = poller(aws_stack, proc)
    esm.run()
    # then each event counted once, in segments of every level, none far past its budget
    assert esm.report.retries == 0
    assert actual_figures(aws_stack) == expected_figures(events)
    items = aws_stack.client("dynamodb").query(
        TableName=metrics_table(aws_stack),
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "d#2019-11-15"}},
    )["Items"]
    cells = {i["sk"]["S"].rsplit("#", 1)[1] for i in items}
    assert {"D", "H10", "T100", "M1000.0", "M1000.1"} <= cells
    assert all(i["full"]["BOOL"] for i in items if i["sk"]["S"].endswith(("#D", "#H10", "#T100")))
    assert max(int(i["size"]["N"]) for i in items) < 3_000 + 2_000
    # when the same records come again (a new processor: nothing in memory), and again with
    # the first processor (its memory): every copy is found in the chain of its segments
    put_all()
    fresh = processor(aws_stack, segment_bytes=3_000)
    poller(aws_stack, fresh).run()
    assert fresh.report.applied == 0 and fresh.report.duplicates == 400
    put_all()
    poller(aws_stack, proc).run()
    assert proc.report.applied == 400 and proc.report.duplicates == 400
    assert actual_figures(aws_stack) == expected_figures(events)


def test_quiet_days_share_their_weeks_segment_across_a_week_boundary(aws_stack: AwsStack) -> None:
    # given a quiet stream: 60 events a day from Saturday 2019-10-05 to Monday 2019-10-07,
    # the Monday in the next ISO week, on one partition key (one shard)
    from ecom.events import Event, parse_fields
    from ecom.realtime.query import MetricsReader
    from ecom.stream.records import encode_event

    events = []
    for day in ("05", "06", "07"):
        for i in range(60):
            hh = "23" if day == "06" and i >= 30 else "00"
            row = (f"2019-10-{day} {hh}:{i % 60:02d}:00 UTC", ("view", "cart", "purchase")[i % 3],
                   str(2000 + i), "1602943681873052386", "", f"brand-{i % 4}", "-1.00" if i == 5 else f"{i}.50",
                   str(700 + i), f"s{day}{i % 9}")  # fmt: skip
            outcome = parse_fields(row)
            assert isinstance(outcome, Event)
            events.append(outcome)
    kinesis = aws_stack.client("kinesis")

    def put_all() -> None:
        data = b"".join(encode_event(e) for e in events)
        kinesis.put_record(StreamName=aws_stack.stream, Data=data, PartitionKey="one")

    put_all()
    proc = processor(aws_stack)
    poller(aws_stack, proc).run()
    # then one item per week (no day partition at all), the weeks' days told apart by their tags
    dynamodb = aws_stack.client("dynamodb")
    items = dynamodb.scan(TableName=metrics_table(aws_stack))["Items"]
    segments = sorted(i["pk"]["S"] for i in items if i["sk"]["S"].startswith("s#"))
    assert segments == ["w#2019-W40", "w#2019-W41"]
    assert proc.report.writes == 2 + 1  # the two segments and the latest event time
    assert actual_figures(aws_stack) == expected_figures(events)
    r = MetricsReader(dynamodb, metrics_table(aws_stack))
    sunday = r.totals(_utc("2019-10-06T00:00"), _utc("2019-10-07T00:00"), "hour")
    per_hour = [sum(b["events"].values()) for b in sunday["buckets"]]
    assert [n for n in per_hour if n] == [30, 30] and per_hour[0] == per_hour[23] == 30
    # the last 30 minutes from Monday 00:10 reach back into Sunday, in the week before
    active = r.active(_utc("2019-10-07T00:10"))
    window = {e.user_id for e in events if "2019-10-06 23:41" <= e.event_time < "2019-10-07 00:11"}
    assert active["users_30m"] == len(window) == 19 + 11
    # when the same record comes again to a processor with nothing in memory: every copy is
    # found in its week's segment
    put_all()
    fresh = processor(aws_stack)
    poller(aws_stack, fresh).run()
    assert fresh.report.applied == 0 and fresh.report.duplicates == len(events)
    assert actual_figures(aws_stack) == expected_figures(events)


def _utc(text: str) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_each_shard_keeps_its_latest_event_time_in_its_transactions(aws_stack: AwsStack) -> None:
    # given two batches for one shard, the second one older (late events), and a call log
    from ecom.events import Event, parse_fields
    from ecom.realtime.query import MetricsReader
    from ecom.stream.records import encode_event

    def event(when: str, user: int) -> Event:
        row = (
            f"2019-11-15 {when}:00 UTC",
            "view",
            "5",
            "1",
            "",
            "b",
            "1.00",
            str(user),
            f"s{user}",
        )
        outcome = parse_fields(row)
        assert isinstance(outcome, Event)
        return outcome

    arn = aws_stack.client("kinesis").describe_stream_summary(StreamName=aws_stack.stream)[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    calls: list[str] = []
    dynamodb = aws_stack.client("dynamodb")
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )

    def batch(seq: str, *events: Event) -> dict[str, Any]:
        data = b"".join(encode_event(e) for e in events)
        return {"Records": [esm_record(arn, "shardId-000000000000", seq, data)]}

    reader = MetricsReader(aws_stack.client("dynamodb"), metrics_table(aws_stack))
    proc = processor(aws_stack, dynamodb=dynamodb)
    # when the newer batch is applied: its latest time is written in its one transaction
    assert proc(batch("1", event("10:05", 1), event("10:07", 2))) == {"batchItemFailures": []}
    assert calls.count("TransactWriteItems") == 1 and "UpdateItem" not in calls
    assert reader.latest() == _utc("2019-11-15T10:07")
    # and the older batch leaves it where it was
    assert proc(batch("2", event("09:00", 3))) == {"batchItemFailures": []}
    assert reader.latest() == _utc("2019-11-15T10:07")
    # and so does a processor started afresh with an older batch (it reads the shard's item)
    fresh = processor(aws_stack)
    assert fresh(batch("3", event("08:00", 4))) == {"batchItemFailures": []}
    assert reader.latest() == _utc("2019-11-15T10:07")
    # when another shard applies a later event, the table's latest is the later of the two
    other = {
        "Records": [esm_record(arn, "shardId-000000000001", "1", encode_event(event("11:30", 5)))]
    }
    assert fresh(other) == {"batchItemFailures": []}
    assert reader.latest() == _utc("2019-11-15T11:30")
