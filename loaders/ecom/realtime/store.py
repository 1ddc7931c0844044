"""Writing events to the metrics table exactly once per ``event_id``.

The scheme (the argument is in docs/realtime.md):

1. **One writer per segment.** A shard writes only its own segments
   (``s#<shard id>#<cell>``, :mod:`ecom.realtime.model`), and every copy of an event comes on
   one shard: the partition key is the event's session (or user), so a redelivered batch, a
   record put twice by the producer and the data's own exact duplicate rows all land on the
   shard of the first. The processor keeps the segments it reads and writes in memory: the ids
   in their ``ev``, their counters, version and ``full`` flag.
2. **Where an event's id can be.** An event goes to the coarsest of its cells (week, day, hour,
   ten minutes, minute parts) whose segment is not full, and a segment is only created once the
   coarser one is full (segments are committed coarse to fine). So every copy of an event walks
   the same chain of segments, from the week down to the first one that is not full, and its id
   is in one of them if it was applied. A segment is read (consistent read) the first time the
   chain needs it; after that, memory answers.
3. **One conditional transaction.** The events not seen are applied with ``TransactWriteItems``:
   per segment one update that adds their entries to ``ev`` and ``act``, sets the counters
   ``c`` to the old ones plus theirs, and bumps ``ver``, on the condition that ``ver`` is still
   the version in memory (or that the segment does not exist yet). The transaction commits whole
   or not at all. A failed condition (another writer, or memory that went stale) drops those
   segments from memory, and the batch starts again at 2 with what is left.

So an event's figures move exactly when its entry enters ``ev``, and only from a state where
it was in none of the segments of its chain: never twice, never partly. The shard's position
(``pos#<stream>``) is only a guard that lets a redelivered batch be skipped without reading
it; it moves with a batch's last transaction at most every ``position_every`` seconds.
Throttling (``ProvisionedThroughputExceeded`` and friends) is retried with backoff; what still
fails raises :class:`WriteFailed` and the handler reports the batch's records as failed.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecom.events import Event
from ecom.realtime.model import (
    RETENTION_SECONDS,
    SEEN_DIGITS,
    SEGMENT_BYTES,
    Key,
    Signature,
    activity,
    cells,
    cents,
    counters_of,
    entry,
    is_week,
    latest_key,
    next_part,
    pack,
    position_key,
    seen_id,
    segment_key,
    signature,
    unpack,
    week_of,
    whole_day,
)

#: TransactWriteItems takes at most 100 items; one place is kept for the shard position.
MAX_ITEMS = 90
#: Bytes of counters and entries one transaction may carry (DynamoDB's limit is 4 MB).
MAX_TRANSACTION_BYTES = 2_000_000
#: Ids of events kept in memory by one shard's store (across its segments); past it the segments
#: used longest ago are forgotten (and read again if an event needs them). About 15 MB a shard:
#: with 300,000 a worker's peak memory grew from 68 MB at 100k events to 113 MB at 1M (two
#: shards); with 100,000, to 80 MB, at 668 segment reads instead of 662.
MAX_CACHED_IDS = 100_000
#: Seconds between two writes of a shard's position (0: with every batch).
POSITION_EVERY = 5.0
_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}
_RETRYABLE_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
SEQ_WIDTH = 64  # sequence numbers are compared as zero-padded strings
_LEVEL = {"W": 0, "D": 1, "H": 2, "T": 3, "M": 4}


class WriteFailed(RuntimeError):
    """DynamoDB refused a write after every retry (the batch is reported as failed)."""


class _Conflict(Exception):
    """A segment's version was not the one in memory: those segments are read again."""

    def __init__(self, keys: list[Key]) -> None:
        super().__init__(f"{len(keys)} segments changed")
        self.keys = keys


class _PositionAhead(Exception):
    """The shard position is already at or past this batch."""


@dataclass
class ApplyResult:
    applied: int = 0  # distinct events whose figures were committed by this call
    duplicates: int = 0  # events skipped: already applied, or a copy inside the batch
    transactions: int = 0
    writes: int = 0  # item writes (each item of a transaction, each single update)
    write_units: int = (
        0  # DynamoDB write request units: 1 per KB of each item written, x2 in a transaction
    )
    reads: int = 0  # segments read
    throttled: int = 0  # attempts DynamoDB refused and that were retried
    conflicts: int = 0


@dataclass
class Segment:
    """A segment as committed (or absent: ``version`` None), as this processor knows it."""

    version: int | None = None
    ids: set[str] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)
    entry_bytes: int = 0  # bytes of its ev and act entries (an upper bound: act entries repeat)
    counter_bytes: int = 2  # bytes of its counters' JSON
    full: bool = False

    @property
    def size(self) -> int:
        return self.entry_bytes + self.counter_bytes


@dataclass
class _Plan:
    """What one batch adds to one segment."""

    events: list[Event] = field(default_factory=list)
    entries: set[str] = field(default_factory=set)
    acts: set[str] = field(default_factory=set)
    # per (day tag, signature): [events, their cents]
    sums: dict[tuple[str, Signature], list[int]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # the counters the events add to
    ids: set[str] = field(default_factory=set)
    added_bytes: int = 0  # an upper bound of what the events add to the item
    full: bool = False

    @property
    def counters(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (tag, sig), (events, cents_sum) in self.sums.items():
            for name, n in counters_of(sig, events, cents_sum, tag):
                out[name] += n
        return out


def _nothing() -> None:
    pass


def padded(seq: str) -> str:
    return seq.rjust(SEQ_WIDTH, "0")


def _order(key: Key) -> tuple[int, str, str]:
    """Coarse cells first (week, day, hour, ten minutes, minute parts), so that a finer segment
    is never committed before the coarser one it overflows from."""
    cell = key[1].rsplit("#", 1)[1]
    return _LEVEL[cell[0]], key[0], cell


def _in_any(member: str, sets: tuple[set[str], ...]) -> bool:
    """``any(member in s for s in sets)`` without making a generator (in _plan, per event)."""
    for s in sets:  # noqa: SIM110 (a generator costs more than the lookups here)
        if member in s:
            return True
    return False


def _json(counters: Counter[str]) -> str:
    return json.dumps(counters, separators=(",", ":"), ensure_ascii=False)


def _new_counter_bytes(names: list[str]) -> int:
    """An upper bound of the JSON bytes new counters add (escaped name, colon, number, comma)."""
    return sum(2 * len(n.encode("utf-8")) + 26 for n in names)


class MetricsStore:
    """The metrics table, written exactly once per event and read back by the queries."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        *,
        attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        max_items: int = MAX_ITEMS,
        segment_bytes: int = SEGMENT_BYTES,
        position_every: float = POSITION_EVERY,
        max_cached_ids: int = MAX_CACHED_IDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_items = max_items
        self.segment_bytes = segment_bytes
        self.position_every = position_every
        self.max_cached_ids = max_cached_ids
        self.sleep = sleep
        self.clock = clock
        self._segments: OrderedDict[Key, Segment] = OrderedDict()
        self._started = clock()  # the first position is written position_every after this
        self._position_written: dict[tuple[str, str], float] = {}
        self._positions: dict[tuple[str, str], str | None] = {}  # as read, then as written
        self._latest: dict[str, str] = {}  # per shard: the latest event time, read or written
        self._on_wait: Callable[[], None] = _nothing
        self._throttled = 0

    # -- reads ---------------------------------------------------------------------------------

    def position(self, stream: str, shard_id: str) -> str | None:
        """The sequence number the shard's events are applied up to (unpadded), or None: read
        once, then as this store moves it (the shard's only writer)."""
        if (stream, shard_id) in self._positions:
            return self._positions[(stream, shard_id)]
        item = self._read_item(position_key(stream, shard_id))
        seq = (str(item["seq"]["S"]).lstrip("0") or "0") if item and "seq" in item else None
        self._positions[(stream, shard_id)] = seq
        return seq

    def _load(self, keys: set[Key]) -> int:
        """Read segments into memory (consistent reads); absent ones are remembered as absent."""
        for key in keys:
            self._segments[key] = Segment()
        todo = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in sorted(keys)]
        while todo:
            chunk, todo = todo[:100], todo[100:]
            request: dict[str, Any] = {
                self.table: {
                    "Keys": chunk,
                    "ConsistentRead": True,
                    "ProjectionExpression": "pk, sk, #v, #c, #e, #s, #f",
                    "ExpressionAttributeNames": {
                        "#v": "ver",
                        "#c": "c",
                        "#e": "ev",
                        "#s": "size",
                        "#f": "full",
                    },
                }
            }
            while request:
                resp = self._call("batch_get_item", RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    key = (item["pk"]["S"], item["sk"]["S"])
                    tag = 1 if is_week(key) else 0  # a week's entries start with a day tag
                    counters = item.get("c", {}).get("S", "{}")
                    counter_bytes = len(counters.encode("utf-8"))
                    self._segments[key] = Segment(
                        version=int(item["ver"]["N"]) if "ver" in item else None,
                        ids={
                            e[tag : tag + SEEN_DIGITS]
                            for e in unpack(item.get("ev", {}).get("SS", []))
                        },
                        counters=Counter(json.loads(counters)),
                        entry_bytes=int(item.get("size", {}).get("N", counter_bytes))
                        - counter_bytes,
                        counter_bytes=counter_bytes,
                        full=bool(item.get("full", {}).get("BOOL", False)),
                    )
                request = resp.get("UnprocessedKeys") or {}
                if request:
                    self._on_wait()
                    self.sleep(self.base_delay)
        return len(keys)

    def _chain(self, event: Event, shard_id: str, planned: dict[Key, _Plan] | None) -> list[Key]:
        """The event's segments from the week down to the first one not full (committed, or with
        ``planned``, after this batch); stops early at a segment not in memory."""
        t = event.event_time
        day = t[:10]
        week_cell, *finer = cells(t)
        out: list[Key] = []
        cell: str | None = week_cell
        fixed = list(finer)
        while cell is not None:
            key = segment_key(day, shard_id, cell)
            out.append(key)
            segment = self._segments.get(key)
            if segment is None:
                if planned is None:
                    return out
                # beyond a segment this batch fills: it cannot exist yet (coarse-to-fine commits)
                segment = self._segments[key] = Segment()
            full = segment.full or (planned is not None and key in planned and planned[key].full)
            if not full:
                return out
            cell = fixed.pop(0) if fixed else next_part(cell)
        return out

    def _prefetch(self, events: list[Event], shard_id: str) -> int:
        """Read every segment the events' chains need (level by level, one batch read each)."""
        reads = 0
        minutes = list({e.event_time[:16]: e for e in events}.values())  # one event a minute
        while True:
            missing = set()
            coarse = set()  # days whose chain ends at their week's or day's segment
            for event in minutes:
                day = event.event_time[:10]
                if day in coarse:
                    continue
                last = self._chain(event, shard_id, None)[-1]
                if last not in self._segments:
                    missing.add(last)
                if whole_day(last):
                    coarse.add(day)
            if not missing:
                return reads
            reads += self._load(missing)

    # -- the exactly-once write ----------------------------------------------------------------

    def apply(
        self,
        events: list[Event],
        *,
        stream: str,
        shard_id: str,
        last_seq: str | None,
        on_wait: Callable[[], None] = lambda: None,
    ) -> ApplyResult:
        """Apply ``events`` (in order) exactly once; maybe move the shard's position.
        ``on_wait`` is called before the batch waits on DynamoDB: before each write of its
        figures, and before each pause to retry a throttled request."""
        self._on_wait = on_wait
        try:
            return self._apply(events, stream, shard_id, last_seq)
        finally:
            self._on_wait = _nothing

    def _apply(
        self, events: list[Event], stream: str, shard_id: str, last_seq: str | None
    ) -> ApplyResult:
        result = ApplyResult()
        unique: dict[str, Event] = {}
        for event in events:
            unique.setdefault(event.event_id, event)
        result.duplicates = len(events) - len(unique)
        pending = list(unique.values())
        now = self.clock()
        due = now - self._position_written.get((stream, shard_id), self._started)
        with_position = last_seq is not None and due >= self.position_every
        # the shard's latest event time goes with the batch's last transaction when its minute
        # moves on (at most once a minute of event time)
        newest: str | None = max((e.event_time for e in pending), default=None)
        if newest is not None and newest[:16] <= self._known_latest(shard_id)[:16]:
            newest = None
        for _ in range(50):
            result.reads += self._prefetch(pending, shard_id)
            plans, duplicates = self._plan(pending, shard_id)
            result.duplicates += duplicates
            pending = [e for plan in plans.values() for e in plan.events]
            groups = self._groups(plans)
            if not groups and with_position:
                groups = [[]]
            try:
                for i, group in enumerate(groups):
                    last = i == len(groups) - 1
                    seq = last_seq if (last and with_position) else None
                    latest = newest if (last and group) else None
                    self._on_wait()
                    try:
                        self._commit(group, plans, stream, shard_id, seq, latest, result)
                    except _PositionAhead:  # moved by another writer: read it again next time
                        with_position = False
                        self._positions.pop((stream, shard_id), None)
                        self._commit(group, plans, stream, shard_id, None, latest, result)
                    if latest is not None:
                        self._latest[shard_id] = latest
                    done = {id(e) for key in group for e in plans[key].events}
                    pending = [e for e in pending if id(e) not in done]
            except _Conflict as exc:
                result.conflicts += 1
                for key in exc.keys:
                    self._segments.pop(key, None)
                continue
            if with_position:
                self._position_written[(stream, shard_id)] = now
                self._positions[(stream, shard_id)] = last_seq
            result.throttled += self._throttled
            self._throttled = 0
            self._forget()
            return result
        raise WriteFailed("the segments kept changing under this batch (50 conflicts)")

    def _plan(self, events: list[Event], shard_id: str) -> tuple[dict[Key, _Plan], int]:
        """Each event not seen to the segment it goes to; and how many were seen."""
        plans: dict[Key, _Plan] = {}
        duplicates = 0
        # until a segment fills, per day when the chain ends at the week's or the day's segment,
        # else per minute: the chain's last segment and its plan (in ``plans`` from its first
        # event), the day's tag when that is a week's segment, and every set of ids to look in
        chains: dict[str, tuple[Key, Segment, _Plan, str, tuple[set[str], ...]]] = {}
        unused: dict[Key, _Plan] = {}
        for event in events:
            day, minute = event.event_time[:10], event.event_time[:16]
            got = chains.get(day) or chains.get(minute)
            if got is None:
                chain = self._chain(event, shard_id, plans)
                key = chain[-1]
                last = plans.get(key) or unused.setdefault(key, _Plan())
                # the segments above the last are full: no plan of theirs begins later
                sets = [self._segments[k].ids for k in chain]
                sets += [plans[k].ids for k in chain[:-1] if k in plans]
                sets.append(last.ids)
                tag = week_of(day)[1] if is_week(key) else ""
                got = (key, self._segments[key], last, tag, tuple(sets))
                chains[day if whole_day(key) else minute] = got
            key, segment, plan, tag, seen_in = got
            sid = seen_id(event.event_id)
            if _in_any(sid, seen_in):
                duplicates += 1
                continue
            if not plan.events:
                plans[key] = unused.pop(key, plan)
            plan.events.append(event)
            plan.ids.add(sid)
            text = tag + entry(event)
            plan.entries.add(text)
            added = len(text) + 1
            for act in activity(event):
                act = tag + act
                if act not in plan.acts:
                    plan.acts.add(act)
                    added += len(act.encode("utf-8")) + 1
            sig = signature(event)
            price = cents(event.price) if sig[3] is not None else 0
            sums = plan.sums.get((tag, sig))
            if sums is None:
                plan.sums[(tag, sig)] = [1, price]
                committed = segment.counters
                new = [
                    name
                    for name, _ in counters_of(sig, 1, price, tag)
                    if name not in committed and name not in plan.names
                ]
                plan.names.update(new)
                added += _new_counter_bytes(new)
            else:
                sums[0] += 1
                sums[1] += price
            plan.added_bytes += added
            if not plan.full and segment.size + plan.added_bytes >= self.segment_bytes:
                plan.full = True
                chains.clear()  # the minutes whose chain ends here go on to a finer segment
        return plans, duplicates

    def _groups(self, plans: dict[Key, _Plan]) -> list[list[Key]]:
        """Segments in transactions, coarse cells first, within DynamoDB's limits."""
        groups: list[list[Key]] = []
        group: list[Key] = []
        carried = 0
        for key in sorted(plans, key=_order):
            weight = self._segments[key].counter_bytes + plans[key].added_bytes
            if group and (len(group) >= self.max_items or carried + weight > MAX_TRANSACTION_BYTES):
                groups.append(group)
                group, carried = [], 0
            group.append(key)
            carried += weight
        if group:
            groups.append(group)
        return groups

    def _updates(
        self, group: list[Key], plans: dict[Key, _Plan]
    ) -> tuple[list[dict[str, Any]], list[tuple[Key, Segment]]]:
        """The group's segment updates, and each segment as it will be once they commit."""
        expires = str(int(self.clock()) + RETENTION_SECONDS)
        items: list[dict[str, Any]] = []
        after: list[tuple[Key, Segment]] = []
        for key in group:
            old, plan = self._segments[key], plans[key]
            counters = old.counters + plan.counters
            text = _json(counters)
            new = Segment(
                version=(old.version or 0) + 1,
                ids=old.ids | plan.ids,
                counters=counters,
                entry_bytes=old.entry_bytes + plan.added_bytes,
                counter_bytes=len(text.encode("utf-8")),
            )
            new.full = old.full or plan.full or new.size >= self.segment_bytes
            update: dict[str, Any] = {
                "TableName": self.table,
                "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
                "UpdateExpression": "SET #c = :c, #v = :v, #s = :s, #f = :f, #x = :x "
                "ADD #e :e, #a :a",
                "ExpressionAttributeNames": {
                    "#c": "c",
                    "#v": "ver",
                    "#s": "size",
                    "#f": "full",
                    "#x": "expires_at",
                    "#e": "ev",
                    "#a": "act",
                },
                "ExpressionAttributeValues": {
                    ":c": {"S": text},
                    ":v": {"N": str(new.version)},
                    ":s": {"N": str(new.size)},
                    ":f": {"BOOL": new.full},
                    ":x": {"N": expires},
                    ":e": {"SS": [pack(plan.entries)]},
                    ":a": {"SS": [pack(plan.acts)]},
                },
            }
            if old.version is None:
                update["ConditionExpression"] = "attribute_not_exists(#v)"
            else:
                update["ConditionExpression"] = "#v = :old"
                update["ExpressionAttributeValues"][":old"] = {"N": str(old.version)}
            items.append({"Update": update})
            after.append((key, new))
        return items, after

    def _commit(
        self,
        group: list[Key],
        plans: dict[Key, _Plan],
        stream: str,
        shard_id: str,
        last_seq: str | None,
        latest: str | None,
        result: ApplyResult,
    ) -> None:
        """One transaction: the group's segments, the position and the shard's latest event
        time (``last_seq`` and ``latest`` when not None)."""
        items, after = self._updates(group, plans)
        if latest is not None:  # the shard's own item: no condition (it is the only writer)
            pk, sk = latest_key(shard_id)
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                        "UpdateExpression": "SET t = :t",
                        "ExpressionAttributeValues": {":t": {"S": latest}},
                    }
                }
            )
        position_index = None
        if last_seq is not None:
            pk, sk = position_key(stream, shard_id)
            position_index = len(items)
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                        "UpdateExpression": "SET seq = :s, updated_at = :t",
                        "ConditionExpression": "attribute_not_exists(seq) OR seq < :s",
                        "ExpressionAttributeValues": {
                            ":s": {"S": padded(last_seq)},
                            ":t": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
                        },
                    }
                }
            )
        if not items:
            return
        self._transact(items, position_index, group)
        for key, segment in after:
            self._segments[key] = segment
            self._segments.move_to_end(key)
            result.applied += len(plans[key].events)
            result.write_units += 2 * -(-segment.size // 1024)
        result.transactions += 1
        result.writes += len(items)
        result.write_units += 2 * (len(items) - len(group))

    def _forget(self) -> None:
        """Keep at most ``max_cached_ids`` ids in memory: forget the segments used longest ago."""
        held = sum(len(s.ids) for s in self._segments.values())
        while held > self.max_cached_ids and len(self._segments) > 1:
            _, segment = self._segments.popitem(last=False)
            held -= len(segment.ids)

    def _transact(
        self, items: list[dict[str, Any]], position_index: int | None, group: list[Key]
    ) -> None:
        from botocore.exceptions import ClientError

        for attempt in range(self.attempts):
            try:
                self.dynamodb.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = error.get("Code", "")
                if code == "TransactionCanceledException":
                    reasons = [
                        str(r.get("Code") or "None")
                        for r in exc.response.get("CancellationReasons", [])
                    ]
                    failed = {i for i, r in enumerate(reasons) if r == "ConditionalCheckFailed"}
                    if failed and failed == {position_index}:
                        raise _PositionAhead() from exc
                    if failed:
                        raise _Conflict([group[i] for i in failed if i < len(group)]) from exc
                    if not reasons or any(r in _RETRYABLE_REASONS for r in reasons):
                        self._backoff(attempt)
                        continue
                    raise WriteFailed(f"transaction cancelled: {', '.join(reasons)}") from exc
                if code in _RETRYABLE:
                    self._backoff(attempt)
                    continue
                raise
        raise WriteFailed(f"DynamoDB refused the transaction {self.attempts} times (throttled)")

    def _backoff(self, attempt: int) -> None:
        self._throttled += 1
        self._on_wait()
        self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))

    def _known_latest(self, shard_id: str) -> str:
        """The shard's latest event time applied ("" if none): read once, then as written."""
        if shard_id not in self._latest:
            item = self._read_item(latest_key(shard_id))
            self._latest[shard_id] = str(item["t"]["S"]) if item and "t" in item else ""
        return self._latest[shard_id]

    def _read_item(self, key: Key) -> dict[str, Any] | None:
        """One item, read consistently (None if absent)."""
        item: dict[str, Any] | None = self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
            ConsistentRead=True,
        ).get("Item")
        return item

    def _call(self, method: str, **kwargs: Any) -> Any:
        """A single-item call, retried on throttling like the transactions."""
        from botocore.exceptions import ClientError

        for attempt in range(self.attempts):
            try:
                return getattr(self.dynamodb, method)(**kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _RETRYABLE:
                    self._backoff(attempt)
                    continue
                raise
        raise WriteFailed(f"DynamoDB refused {method} {self.attempts} times (throttled)")


def clear_table(dynamodb: Any, table: str) -> int:
    """Delete every item of the metrics table (``ecom run --fresh``); returns how many."""
    deleted = 0
    kwargs: dict[str, Any] = {"TableName": table, "ProjectionExpression": "pk, sk"}
    while True:
        page = dynamodb.scan(**kwargs)
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in page.get("Items", [])]
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
            while requests:
                resp = dynamodb.batch_write_item(RequestItems={table: requests})
                requests = resp.get("UnprocessedItems", {}).get(table, [])
        deleted += len(keys)
        if not page.get("LastEvaluatedKey"):
            return deleted
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
