"""The stream processor as a Lambda handler over a Kinesis event-source batch.

``handler(event, context)`` (``Handler: ecom.realtime.handler.handler``) receives what an
event source mapping delivers (records of one shard, in order) and returns a partial batch
response ``{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}``:

* records at or before the shard's position in the metrics table were applied already
  (a redelivery after a crash): skipped;
* every other record is decoded (:mod:`ecom.realtime.decode`); what cannot be used is
  written to ``quarantine/realtime/shard=<id>/<sequence number>.jsonl`` with its reason and
  is never retried (a poison record does not block its shard);
* the valid events are applied exactly once (:mod:`ecom.realtime.store`); the shard's
  position moves with a batch's last transaction, at most every few seconds (a guard only:
  events applied past it are recognised by their ids);
* if DynamoDB (or S3) still refuses after the retries, the first unapplied record is
  reported as failed and the mapping redelivers from it (already applied events are
  recognised by their ids and not counted again).

Locally ``ecom realtime`` (:mod:`ecom.realtime.poller`) calls the same handler.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ecom import quarantine
from ecom.events import Event
from ecom.realtime.decode import DecodedRecord, decode, shard_of, stream_of
from ecom.realtime.store import ApplyResult, MetricsStore, padded

log = logging.getLogger("ecom.realtime")

QUARANTINE_PREFIX = "quarantine/realtime"


@dataclass
class ProcessReport:
    """Counts of one processor. For the records it processed, ``lines = applied + duplicates +
    quarantined``; records it reported failed are counted again when redelivered."""

    invocations: int = 0
    records: int = 0  # Kinesis records received (redeliveries included)
    records_skipped: int = 0  # at or before the shard's position: applied by an earlier call
    records_failed: int = 0  # reported as batchItemFailures (redelivered later)
    lines: int = 0  # event lines of the processed records
    applied: int = 0  # distinct events whose figures were added
    duplicates: int = 0  # lines whose event was already applied (or repeated in the batch)
    quarantined: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    quarantine_keys: list[str] = field(default_factory=list)
    transactions: int = 0
    writes: int = 0  # DynamoDB item writes
    write_units: int = 0  # DynamoDB write request units (1 per KB of an item, x2 in a transaction)
    reads: int = 0  # segments read (the first time a chain needed one)
    throttled: int = 0  # DynamoDB attempts refused and retried
    conflicts: int = 0
    days: set[str] = field(default_factory=set)  # UTC event dates of the events applied

    def add(self, other: ProcessReport) -> None:
        """Add ``other``'s counts (another process's calls) to this report."""
        for name, value in other.__dict__.items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.quarantined_by_reason.update(other.quarantined_by_reason)
        self.quarantine_keys.extend(other.quarantine_keys)
        self.days.update(other.days)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("quarantine_keys", "days")}
        out["quarantined_by_reason"] = dict(sorted(self.quarantined_by_reason.items()))
        return out


class _Turn:
    """A shard's turn to compute: taken before its batch is decoded, given up when the batch
    first waits on DynamoDB (its first write, or a pause to retry: ``done``) or ends."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.held = False

    def __enter__(self) -> _Turn:
        self.lock.acquire()
        self.held = True
        return self

    def done(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()

    def __exit__(self, *_: object) -> None:
        self.done()


class Processor:
    """The handler's logic bound to clients: DynamoDB (metrics table) and S3 (quarantine)."""

    def __init__(self, dynamodb: Any, s3: Any, *, table: str, bucket: str, **store: Any) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.s3 = s3
        self.bucket = bucket
        self.report = ProcessReport()
        self._store_options = store
        self._stores: dict[str, MetricsStore] = {}
        self._lock = threading.Lock()  # the local poller calls shards from threads at once
        # A shard's turn to compute (_Turn): Python runs one thread's code at a time anyway,
        # and two shards sharing it finish their batches together, then wait for DynamoDB
        # together; taking turns, one shard's write is on its way while the other computes.
        self._compute = threading.Lock()

    def store(self, shard_id: str) -> MetricsStore:
        """The shard's store, with its own memory of segments: on AWS every shard's batches go
        to one container at a time, and the shards to containers of their own."""
        with self._lock:
            store = self._stores.get(shard_id)
            if store is None:
                store = MetricsStore(self.dynamodb, self.table, **self._store_options)
                self._stores[shard_id] = store
            return store

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        records = list(event.get("Records") or [])
        with self._lock:
            self.report.invocations += 1
            self.report.records += len(records)
        by_shard: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in records:
            by_shard.setdefault((stream_of(record), shard_of(record)), []).append(record)
        failures: list[dict[str, str]] = []
        for (stream, shard_id), shard_records in by_shard.items():
            failed = self._shard_batch(stream, shard_id, shard_records)
            if failed is not None:
                failures.append({"itemIdentifier": failed})
        return {"batchItemFailures": failures}

    def _shard_batch(self, stream: str, shard_id: str, records: list[dict[str, Any]]) -> str | None:
        """Process one shard's records; the sequence number to redeliver from, or None."""
        report = self.report
        store = self.store(shard_id)
        try:
            position = store.position(stream, shard_id)
        except Exception as exc:  # DynamoDB unreachable or refusing: redeliver the batch
            log.warning("shard %s: cannot read the position: %s", shard_id, exc)
            with self._lock:
                report.records_failed += len(records)
            return str(records[0]["kinesis"]["sequenceNumber"])
        if position is not None:
            done = padded(position)
            todo = [r for r in records if padded(str(r["kinesis"]["sequenceNumber"])) > done]
            with self._lock:
                report.records_skipped += len(records) - len(todo)
            records = todo
        if not records:
            return None
        with _Turn(self._compute) as turn:
            decoded = [decode(r) for r in records]
            first_seq = decoded[0].sequence_number
            try:
                if any(d.quarantined for d in decoded):
                    turn.done()  # writing to S3 is waiting too
                keys = [self._quarantine(stream, shard_id, d) for d in decoded if d.quarantined]
                events = [e for d in decoded for e in d.events]
                last_seq = decoded[-1].sequence_number
                result = store.apply(
                    events, stream=stream, shard_id=shard_id, last_seq=last_seq, on_wait=turn.done
                )
            except Exception as exc:  # DynamoDB or S3 refused: redeliver (ids make it idempotent)
                log.warning("shard %s: batch from %s failed: %s", shard_id, first_seq, exc)
                with self._lock:
                    report.records_failed += len(records)
                return first_seq
        with self._lock:
            self._count(decoded, events, keys, result)
        return None

    def _count(
        self,
        decoded: list[DecodedRecord],
        events: list[Event],
        keys: list[str],
        result: ApplyResult,
    ) -> None:
        """Add a processed batch to the report (under the lock)."""
        report = self.report
        report.quarantine_keys.extend(keys)
        report.lines += sum(d.lines for d in decoded)
        for d in decoded:
            report.quarantined += len(d.quarantined)
            report.quarantined_by_reason.update(q.reason for q in d.quarantined)
        report.applied += result.applied
        report.days.update(e.event_time[:10] for e in events)
        report.duplicates += result.duplicates
        report.transactions += result.transactions
        report.writes += result.writes
        report.write_units += result.write_units
        report.reads += result.reads
        report.throttled += result.throttled
        report.conflicts += result.conflicts

    def _quarantine(self, stream: str, shard_id: str, record: DecodedRecord) -> str:
        """One object per record (a replay rewrites the same key with the same bytes)."""
        key = f"{QUARANTINE_PREFIX}/shard={shard_id}/{record.sequence_number}.jsonl"
        lines = [
            quarantine.json_line(
                "realtime",
                f"kinesis:{stream}",
                None,
                q.reason,
                q.detail,
                q.raw,
                shard_id=shard_id,
                sequence_number=record.sequence_number,
                partition_key=record.partition_key,
            )
            for q in record.quarantined
        ]
        body = ("\n".join(lines) + "\n").encode("utf-8", errors="backslashreplace")
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson"
        )
        return key


# -- Lambda entry point ------------------------------------------------------------------------

_processor: Processor | None = None


def processor_from_environment() -> Processor:
    """As the Lambda builds it: ``ECOM_METRICS_TABLE`` and ``ECOM_BUCKET``, else the stack's outputs."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3})
    from ecom import settings
    from ecom.aws.session import LazyClient

    table, bucket = settings.get().metrics_table, settings.get().bucket
    if table and bucket:
        return Processor(
            boto3.client("dynamodb", config=config),
            LazyClient(lambda: boto3.client("s3", config=config)),
            table=table,
            bucket=bucket,
        )
    from ecom.aws import session

    res = session.resources()
    return Processor(
        session.client("dynamodb", config=config),
        LazyClient(lambda: session.client("s3", config=config)),
        table=res.metrics_table,
        bucket=res.bucket,
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point (``Handler: ecom.realtime.handler.handler``)."""
    global _processor
    if _processor is None:
        _processor = processor_from_environment()
    response = _processor(event, context)
    log.info("batch done: %s", json.dumps(_processor.report.to_dict()))
    return response
