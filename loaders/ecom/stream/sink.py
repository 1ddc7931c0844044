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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecom import quarantine as quarantine_records
from ecom.errors import EcomError
from ecom.events import Event
from ecom.load.landing import LANDING_COLUMNS
from ecom.stream.records import check_rows, decode_record
from ecom.stream.shards import (
    TRIM_HORIZON,
    Checkpoint,
    ShardLost,
    ShardReader,
    ShardState,
    shard_iterator,
)

__all__ = ["TRIM_HORIZON", "Sink", "SinkConfig", "SinkReport"]

LANDING_PREFIX = "landing/events/source=stream"
QUARANTINE_PREFIX = "quarantine/sink"
SOURCE = "stream"


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
class _ShardState(ShardState):
    batch: _Batch = field(default_factory=_Batch)
    lost: bool = False


class Sink(ShardReader[_ShardState, SinkConfig, SinkReport]):
    """Reads every shard of ``stream`` into landing objects in ``bucket``."""

    _record_bytes = 64 * 1024.0  # running mean record size, for the GetRecords limit

    def _default_config(self) -> SinkConfig:
        return SinkConfig()

    def _new_report(self) -> SinkReport:
        return SinkReport()

    def _new_state(self, shard_id: str, checkpoint: Checkpoint) -> _ShardState:
        return _ShardState(shard_id, checkpoint)

    def _readable(self, state: _ShardState) -> bool:
        return not state.finished and not state.lost

    def _stopping(self) -> None:
        self.flush_all()  # follow mode stopping: write what is buffered (a no-op in batch mode)

    def _limit(self) -> int:
        """Records per GetRecords: bounded by count and by expected bytes, so memory stays flat
        with packed records (real Kinesis caps a response at 10 MiB, the emulator does not)."""
        by_bytes = int(self.config.get_bytes / max(self._record_bytes, 1.0))
        return max(1, min(self.config.get_limit, by_bytes))

    def flush_all(self) -> None:
        for state in self.states.values():
            if not state.lost and not state.batch.empty:
                try:
                    self._flush(state, shard_end=False)
                except ShardLost:
                    self._lose(state)

    def _step(self, state: _ShardState, until_caught_up: bool, max_calls: int = 50) -> bool:
        """Read one shard until caught up (or ``max_calls`` GetRecords); True if anything came
        or the calls ran out."""
        read_any = False
        for resp in self._responses(state, self._limit, max_calls):
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
                    self._finish(state)
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
        return self._again(state, read_any)

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
