"""Producer -> Kinesis -> sink -> S3 against a real moto server, with and without injected faults.

In every case the set of event_ids in the landing zone equals the set produced
(copies are allowed there; downstream keeps one row per event_id) and nothing is lost.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from stream_helpers import (
    CrashBeforeCheckpoint,
    LoseAcknowledgement,
    SimulatedCrash,
    jsonl,
    landing_rows,
    list_keys,
    valid_events,
)

from aws_faults import Throttle
from aws_fixtures import AwsStack
from ecom.stream.produce import ProduceReport, produce_files
from ecom.stream.producer import Producer, RetryPolicy
from ecom.stream.sink import LANDING_COLUMNS, Sink, SinkConfig, SinkReport
from stream_data import FAST_RETRY, produce_to, stream_reader

SMALL_BATCHES = SinkConfig(buffer_bytes=40_000)


def produce(
    stack: AwsStack,
    paths: list[Path],
    *,
    kinesis: Any = None,
    pack_bytes: int = 0,
    retry: RetryPolicy = FAST_RETRY,
) -> ProduceReport:
    report = produce_to(stack, paths, kinesis=kinesis, pack_bytes=pack_bytes, retry=retry, seed=7)
    assert report.read == report.sent + report.rejected + report.dead_lettered
    return report


def make_sink(
    stack: AwsStack, *, dynamodb: Any = None, config: SinkConfig = SMALL_BATCHES, owner: str = ""
) -> Sink:
    if owner:
        config = SinkConfig(buffer_bytes=config.buffer_bytes, owner=owner)
    return Sink(
        **stream_reader(stack, dynamodb=dynamodb),
        table=stack.checkpoint_table,
        config=config,
    )


def run_sink(stack: AwsStack, **kwargs: Any) -> SinkReport:
    return make_sink(stack, **kwargs).run(until_caught_up=True)


def landed_ids(stack: AwsStack) -> Counter[str]:
    return Counter(row["event_id"] for row in landing_rows(stack.client("s3"), stack.bucket))


def checkpoints(stack: AwsStack) -> dict[str, dict[str, Any]]:
    items = stack.client("dynamodb").scan(TableName=stack.checkpoint_table)["Items"]
    return {i["shard_id"]["S"]: i for i in items}


@pytest.mark.parametrize("pack_bytes", [0, 16_384], ids=["one-event-per-record", "packed"])
def test_every_valid_event_lands_once(
    aws_stack: AwsStack, small_month: list[Path], pack_bytes: int
) -> None:
    expected = valid_events(small_month)

    report = produce(aws_stack, small_month, pack_bytes=pack_bytes)
    sink_report = run_sink(aws_stack)

    assert report.sent == len(expected) and report.rejected == 0 and report.dead_lettered == 0
    assert report.retried == 0
    if pack_bytes:
        assert report.records < report.sent / 20  # many events per record
    else:
        assert report.records == report.sent
    rows = landing_rows(aws_stack.client("s3"), aws_stack.bucket)
    # no fault, so exactly one landed row per sent row (the data's own duplicates included)
    assert Counter(r["event_id"] for r in rows) == Counter(e.event_id for e in expected)
    assert sink_report.events == len(rows) and sink_report.quarantined == 0
    assert list(rows[0].keys()) == list(LANDING_COLUMNS)
    by_id = {e.event_id: e for e in expected}
    for row in rows[:200]:
        event = by_id[row["event_id"]]
        assert tuple(row[c] for c in LANDING_COLUMNS[:10]) == event.to_row()
        assert row["source"] == "stream"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", row["ingested_at"])
    keys = list_keys(aws_stack.client("s3"), aws_stack.bucket, "landing/")
    assert len(keys) == sink_report.objects > 2
    for key in keys:
        assert re.fullmatch(
            r"landing/events/source=stream/dt=\d{4}-\d\d-\d\d/shard=shardId-\d{12}/\d+\.csv\.gz",
            key,
        ), key
    # the checkpoint of each shard is its last sequence number; a second run reads nothing new
    assert set(checkpoints(aws_stack)) == {"shardId-000000000000", "shardId-000000000001"}
    again = run_sink(aws_stack)
    assert again.records == 0 and again.objects == 0


def test_session_events_share_a_shard(aws_stack: AwsStack, small_month: list[Path]) -> None:
    produce(aws_stack, small_month, pack_bytes=8_192)
    run_sink(aws_stack)
    shard_of_session: dict[str, set[str]] = {}
    s3 = aws_stack.client("s3")
    import gzip

    for key in list_keys(s3, aws_stack.bucket, "landing/"):
        shard = key.split("shard=")[1].split("/")[0]
        text = gzip.decompress(s3.get_object(Bucket=aws_stack.bucket, Key=key)["Body"].read())
        for line in text.decode().splitlines()[1:]:
            session = line.split(",")[9]
            shard_of_session.setdefault(session, set()).add(shard)
    assert len(shard_of_session) > 100
    assert all(len(shards) == 1 for shards in shard_of_session.values())
    assert {s for shards in shard_of_session.values() for s in shards} == {
        "shardId-000000000000",
        "shardId-000000000001",
    }


def test_a_second_produce_files_call_reports_only_its_own_errors(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    # given one producer, throttled during a first call and not during the second
    kinesis = aws_stack.client("kinesis")
    throttle = Throttle(kinesis, fraction=0.3, rounds=3)
    producer = Producer(
        kinesis, aws_stack.stream, s3=aws_stack.client("s3"), bucket=aws_stack.bucket,
        pack_bytes=0, retry=FAST_RETRY, seed=7,
    )  # fmt: skip
    s3 = aws_stack.client("s3")
    first = produce_files(small_month, producer, s3=s3, bucket=aws_stack.bucket)
    throttle.fraction = 0.0
    second = produce_files(small_month, producer, s3=s3, bucket=aws_stack.bucket)
    # then each report counts its own call, errors like the rest
    assert first.errors["ProvisionedThroughputExceededException"] == first.retried > 0
    assert second.retried == 0
    assert second.errors == Counter()


def test_throttled_entries_are_resubmitted_until_they_land(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    # given 30% of entries throttled on each of their first three attempts
    kinesis = aws_stack.client("kinesis")
    throttle = Throttle(kinesis, fraction=0.3, rounds=3)
    expected = valid_events(small_month)

    report = produce(aws_stack, small_month, kinesis=kinesis)
    run_sink(aws_stack)

    # then only the failed entries were resent, and every event landed exactly once
    assert throttle.throttled > 0.3 * len(expected)
    assert report.retried == throttle.throttled
    assert report.errors["ProvisionedThroughputExceededException"] == throttle.throttled
    assert report.dead_lettered == 0 and report.sent == len(expected)
    assert 4 in throttle.attempts.values()  # some entries were throttled three times in a row
    assert landed_ids(aws_stack) == Counter(e.event_id for e in expected)


@pytest.mark.parametrize("pack_bytes", [0, 16_384], ids=["one-event-per-record", "packed"])
def test_lost_acknowledgement_puts_the_batch_twice_and_nothing_is_lost(
    aws_stack: AwsStack, small_month: list[Path], pack_bytes: int
) -> None:
    kinesis = aws_stack.client("kinesis")
    lost = LoseAcknowledgement(kinesis, times=1)
    expected = valid_events(small_month)

    report = produce(aws_stack, small_month, kinesis=kinesis, pack_bytes=pack_bytes)
    run_sink(aws_stack)

    assert lost.lost_records > 0 and lost.left == 0
    assert report.errors["ConnectionClosedError"] > 0
    landed = landed_ids(aws_stack)
    assert set(landed) == {e.event_id for e in expected}
    # the first batch is in the landing zone twice: copies, for downstream to drop by event_id
    assert sum(landed.values()) == len(expected) + report.errors["ConnectionClosedError"]


def test_entries_refused_on_every_attempt_are_dead_lettered(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    kinesis = aws_stack.client("kinesis")
    Throttle(kinesis, fraction=0.05, rounds=None, code="InternalFailure")
    expected = {e.event_id for e in valid_events(small_month)}

    report = produce(aws_stack, small_month, kinesis=kinesis, retry=RetryPolicy(3, 0.001, 0.002))
    run_sink(aws_stack)

    assert report.dead_lettered > 0
    assert report.read == report.sent + report.rejected + report.dead_lettered
    letters = jsonl(aws_stack.client("s3"), aws_stack.bucket, "deadletter/producer/")
    assert len(letters) == report.dead_lettered
    assert {d["error_code"] for d in letters} == {"InternalFailure"}
    assert {d["attempts"] for d in letters} == {3}
    dead = {d["event_id"] for d in letters}
    landed = set(landed_ids(aws_stack))
    assert landed | dead == expected  # nothing lost: landed or dead-lettered with its reason
    assert not (landed & dead)


def test_sink_killed_between_write_and_checkpoint_replays_into_the_same_objects(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    expected = valid_events(small_month)
    produce(aws_stack, small_month)
    s3 = aws_stack.client("s3")

    # when the sink dies right after writing its third object, before checkpointing it
    dynamodb = aws_stack.client("dynamodb")
    CrashBeforeCheckpoint(dynamodb, nth=3)
    with pytest.raises(SimulatedCrash):
        run_sink(aws_stack, dynamodb=dynamodb)
    written_before_crash = {
        key: s3.get_object(Bucket=aws_stack.bucket, Key=key)["Body"].read()
        for key in list_keys(s3, aws_stack.bucket, "landing/")
    }
    assert len(written_before_crash) == 3
    cps = checkpoints(aws_stack)

    def checkpointed(key: str) -> bool:
        shard, first_seq = key.split("shard=")[1].removesuffix(".csv.gz").split("/")
        return shard in cps and int(first_seq) <= int(cps[shard]["sequence_number"]["S"])

    unacknowledged = [k for k in written_before_crash if not checkpointed(k)]
    assert len(unacknowledged) == 1  # objects 1 and 2 were checkpointed, object 3 was not

    # and a new sink starts
    report = run_sink(aws_stack)

    # then it resumed from the checkpoints and rewrote the unacknowledged object, same bytes
    rewritten = [k for k in report.keys if k in written_before_crash]
    assert rewritten == unacknowledged
    for key, body in written_before_crash.items():
        assert s3.get_object(Bucket=aws_stack.bucket, Key=key)["Body"].read() == body
    assert landed_ids(aws_stack) == Counter(e.event_id for e in expected)  # and no copies


def test_two_sinks_cannot_both_advance_a_checkpoint(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    expected = valid_events(small_month)
    produce(aws_stack, small_month)
    late_dynamodb = aws_stack.client("dynamodb")
    late = make_sink(aws_stack, dynamodb=late_dynamodb, owner="late")
    early = make_sink(aws_stack, owner="early")
    raced = []

    def other_sink_runs_first(**_: Any) -> None:
        # between the late sink's S3 write and its checkpoint, another sink does everything
        if not raced:
            raced.append(early.run(until_caught_up=True))

    late_dynamodb.meta.events.register("before-call.dynamodb.PutItem", other_sink_runs_first)
    report = late.run(until_caught_up=True)

    assert raced and raced[0].checkpoints > 0
    assert "shardId-000000000000" in report.shards_lost
    assert report.checkpoints == 0  # the late sink advanced nothing
    owners = {i["owner"]["S"] for i in checkpoints(aws_stack).values()}
    assert owners == {"early"}
    assert set(landed_ids(aws_stack)) == {e.event_id for e in expected}


def route_only_to_open_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fix the emulator: moto 5.2 routes puts to the first shard whose hash range matches,
    closed parents included, so after a split the children would never get a record.
    Real Kinesis routes to open shards only; make the in-process moto server do the same."""
    from moto.kinesis.models import Stream

    original = Stream.get_shard_for_key

    def get_shard_for_key(self: Any, partition_key: str, explicit_hash_key: str) -> Any:
        closed = {sid: s for sid, s in self.shards.items() if not s.is_open}
        for sid in closed:
            del self.shards[sid]
        try:
            return original(self, partition_key, explicit_hash_key)
        finally:
            self.shards.update(closed)

    monkeypatch.setattr(Stream, "get_shard_for_key", get_shard_for_key)


def test_sink_reads_parents_before_children_after_a_reshard(
    aws_stack: AwsStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    route_only_to_open_shards(monkeypatch)
    from ecom.generate import GenerateConfig, generate

    files = [
        f.path
        for f in generate(
            GenerateConfig(
                out=tmp_path, events=2_000, seed=5, start=date(2019, 10, 1), end=date(2019, 10, 10)
            )
        ).files
    ]
    lines = files[0].read_text().splitlines(keepends=True)
    half = len(lines) // 2
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("".join(lines[:half]))
    second.write_text(lines[0] + "".join(lines[half:]))
    expected = {e.event_id for e in valid_events([first, second])}
    kinesis = aws_stack.client("kinesis")

    # given a stream read once, then split, then written again
    produce(aws_stack, [first])
    run_sink(aws_stack)
    parent = kinesis.list_shards(StreamName=aws_stack.stream)["Shards"][0]
    hash_range = parent["HashKeyRange"]
    middle = (int(hash_range["StartingHashKey"]) + int(hash_range["EndingHashKey"])) // 2
    kinesis.split_shard(
        StreamName=aws_stack.stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(middle)
    )
    produce(aws_stack, [second])
    children = [
        s["ShardId"]
        for s in kinesis.list_shards(StreamName=aws_stack.stream)["Shards"]
        if s.get("ParentShardId") == parent["ShardId"]
    ]
    assert len(children) == 2

    # when the sink runs, with its calls recorded in order
    sink = make_sink(aws_stack)
    calls: list[tuple[str, str]] = []
    sink.kinesis.meta.events.register(
        "before-parameter-build.kinesis.GetShardIterator",
        lambda params, **_: calls.append(("read", params["ShardId"])),
    )
    sink.checkpoints.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.PutItem",
        lambda params, **_: calls.append(
            (
                "end" if params["Item"]["shard_end"]["BOOL"] else "checkpoint",
                params["Item"]["shard_id"]["S"],
            )
        ),
    )
    report = sink.run(until_caught_up=True)

    # then the parent was finished before either child was read
    parent_end = calls.index(("end", parent["ShardId"]))
    first_child_read = min(calls.index(("read", c)) for c in children)
    assert parent_end < first_child_read
    cps = checkpoints(aws_stack)
    assert cps[parent["ShardId"]]["shard_end"]["BOOL"] is True
    assert all(c in cps and not cps[c]["shard_end"]["BOOL"] for c in children)
    assert any(children[0] in k for k in report.keys) and any(children[1] in k for k in report.keys)
    assert set(landed_ids(aws_stack)) == expected


def test_sink_quarantines_records_it_cannot_read(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    good = valid_events(small_month)[:5]
    kinesis = aws_stack.client("kinesis")
    from ecom.stream.records import encode_event

    tampered = encode_event(good[1]).replace(b",view,", b",viewed,").replace(b",cart,", b",carted,")
    records = [
        encode_event(good[0]),
        b"\xff\xfe not utf-8",
        b"just,three,fields\n",
        tampered,
        b"0" * 32 + encode_event(good[2])[32:],
        encode_event(good[3]) + encode_event(good[4]),
    ]
    kinesis.put_records(
        StreamName=aws_stack.stream,
        Records=[{"Data": d, "PartitionKey": "k"} for d in records],
    )
    report = run_sink(aws_stack)

    assert set(landed_ids(aws_stack)) == {good[0].event_id, good[3].event_id, good[4].event_id}
    quarantined = jsonl(aws_stack.client("s3"), aws_stack.bucket, "quarantine/sink/")
    assert report.quarantined == len(quarantined) == 4
    assert sorted(q["reason"] for q in quarantined) == [
        "event_id_mismatch",
        "invalid_utf8",
        "unknown_event_type",
        "wrong_field_count",
    ]
    assert all(q["sequence_number"] and q["detail"] for q in quarantined)
