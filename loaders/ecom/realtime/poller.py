"""``ecom realtime`` locally: an event source mapping that calls the handler in this process.

Lambda cannot run in the emulator, so this does what AWS's Kinesis event source mapping does
with the same handler (:func:`ecom.realtime.handler.handler` logic):

* every shard (parents finished before children) is read from its own checkpoint, apart
  from the sink's: the lease ``realtime:<stream>/<shard id>`` in the checkpoint table;
* records go to the handler in order, ``batch_size`` at a time, in the event-source shape
  (base64 data, ``eventID`` = ``<shard>:<sequence number>``, ``eventSourceARN``);
* a ``batchItemFailures`` answer redelivers from the first failed record
  (``ReportBatchItemFailures``); a handler that raises gets the batch halved
  (``BisectBatchOnFunctionError``); after ``max_attempts`` the batch's range goes to the
  on-failure destination ``deadletter/realtime/`` and the shard moves on
  (``MaximumRetryAttempts`` + ``DestinationConfig.OnFailure``);
* the checkpoint advances only after the handler succeeded for the batch.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ecom.stream.shards import Checkpoint, ShardReader, ShardState, shard_iterator

DEADLETTER_PREFIX = "deadletter/realtime"
LEASE_PREFIX = "realtime:"
#: Shards read at once (each in its own thread); more shards wait for a free thread.
MAX_THREADS = 8

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class PollerConfig:
    batch_size: int = 50  # records per invocation (the mapping's BatchSize; 50 packed records
    # of 64 KiB are ~4.3 MB of base64, under Lambda's 6 MB invocation payload)
    max_attempts: int = 10  # per batch, then the on-failure destination
    retry_delay: float = 0.1  # first backoff after a failed batch (doubles, capped at 5 s)
    idle_sleep: float = 0.2  # follow mode: pause when every shard is caught up
    #: Longest wait to fill a batch once a record came (MaximumBatchingWindowInSeconds): fewer,
    #: larger batches (fewer DynamoDB writes) against freshness.
    batch_window: float = 0.0
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


@dataclass
class PollerReport:
    invocations: int = 0
    records: int = 0  # records delivered to the handler (redeliveries included)
    retries: int = 0  # batches delivered again after a failure
    discarded: int = 0  # records sent to the on-failure destination after every attempt
    checkpoints: int = 0
    shards_finished: list[str] = field(default_factory=list)
    deadletter_keys: list[str] = field(default_factory=list)


def merge_reports(into: PollerReport, other: PollerReport) -> None:
    """Add ``other``'s counts to ``into`` (a poller restarted from its checkpoints)."""
    for name in ("invocations", "records", "retries", "discarded", "checkpoints"):
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.shards_finished.extend(other.shards_finished)
    into.deadletter_keys.extend(other.deadletter_keys)


@dataclass
class _Shard(ShardState):
    retry_from: str | None = None  # redeliver from this sequence number (AT_SEQUENCE_NUMBER)
    attempts: int = 0
    limit: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)  # read, not yet delivered
    buffer_since: float = 0.0  # when the buffer's first record was read
    #: the next GetRecords, under way while the handler has the batch before it:
    #: (its iterator, its limit, the call)
    ahead: tuple[str, int, Future[dict[str, Any]]] | None = None


class Poller(ShardReader[_Shard, PollerConfig, PollerReport]):
    lease_prefix = LEASE_PREFIX

    def __init__(
        self, kinesis: Any, s3: Any, dynamodb: Any, *, handler: Handler, **options: Any
    ) -> None:
        """``options``: ``stream``, ``bucket``, ``table`` (of the checkpoints), ``config`` and
        ``progress``, as for :class:`ecom.stream.shards.ShardReader`."""
        super().__init__(kinesis, s3, dynamodb, **options)
        self.handler = handler
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self._reader: ThreadPoolExecutor | None = None  # the calls read ahead
        summary = kinesis.describe_stream_summary(StreamName=self.stream)
        self.arn: str = summary["StreamDescriptionSummary"]["StreamARN"]
        self.region = self.arn.split(":")[3]

    def _default_config(self) -> PollerConfig:
        return PollerConfig()

    def _new_report(self) -> PollerReport:
        return PollerReport()

    def _new_state(self, shard_id: str, checkpoint: Checkpoint) -> _Shard:
        return _Shard(shard_id, checkpoint, limit=self.config.batch_size)

    def run(
        self, *, until_caught_up: bool = True, should_stop: Callable[[], bool] | None = None
    ) -> PollerReport:
        """Deliver until every shard is caught up (batch mode) or until ``should_stop()``."""
        try:
            return super().run(until_caught_up=until_caught_up, should_stop=should_stop)
        finally:
            self.close()

    def _step_all(self, ready: list[_Shard], until_caught_up: bool) -> list[bool]:
        """Step every ready shard, each in a thread of its own, as the mapping reads the shards
        of a stream at once (and each in order): one shard's DynamoDB writes wait while another
        shard's batch is decoded."""
        if len(ready) <= 1:
            return super()._step_all(ready, until_caught_up)
        size = min(len(ready), MAX_THREADS)
        if self._pool is None or self._pool_size < size:
            self.close()
            self._pool_size = size
            self._pool = ThreadPoolExecutor(size, thread_name_prefix="shard")
        return list(self._pool.map(lambda state: self._step(state, until_caught_up), ready))

    def close(self) -> None:
        """Stop the shard threads (``run`` starts them again)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool, self._pool_size = None, 0
        if self._reader is not None:
            self._reader.shutdown()
            self._reader = None
        for state in self.states.values():
            state.ahead = None

    def _read_ahead(self, state: _Shard, iterator: str | None) -> None:
        """Start the shard's next ``GetRecords`` while its batch is with the handler (an event
        source mapping reads on while the function runs; only the next batch waits for the
        result). Used only if the batch succeeds: a failed one is read again from its failed
        record, and the answer read ahead is dropped."""
        if iterator is None:
            return
        with self._lock:
            if self._reader is None:
                self._reader = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="read-ahead")
            reader = self._reader
        limit = state.limit
        call = reader.submit(self.kinesis.get_records, ShardIterator=iterator, Limit=limit)
        state.ahead = (iterator, limit, call)

    def _fetch(self, state: _Shard, iterator: str, limit: int) -> dict[str, Any]:
        ahead, state.ahead = state.ahead, None
        if ahead is not None and ahead[:2] == (iterator, limit):
            return ahead[2].result()
        return super()._fetch(state, iterator, limit)

    def _iterator(self, state: _Shard) -> str:
        return shard_iterator(
            self.kinesis,
            self.stream,
            state.shard_id,
            state.checkpoint.sequence_number,
            at=state.retry_from,
        )

    def _step(self, state: _Shard, until_caught_up: bool, max_calls: int = 20) -> bool:
        """Deliver one shard's records until caught up; True if any batch went to the handler
        or the calls ran out."""
        delivered = False
        for resp in self._responses(state, lambda: state.limit, max_calls):
            records = resp.get("Records", [])
            next_iterator = resp.get("NextShardIterator")
            if self.config.batch_window > 0 and (records or state.buffer):
                # the batching window: gather this shard's records without holding up the
                # other shards (each has its own window, as each has its own poller on AWS)
                if records:
                    if not state.buffer:
                        state.buffer_since = time.monotonic()
                    state.buffer.extend(records)
                    state.iterator = next_iterator
                waited = time.monotonic() - state.buffer_since
                if len(state.buffer) < state.limit and waited < self.config.batch_window:
                    return delivered
                batch, state.buffer = state.buffer[: state.limit], state.buffer[state.limit :]
                delivered = True
                if not self._deliver(state, batch):
                    state.buffer = []  # read again from the failed record
                    return delivered
                continue
            if records:
                delivered = True
                self._read_ahead(state, next_iterator)
                if not self._deliver(state, records):
                    return delivered
                state.iterator = next_iterator
                continue
            caught_up = int(resp.get("MillisBehindLatest", 0)) == 0
            if next_iterator is None or (caught_up and state.closed):
                self._advance(state, state.checkpoint.sequence_number, shard_end=True)
                self._finish(state)
                return delivered
            state.iterator = next_iterator
            if caught_up:
                state.caught_up = True
                return delivered
        return self._again(state, delivered)

    def _event(self, records: list[dict[str, Any]], shard_id: str) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r["PartitionKey"],
                        "sequenceNumber": r["SequenceNumber"],
                        "data": base64.b64encode(r["Data"]).decode("ascii"),
                        "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{r['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "awsRegion": self.region,
                    "eventSourceARN": self.arn,
                }
                for r in records
            ]
        }

    def _deliver(self, state: _Shard, records: list[dict[str, Any]]) -> bool:
        """Invoke the handler; checkpoint on success; True to keep reading this shard."""
        with self._lock:
            self.report.invocations += 1
            self.report.records += len(records)
        failed_from: str | None
        error = ""
        try:
            response = self.handler(self._event(records, state.shard_id), None)
            failures = (response or {}).get("batchItemFailures") or []
            failed_from = min(
                (str(f["itemIdentifier"]) for f in failures), key=lambda s: int(s), default=None
            )
            state.limit = self.config.batch_size
            error = "batchItemFailures"
        except Exception as exc:  # a function error: retry the first half (bisect)
            failed_from = records[0]["SequenceNumber"]
            state.limit = max(1, len(records) // 2)
            error = f"{type(exc).__name__}: {exc}"
        if failed_from is None:
            self._advance(state, records[-1]["SequenceNumber"], shard_end=False)
            state.retry_from, state.attempts = None, 0
            if self.progress is not None:
                with self._lock:
                    self.progress(self.report)
            return True
        state.attempts += 1
        if state.attempts >= self.config.max_attempts:
            self._discard(state, records, failed_from, error)
            return True
        with self._lock:
            self.report.retries += 1
        done = [r for r in records if int(r["SequenceNumber"]) < int(failed_from)]
        if done:
            self._advance(state, done[-1]["SequenceNumber"], shard_end=False)
        state.retry_from, state.iterator = failed_from, None
        delay = min(5.0, self.config.retry_delay * 2 ** (state.attempts - 1))
        state.wait_until = time.monotonic() + delay
        return False

    def _discard(
        self, state: _Shard, records: list[dict[str, Any]], failed_from: str, error: str
    ) -> None:
        """The on-failure destination: the batch's range and the error, then move on."""
        lost = [r for r in records if int(r["SequenceNumber"]) >= int(failed_from)]
        key = f"{DEADLETTER_PREFIX}/shard={state.shard_id}/{failed_from}.json"
        body = {
            "stream": self.stream,
            "shard_id": state.shard_id,
            "first_sequence_number": failed_from,
            "last_sequence_number": lost[-1]["SequenceNumber"],
            "records": len(lost),
            "attempts": state.attempts,
            "error": error,
        }
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(body).encode())
        with self._lock:
            self.report.discarded += len(lost)
            self.report.deadletter_keys.append(key)
        self._advance(state, records[-1]["SequenceNumber"], shard_end=False)
        state.retry_from, state.attempts, state.iterator = None, 0, None
        state.limit = self.config.batch_size

    def _advance(self, state: _Shard, seq: str, shard_end: bool, note: str = "") -> None:
        if seq != state.checkpoint.sequence_number or shard_end:
            super()._advance(state, seq, shard_end, note)
