"""The sink: Kinesis -> S3 landing zone, one checkpoint per shard in DynamoDB.

For every shard (parents before children after a reshard) the sink reads records
after its checkpoint, decodes and re-validates the events (the same
``ecom.events`` validator as the producer), buffers them like Firehose does (size,
record-count and time thresholds) and writes a micro-batch as gzip CSV to

    landing/events/source=stream/dt=<arrival date>/shard=<shard id>/<first sequence number>.csv.gz

Only after that write succeeds does it advance the shard's checkpoint, with a
conditional write (``sequence_number`` must still be what this sink started from),
so two sinks on one shard cannot both advance it. After a crash the next run
resumes from the checkpoint and rewrites the same key: batch boundaries depend
only on the records (sizes, counts, arrival dates), the gzip header carries no
timestamp and ``ingested_at`` is the record's Kinesis arrival time, so the
replayed object has the same bytes. (A batch cut by the time threshold or by the
end of the stream can come back longer on replay: a superset, never a loss.)
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ecom import quarantine as quarantine_records
from ecom.errors import EcomError
from ecom.events import Event
from ecom.load.landing import LANDING_COLUMNS
from ecom.stream.records import check_rows, decode_record

LANDING_PREFIX = "landing/events/source=stream"
QUARANTINE_PREFIX = "quarantine/sink"
SOURCE = "stream"
#: Checkpoint value of a shard read from the start with nothing checkpointed yet.
TRIM_HORIZON = "TRIM_HORIZON"


class ShardLost(RuntimeError):
    """Another sink advanced this shard's checkpoint first."""


@dataclass(frozen=True)
class SinkConfig:
    """Flush thresholds (whichever comes first) and reading knobs. Defaults follow Firehose."""

    buffer_bytes: int = 5 * 2**20  # uncompressed CSV bytes per micro-batch
    buffer_records: int = 500_000  # events per micro-batch
    buffer_seconds: float = 300.0  # age of the oldest buffered event
    get_limit: int = 10_000  # records per GetRecords call (the Kinesis maximum)
    get_bytes: int = 4 * 2**20  # aim per GetRecords response (Kinesis caps it at 10 MiB)
    idle_sleep: float = 1.0  # follow mode: pause when every shard is caught up
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


@dataclass
class SinkReport:
    records: int = 0  # Kinesis records read
    events: int = 0  # events written to landing objects
    quarantined: int = 0  # lines (or records) quarantined with a reason
    objects: int = 0  # landing objects written
    bytes: int = 0  # gzip bytes written
    checkpoints: int = 0
    shards_finished: list[str] = field(default_factory=list)
    shards_lost: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Checkpoint:
    sequence_number: str  # TRIM_HORIZON when nothing is checkpointed
    shard_end: bool = False
    exists: bool = False


class Checkpoints:
    """One DynamoDB item per shard: ``lease_key = "<stream>/<shard id>"``."""

    def __init__(self, dynamodb: Any, table: str, stream: str, owner: str) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.stream = stream
        self.owner = owner

    def _key(self, shard_id: str) -> str:
        return f"{self.stream}/{shard_id}"

    def get(self, shard_id: str) -> Checkpoint:
        item = self.dynamodb.get_item(
            TableName=self.table,
            Key={"lease_key": {"S": self._key(shard_id)}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return Checkpoint(TRIM_HORIZON)
        return Checkpoint(
            item["sequence_number"]["S"], bool(item.get("shard_end", {}).get("BOOL")), True
        )

    def advance(
        self, shard_id: str, previous: Checkpoint, sequence_number: str, shard_end: bool, note: str
    ) -> None:
        """Move the checkpoint from ``previous`` to ``sequence_number``; :class:`ShardLost` if moved."""
        from botocore.exceptions import ClientError

        item = {
            "lease_key": {"S": self._key(shard_id)},
            "stream": {"S": self.stream},
            "shard_id": {"S": shard_id},
            "sequence_number": {"S": sequence_number},
            "shard_end": {"BOOL": shard_end},
            "owner": {"S": self.owner},
            "last_object": {"S": note},
            "updated_at": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
        }
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": item}
        if previous.exists:
            kwargs["ConditionExpression"] = "sequence_number = :previous AND shard_end = :false"
            kwargs["ExpressionAttributeValues"] = {
                ":previous": {"S": previous.sequence_number},
                ":false": {"BOOL": False},
            }
        else:
            kwargs["ConditionExpression"] = "attribute_not_exists(lease_key)"
        try:
            self.dynamodb.put_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ShardLost(
                    f"checkpoint of {shard_id} moved past {previous.sequence_number} "
                    "(another sink is reading this shard)"
                ) from exc
            raise


def list_shards(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """Every shard Kinesis lists for ``stream`` (all pages)."""
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamName": stream}
    while True:
        resp = kinesis.list_shards(**kwargs)
        shards.extend(resp["Shards"])
        token = resp.get("NextToken")
        if not token:
            return shards
        kwargs = {"NextToken": token}


class _Finishable(Protocol):
    finished: bool


def ready_shards(
    shards: list[dict[str, Any]], states: Mapping[str, _Finishable], checkpoints: Checkpoints
) -> Iterator[tuple[str, bool]]:
    """(shard id, closed) of the listed shards whose parents are all finished, in shard order.

    A parent is finished when it expired from the stream, when its state in ``states`` says so,
    or (no state yet) when its checkpoint reached the shard's end. Lazy: a state the caller
    adds for one shard counts for the shards after it. ``closed``: Kinesis lists an ending
    sequence number."""
    listed = {s["ShardId"] for s in shards}

    def finished(shard_id: str) -> bool:
        if shard_id not in listed:
            return True  # expired from the stream: nothing left to read
        state = states.get(shard_id)
        if state is not None:
            return state.finished
        return checkpoints.get(shard_id).shard_end

    for shard in sorted(shards, key=lambda s: s["ShardId"]):
        parents = [shard.get("ParentShardId"), shard.get("AdjacentParentShardId")]
        if all(p is None or finished(p) for p in parents):
            yield shard["ShardId"], "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})


def shard_iterator(
    kinesis: Any, stream: str, shard_id: str, after: str, *, at: str | None = None
) -> str:
    """An iterator at sequence number ``at`` when given, else after ``after`` (the start of the
    shard when ``after`` is :data:`TRIM_HORIZON`)."""
    kwargs: dict[str, Any] = {"StreamName": stream, "ShardId": shard_id}
    if at is not None:
        kwargs["ShardIteratorType"] = "AT_SEQUENCE_NUMBER"
        kwargs["StartingSequenceNumber"] = at
    elif after == TRIM_HORIZON:
        kwargs["ShardIteratorType"] = "TRIM_HORIZON"
    else:
        kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
        kwargs["StartingSequenceNumber"] = after
    iterator: str = kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
    return iterator


class _Batch:
    """The buffered micro-batch of one shard."""

    def __init__(self) -> None:
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\n")
        self.writer.writerow(LANDING_COLUMNS)
        self.header_size = self.buf.tell()
        self.events = 0
        self.records = 0
        self.first_seq: str | None = None
        self.last_seq: str | None = None
        self.dt: str | None = None
        self.started = 0.0
        self.quarantine: list[str] = []

    @property
    def empty(self) -> bool:
        return self.records == 0

    @property
    def size(self) -> int:
        return self.buf.tell() - self.header_size


@dataclass
class _ShardState:
    shard_id: str
    checkpoint: Checkpoint
    iterator: str | None = None
    batch: _Batch = field(default_factory=_Batch)
    caught_up: bool = False
    finished: bool = False
    lost: bool = False
    closed: bool = False  # Kinesis lists an ending sequence number
    backoff_until: float = 0.0


class Sink:
    """Reads every shard of ``stream`` into landing objects in ``bucket``."""

    def __init__(
        self,
        kinesis: Any,
        s3: Any,
        dynamodb: Any,
        *,
        stream: str,
        bucket: str,
        table: str,
        config: SinkConfig | None = None,
        progress: Callable[[SinkReport], None] | None = None,
    ) -> None:
        self.kinesis = kinesis
        self.s3 = s3
        self.stream = stream
        self.bucket = bucket
        self.config = config or SinkConfig()
        self.checkpoints = Checkpoints(dynamodb, table, stream, self.config.owner)
        self.report = SinkReport()
        self.progress = progress
        self.states: dict[str, _ShardState] = {}
        self._record_bytes = 64 * 1024.0  # running mean record size, for the GetRecords limit

    def _limit(self) -> int:
        """Records per GetRecords: bounded by count and by expected bytes, so memory stays flat
        with packed records (real Kinesis caps a response at 10 MiB, the emulator does not)."""
        by_bytes = int(self.config.get_bytes / max(self._record_bytes, 1.0))
        return max(1, min(self.config.get_limit, by_bytes))

    # -- shards --------------------------------------------------------------------------------

    def list_shards(self) -> list[dict[str, Any]]:
        return list_shards(self.kinesis, self.stream)

    def _ready(self, shards: list[dict[str, Any]]) -> list[_ShardState]:
        """Unfinished shards whose parents are all finished, in shard order."""
        ready = []
        for sid, closed in ready_shards(shards, self.states, self.checkpoints):
            state = self.states.get(sid)
            if state is None:
                state = self.states[sid] = _ShardState(sid, self.checkpoints.get(sid))
                state.finished = state.checkpoint.shard_end
            state.closed = closed
            if not state.finished and not state.lost:
                ready.append(state)
        return ready

    # -- running -------------------------------------------------------------------------------

    def run(
        self, *, until_caught_up: bool = True, should_stop: Callable[[], bool] | None = None
    ) -> SinkReport:
        """Read until every shard is caught up (batch mode) or until ``should_stop()`` (follow)."""
        while True:
            ready = self._ready(self.list_shards())
            finished_before = len(self.report.shards_finished)
            read_any = False
            for state in ready:
                read_any |= self._step(state, until_caught_up)
            if should_stop is not None and should_stop():
                break
            if until_caught_up:
                progressed = len(self.report.shards_finished) > finished_before
                if all(s.caught_up or s.finished or s.lost for s in ready) and not progressed:
                    break
            elif not read_any:
                time.sleep(self.config.idle_sleep)
        self.flush_all()  # follow mode stopping: write what is buffered (a no-op in batch mode)
        return self.report

    def flush_all(self) -> None:
        for state in self.states.values():
            if not state.lost and not state.batch.empty:
                try:
                    self._flush(state, shard_end=False)
                except ShardLost:
                    self._lose(state)

    def _step(self, state: _ShardState, until_caught_up: bool, max_calls: int = 50) -> bool:
        """Read one shard until caught up (or ``max_calls`` GetRecords); True if anything came."""
        from botocore.exceptions import ClientError

        read_any = False
        state.caught_up = False
        for _ in range(max_calls):
            if time.monotonic() < state.backoff_until:
                return read_any
            if state.iterator is None:
                state.iterator = self._iterator(state)
            try:
                resp = self.kinesis.get_records(ShardIterator=state.iterator, Limit=self._limit())
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "ExpiredIteratorException":
                    state.iterator = None
                    continue
                if code in ("ProvisionedThroughputExceededException", "LimitExceededException"):
                    state.backoff_until = time.monotonic() + 1.0
                    time.sleep(0.2)
                    continue
                raise
            records = resp.get("Records", [])
            if records:
                size = sum(len(r["Data"]) for r in records) / len(records)
                self._record_bytes = 0.7 * self._record_bytes + 0.3 * size
            try:
                for record in records:
                    self._add(state, record)
                    read_any = True
            except ShardLost:
                self._lose(state)
                return read_any
            next_iterator = resp.get("NextShardIterator")
            caught_up = not records and int(resp.get("MillisBehindLatest", 0)) == 0
            try:
                if next_iterator is None or (caught_up and state.closed):
                    self._flush(state, shard_end=True)
                    state.finished = True
                    self.report.shards_finished.append(state.shard_id)
                    return read_any
                state.iterator = next_iterator
                batch = state.batch
                aged = (
                    not batch.empty
                    and time.monotonic() - batch.started >= self.config.buffer_seconds
                )
                if caught_up:
                    state.caught_up = True
                    if until_caught_up or aged:
                        self._flush(state, shard_end=False)
                    return read_any
                if aged:
                    self._flush(state, shard_end=False)
            except ShardLost:
                self._lose(state)
                return read_any
        return read_any

    def _iterator(self, state: _ShardState) -> str:
        seq = state.batch.last_seq or state.checkpoint.sequence_number
        return shard_iterator(self.kinesis, self.stream, state.shard_id, seq)

    def _lose(self, state: _ShardState) -> None:
        state.lost = True
        state.batch = _Batch()
        self.report.shards_lost.append(state.shard_id)

    # -- buffering -----------------------------------------------------------------------------

    def _add(self, state: _ShardState, record: dict[str, Any]) -> None:
        arrived: datetime = record["ApproximateArrivalTimestamp"].astimezone(UTC)
        dt = arrived.strftime("%Y-%m-%d")
        batch = state.batch
        if not batch.empty and dt != batch.dt:
            self._flush(state, shard_end=False)  # one object never spans two dt= partitions
            batch = state.batch
        seq = record["SequenceNumber"]
        if batch.empty:
            batch.first_seq, batch.dt, batch.started = seq, dt, time.monotonic()
        batch.last_seq = seq
        batch.records += 1
        self.report.records += 1
        ingested_at = arrived.strftime("%Y-%m-%d %H:%M:%S.%f")
        for outcome in self._events(record, seq, batch):
            batch.writer.writerow((*outcome.to_row(), ingested_at, SOURCE))
            batch.events += 1
        if batch.size >= self.config.buffer_bytes or batch.events >= self.config.buffer_records:
            self._flush(state, shard_end=False)

    def _events(self, record: dict[str, Any], seq: str, batch: _Batch) -> list[Event]:
        data: bytes = record["Data"]

        def quarantine(reason: str, detail: str, raw: str) -> None:
            batch.quarantine.append(
                quarantine_records.json_line(
                    "sink",
                    f"kinesis:{self.stream}",
                    None,
                    reason,
                    detail,
                    raw,
                    sequence_number=seq,
                    partition_key=record.get("PartitionKey"),
                )
            )
            self.report.quarantined += 1

        try:
            rows = decode_record(data)
        except UnicodeDecodeError as exc:
            quarantine(
                "invalid_utf8",
                f"record is not UTF-8 at byte {exc.start}",
                data.decode("utf-8", errors="backslashreplace"),
            )
            return []
        events, rejected = check_rows(rows)
        for reason, detail, raw in rejected:
            quarantine(reason, detail, raw)
        return events

    # -- writing -------------------------------------------------------------------------------

    def landing_key(self, shard_id: str, dt: str, first_seq: str) -> str:
        return f"{LANDING_PREFIX}/dt={dt}/shard={shard_id}/{first_seq}.csv.gz"

    def _flush(self, state: _ShardState, *, shard_end: bool) -> None:
        """Write the batch (quarantine first, then landing), then advance the checkpoint."""
        batch = state.batch
        if batch.empty:
            if shard_end and not state.checkpoint.shard_end:
                self._advance(state, state.checkpoint.sequence_number, True, "")
            return
        if batch.first_seq is None or batch.last_seq is None or not batch.dt:
            raise EcomError(f"shard {state.shard_id}: a non-empty batch without its sequence range")
        note = ""
        if batch.quarantine:
            qkey = f"{QUARANTINE_PREFIX}/shard={state.shard_id}/{batch.first_seq}.jsonl"
            body = ("\n".join(batch.quarantine) + "\n").encode("utf-8")
            self.s3.put_object(Bucket=self.bucket, Key=qkey, Body=body)
            note = qkey
        if batch.events:
            key = self.landing_key(state.shard_id, batch.dt, batch.first_seq)
            body = gzip.compress(batch.buf.getvalue().encode("utf-8"), compresslevel=6, mtime=0)
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/gzip"
            )
            self.report.objects += 1
            self.report.bytes += len(body)
            self.report.keys.append(key)
            note = key
        events = batch.events
        self._advance(state, batch.last_seq, shard_end, note)
        state.batch = _Batch()
        self.report.events += events
        if self.progress is not None:
            self.progress(self.report)

    def _advance(self, state: _ShardState, seq: str, shard_end: bool, note: str) -> None:
        self.checkpoints.advance(state.shard_id, state.checkpoint, seq, shard_end, note)
        state.checkpoint = Checkpoint(seq, shard_end, True)
        self.report.checkpoints += 1
