"""The producer: validated events -> Kinesis PutRecords, with entry-level retries and dead letters.

:class:`Producer` is the reusable part (``ecom produce`` and the HTTP API put events
through it): ``put(event)`` buffers, packs the events bound for one shard into records
(:mod:`ecom.stream.routing` says which shard), batches honour the PutRecords limits (500
records, 5 MiB per call, 1 MiB per record), only the failed entries of a call are
resubmitted (:mod:`ecom.stream.retry`), and entries still failing after the last attempt go
to ``deadletter/producer/`` in S3 with their error. Reading CSV files into it is
:mod:`ecom.stream.produce`.

It imports neither NumPy nor Arrow (the HTTP Lambda needs neither); only
:meth:`Producer.put_block`, fed by the producer's block reader, loads them.

Not thread-safe: use one producer per thread.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecom.events import Event
from ecom.stream.records import (
    MAX_BYTES_PER_CALL,
    MAX_BYTES_PER_RECORD,
    MAX_RECORDS_PER_CALL,
    decode_record,
    encode_event,
    hash_key,
    partition_key,
)
from ecom.stream.retry import LOST_CALL, RETRYABLE_CODES, RetryPolicy
from ecom.stream.routing import ShardRouter, StreamNotFound

if TYPE_CHECKING:
    import numpy as np

    from ecom.blocks import Block

__all__ = [
    "DEFAULT_PACK_BYTES",
    "Producer",
    "ProducerStats",
    "RetryPolicy",
    "ShardRouter",
    "StreamNotFound",
]

#: Default size of a packed record (many events in one Kinesis record); 0 disables packing.
DEFAULT_PACK_BYTES = 64 * 1024
DEADLETTER_PREFIX = "deadletter/producer"


@dataclass
class ProducerStats:
    """Event counts (not records): ``accepted = sent + dead_lettered`` once the producer is flushed."""

    accepted: int = 0
    sent: int = 0
    dead_lettered: int = 0
    retried: int = 0  # event resubmissions (one event retried twice counts 2)
    throttled: int = 0  # event failures reported by Kinesis (entry errors and failed calls)
    records: int = 0  # Kinesis records acknowledged
    calls: int = 0  # PutRecords calls made
    errors: Counter[str] = field(default_factory=Counter)
    deadletter_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Entry:
    data: bytes
    key: str
    explicit_hash: str | None
    events: int

    @property
    def size(self) -> int:
        return len(self.data) + len(self.key.encode("utf-8"))

    def request(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Data": self.data, "PartitionKey": self.key}
        if self.explicit_hash is not None:
            entry["ExplicitHashKey"] = self.explicit_hash
        return entry


class _Pack:
    __slots__ = ("events", "first_hash", "first_key", "lines", "size")

    def __init__(self, key: str, key_hash: int) -> None:
        self.lines: list[bytes] = []
        self.size = 0
        self.events = 0
        self.first_key = key
        self.first_hash = key_hash


class Producer:
    """Buffers events into PutRecords calls; retries failed entries; dead-letters what never lands.

    ``pack_bytes > 0`` packs the events bound for one shard into records of up to that
    many bytes (routed with ``ExplicitHashKey`` = the hash of the first event's partition
    key, so a session's events stay on one shard); ``0`` sends one event per record.
    """

    def __init__(
        self,
        kinesis: Any,
        stream: str,
        *,
        s3: Any = None,
        bucket: str | None = None,
        pack_bytes: int = DEFAULT_PACK_BYTES,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        run_id: str | None = None,
        router_refresh_seconds: float = 60.0,
    ) -> None:
        if pack_bytes < 0 or pack_bytes > MAX_BYTES_PER_RECORD - 512:
            raise ValueError(
                f"pack_bytes must be 0..{MAX_BYTES_PER_RECORD - 512}, got {pack_bytes}"
            )
        self.kinesis = kinesis
        self.stream = stream
        self.s3 = s3
        self.bucket = bucket
        self.pack_bytes = pack_bytes
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.run_id = run_id or f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.stats = ProducerStats()
        self._batch: list[_Entry] = []
        self._batch_bytes = 0
        self._router: ShardRouter | None = None
        self._router_refresh = router_refresh_seconds
        self._packs: dict[int, _Pack] = {}
        self._deadletter_parts = 0

    # -- input ---------------------------------------------------------------------------------

    def put(self, event: Event) -> None:
        """Queue one validated event (sent when a batch fills, or on :meth:`flush`)."""
        self.stats.accepted += 1
        line = encode_event(event)
        key = partition_key(event)
        if not self.pack_bytes:
            self._add(_Entry(line, key, None, 1))
            return
        key_hash = hash_key(key)
        router = self._router
        if router is None:
            router = self._router = ShardRouter(self.kinesis, self.stream)
        shard = router.route(key_hash)
        pack = self._packs.get(shard)
        if pack is None:
            pack = self._packs[shard] = _Pack(key, key_hash)
        elif pack.size + len(line) > self.pack_bytes:
            self._add(self._seal(pack))
            pack = self._packs[shard] = _Pack(key, key_hash)
        pack.lines.append(line)
        pack.size += len(line)
        pack.events += 1

    def put_block(self, block: Block) -> None:
        """Queue the valid rows of a vectorised :class:`~ecom.blocks.Block` (landing lines,
        partition keys and their MD5), packed and routed exactly as :meth:`put` would."""
        lines, keys, digests = block.lines, block.partition_keys, block.partition_key_md5
        if lines is None or keys is None or digests is None or not len(lines):
            return
        n = len(lines)
        self.stats.accepted += n
        if not self.pack_bytes:
            for line, key in zip(lines.to_pylist(), keys.to_pylist(), strict=True):
                self._add(_Entry(line.encode("utf-8"), key, None, 1))
            return
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        router = self._router
        if router is None:
            router = self._router = ShardRouter(self.kinesis, self.stream)
        # A shard owns the hashes from its start on; 32 hex digits compare like the numbers.
        shard = np.zeros(n, np.int64)
        for start in router.starts[1:]:
            shard += np.asarray(
                pc.greater_equal(digests, f"{start:032x}").to_numpy(zero_copy_only=False), bool
            )
        for index in np.unique(shard).tolist():
            rows = np.flatnonzero(shard == index)
            part = lines if len(rows) == n else lines.take(pa.array(rows))
            offsets = np.frombuffer(part.buffers()[1], np.int64)[
                part.offset : part.offset + len(part) + 1
            ]
            self._pack_lines(index, part.buffers()[2], offsets, keys, rows)

    def _pack_lines(
        self, shard: int, data: Any, offsets: np.ndarray, keys: Any, rows: np.ndarray
    ) -> None:
        """Append consecutive lines (``data[offsets[i]:offsets[i+1]]``) to ``shard``'s packs."""
        import numpy as np

        i, m = 0, len(offsets) - 1
        while i < m:
            pack = self._packs.get(shard)
            if pack is None:
                key = keys[int(rows[i])].as_py()
                pack = self._packs[shard] = _Pack(key, hash_key(key))
            room = self.pack_bytes - pack.size
            j = int(np.searchsorted(offsets, offsets[i] + room, side="right")) - 1
            if j <= i:
                if pack.events:  # the next line does not fit: send this pack, start another
                    self._add(self._seal(self._packs.pop(shard)))
                    continue
                j = i + 1  # a line longer than a pack travels alone, as in put()
            pack.lines.append(data[int(offsets[i]) : int(offsets[j])].to_pybytes())
            pack.size += int(offsets[j] - offsets[i])
            pack.events += j - i
            i = j
            if i < m:
                self._add(self._seal(self._packs.pop(shard)))

    def put_many(self, events: Iterable[Event]) -> None:
        for event in events:
            self.put(event)

    def flush(self) -> None:
        """Send everything queued (partial packs included) and wait for the outcome."""
        for pack in self._packs.values():
            self._add(self._seal(pack))
        self._packs.clear()
        if self._batch:
            self._send(self._batch)
            self._batch = []
            self._batch_bytes = 0
        router = self._router
        if router is not None and time.monotonic() - router.refreshed_at > self._router_refresh:
            router.refresh()

    def close(self) -> ProducerStats:
        self.flush()
        return self.stats

    # -- batching ------------------------------------------------------------------------------

    @staticmethod
    def _seal(pack: _Pack) -> _Entry:
        return _Entry(b"".join(pack.lines), pack.first_key, str(pack.first_hash), pack.events)

    def _add(self, entry: _Entry) -> None:
        if entry.size > MAX_BYTES_PER_RECORD:
            # A valid event is at most ~2.5 KB, so this only guards direct callers.
            self._dead_letter([(entry, "RecordTooLarge", f"{entry.size} bytes > 1 MiB")], 0)
            return
        if (
            len(self._batch) >= MAX_RECORDS_PER_CALL
            or self._batch_bytes + entry.size > MAX_BYTES_PER_CALL
        ):
            self._send(self._batch)
            self._batch = []
            self._batch_bytes = 0
        self._batch.append(entry)
        self._batch_bytes += entry.size

    # -- sending -------------------------------------------------------------------------------

    def _send(self, entries: Sequence[_Entry]) -> None:
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        pending = list(entries)
        attempt = 1
        while pending:
            failed: list[tuple[_Entry, str, str]] = []
            self.stats.calls += 1
            try:
                resp = self.kinesis.put_records(
                    StreamName=self.stream, Records=[e.request() for e in pending]
                )
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code, message = str(error.get("Code", "")), str(error.get("Message", ""))
                if code == "ResourceNotFoundException":
                    raise StreamNotFound(f"stream {self.stream!r} not found: {message}") from exc
                if code not in RETRYABLE_CODES:
                    self._dead_letter([(e, code, message) for e in pending], attempt)
                    return
                failed = [(e, code, message) for e in pending]
            except (
                ConnectionClosedError,
                EndpointConnectionError,
                ReadTimeoutError,
                ConnectTimeoutError,
            ) as exc:
                # The call may or may not have landed (a lost acknowledgement): resend all of it.
                # Duplicates are fine, the landing zone is de-duplicated by event_id downstream.
                failed = [(e, type(exc).__name__, str(exc)) for e in pending]
            else:
                for entry, result in zip(pending, resp["Records"], strict=True):
                    code = result.get("ErrorCode")
                    if code:
                        failed.append((entry, code, result.get("ErrorMessage", "")))
                    else:
                        self.stats.sent += entry.events
                        self.stats.records += 1
            if not failed:
                return
            for entry, code, _ in failed:
                self.stats.throttled += entry.events
                self.stats.errors[code] += entry.events
            retryable: list[tuple[_Entry, str, str]] = []
            final: list[tuple[_Entry, str, str]] = []
            for f in failed:
                (retryable if f[1] in RETRYABLE_CODES or f[1] in LOST_CALL else final).append(f)
            if final:
                self._dead_letter(final, attempt)
            if attempt >= self.retry.max_attempts:
                self._dead_letter(retryable, attempt)
                return
            pending = [f[0] for f in retryable]
            self.stats.retried += sum(e.events for e in pending)
            if pending:
                self.sleep(self.retry.delay(attempt, self.rng))
            attempt += 1

    def _dead_letter(self, failures: Sequence[tuple[_Entry, str, str]], attempts: int) -> None:
        """Write refused events to ``deadletter/producer/`` (one JSON line per event)."""
        if not failures:
            return
        lines: list[str] = []
        events = 0
        for entry, code, message in failures:
            events += entry.events
            for row in _rows(entry.data):
                lines.append(
                    json.dumps(
                        {
                            "stage": "produce",
                            "reason": "kinesis_put_failed",
                            "error_code": code,
                            "error_message": message,
                            "attempts": attempts,
                            "stream": self.stream,
                            "partition_key": entry.key,
                            "event_id": row[0] if row else None,
                            "row": row,
                        }
                    )
                )
        if self.s3 is None or self.bucket is None:
            raise RuntimeError(
                f"{events} events could not be put to Kinesis and no dead-letter bucket is set"
            )
        self._deadletter_parts += 1
        key = (
            f"{DEADLETTER_PREFIX}/dt={datetime.now(UTC):%Y-%m-%d}/"
            f"{self.run_id}-{self._deadletter_parts:05d}.jsonl"
        )
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=("\n".join(lines) + "\n").encode("utf-8")
        )
        self.stats.dead_lettered += events
        self.stats.deadletter_keys.append(key)


def _rows(data: bytes) -> list[list[str]]:
    try:
        return decode_record(data)
    except UnicodeDecodeError:
        return [[data.decode("utf-8", errors="backslashreplace")]]
