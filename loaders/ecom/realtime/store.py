"""Writing deltas to the metrics table exactly once per ``event_id``.

The scheme (the argument is in docs/realtime.md):

1. Read the hour items the batch's events fall in (consistent reads): their version
   ``ver`` and ``ev``, which holds an entry (starting with 64 bits of the event_id) for every
   event already applied to them.
2. Drop the events already seen (a redelivered batch, a copy put twice by the producer, an
   exact duplicate row), and copies inside the batch itself.
3. Apply the rest with ``TransactWriteItems``: in one transaction, every delta of a group of
   events *and* the entries of those events added to their hour's ``ev``, each hour item
   conditioned on the version read in step 1 (and the version bumped). The last group also
   moves the shard's position. The transaction commits whole or not at all; if another
   writer touched one of the hours in between, it is cancelled and the batch goes back to 1.

So an event's figures move exactly when its entry enters ``ev``, and only from a state where
it was not there: never twice, never partly. Throttling (``ProvisionedThroughputExceeded``
and friends) is retried with backoff; what still fails raises :class:`WriteFailed` and the
handler reports the batch's unapplied records as ``batchItemFailures``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecom.events import Event
from ecom.realtime.model import (
    EVENT_CLAUSES,
    FINE_TTL_SECONDS,
    LATEST_KEY,
    SEEN_DIGITS,
    ItemDelta,
    Key,
    add_event,
    hour_key,
    position_key,
    seen_id,
    touched,
)

#: TransactWriteItems takes at most 100 items; one place is kept for the shard position.
MAX_ITEMS = 90
#: ADD/SET clauses per item per transaction: each UpdateExpression stays well under DynamoDB's
#: 4 KB, and under the ~150 clauses at which the emulator's expression parser recurses too deep.
MAX_CLAUSES = 120
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


class WriteFailed(RuntimeError):
    """DynamoDB refused a write after every retry (the batch is reported as failed)."""


class _Conflict(Exception):
    """Another writer changed an hour item between our read and our transaction."""


class _PositionAhead(Exception):
    """The shard position is already at or past this batch."""


@dataclass
class ApplyResult:
    applied: int = 0  # distinct events whose deltas were committed by this call
    duplicates: int = 0  # events skipped: already applied, or a copy inside the batch
    transactions: int = 0
    writes: int = 0  # item writes (each item of a transaction, each single update)
    throttled: int = 0  # attempts DynamoDB refused and that were retried
    conflicts: int = 0


def padded(seq: str) -> str:
    return seq.rjust(SEQ_WIDTH, "0")


def _name(i: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        i, r = divmod(i, 36)
        out = digits[r] + out
        if not i:
            return out


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
        max_clauses: int = MAX_CLAUSES,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_items = max_items
        self.max_clauses = max_clauses
        self.sleep = sleep
        self.clock = clock

    # -- reads ---------------------------------------------------------------------------------

    def position(self, stream: str, shard_id: str) -> str | None:
        """The last sequence number applied from ``shard_id`` (unpadded), or None."""
        pk, sk = position_key(stream, shard_id)
        item = self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            ConsistentRead=True,
        ).get("Item")
        if not item or "seq" not in item:
            return None
        return str(item["seq"]["S"]).lstrip("0") or "0"

    def _read_hours(self, keys: set[Key]) -> dict[Key, tuple[int | None, set[str]]]:
        """Version and seen ids of each hour item (``(None, set())`` when it does not exist)."""
        out: dict[Key, tuple[int | None, set[str]]] = {k: (None, set()) for k in keys}
        todo = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in sorted(keys)]
        while todo:
            chunk, todo = todo[:100], todo[100:]
            request: dict[str, Any] = {
                self.table: {
                    "Keys": chunk,
                    "ConsistentRead": True,
                    "ProjectionExpression": "pk, sk, ver, ev",
                }
            }
            while request:
                resp = self._call("batch_get_item", RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    key = (item["pk"]["S"], item["sk"]["S"])
                    ver = int(item["ver"]["N"]) if "ver" in item else None
                    entries = item.get("ev", {}).get("SS", [])
                    out[key] = (ver, {e[:SEEN_DIGITS] for e in entries})
                request = resp.get("UnprocessedKeys") or {}
                if request:
                    self.sleep(self.base_delay)
        return out

    # -- the exactly-once write ----------------------------------------------------------------

    def apply(
        self, events: list[Event], *, stream: str, shard_id: str, last_seq: str | None
    ) -> ApplyResult:
        """Apply ``events`` (in order) exactly once; move the shard's position to ``last_seq``."""
        result = ApplyResult()
        unique: dict[str, Event] = {}
        for event in events:
            unique.setdefault(event.event_id, event)
        result.duplicates = len(events) - len(unique)
        pending = list(unique.values())
        with_position = last_seq is not None
        for _ in range(50):
            state = self._read_hours({hour_key(e) for e in pending})
            fresh = [e for e in pending if seen_id(e.event_id) not in state[hour_key(e)][1]]
            result.duplicates += len(pending) - len(fresh)
            pending = fresh
            versions = {k: v for k, (v, _) in state.items()}
            groups = self._groups(pending) or [([], {})]
            try:
                for i, (group, deltas) in enumerate(groups):
                    last = i == len(groups) - 1
                    seq = last_seq if (last and with_position) else None
                    try:
                        written = self._commit(deltas, versions, stream, shard_id, seq)
                    except _PositionAhead:
                        with_position = False
                        written = self._commit(deltas, versions, stream, shard_id, None)
                    result.transactions += 1 if written else 0
                    result.writes += written
                    result.applied += len(group)
                    done = {e.event_id for e in group}
                    pending = [e for e in pending if e.event_id not in done]
            except _Conflict:
                result.conflicts += 1
                continue
            result.throttled += self._throttled
            self._throttled = 0
            if result.applied:
                result.writes += self._touch_latest(max(e.event_time for e in events))
            return result
        raise WriteFailed("the hour items kept changing under this batch (50 conflicts)")

    _throttled = 0

    def _groups(self, events: list[Event]) -> list[tuple[list[Event], dict[Key, ItemDelta]]]:
        """Split ``events`` so that each transaction stays within DynamoDB's limits; each group
        with its deltas (every event aggregated once)."""
        groups: list[tuple[list[Event], dict[Key, ItemDelta]]] = []
        group: list[Event] = []
        deltas: dict[Key, ItemDelta] = {}
        for event in events:
            keys = touched(event)
            new = sum(1 for k in keys if k not in deltas)
            full = len(deltas) + new > self.max_items or any(
                k in deltas and deltas[k].clauses > self.max_clauses - EVENT_CLAUSES for k in keys
            )
            if full and group:
                groups.append((group, deltas))
                group, deltas = [], {}
            group.append(event)
            add_event(deltas, event)
        if group:
            groups.append((group, deltas))
        return groups

    def _commit(
        self,
        deltas: dict[Key, ItemDelta],
        versions: dict[Key, int | None],
        stream: str,
        shard_id: str,
        last_seq: str | None,
    ) -> int:
        """One transaction: the group's deltas, its entries into ``ev``, and the position."""
        expires = int(self.clock()) + FINE_TTL_SECONDS
        items: list[dict[str, Any]] = []
        hours: list[Key] = []
        for key, delta in deltas.items():
            if delta.hour:
                hours.append(key)
                items.append({"Update": self._update(key, delta, versions.get(key), expires)})
            else:
                items.append({"Update": self._update(key, delta, None, None)})
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
            return 0
        self._transact(items, position_index)
        for key in hours:
            old = versions.get(key)
            versions[key] = (old or 0) + 1
        return len(items)

    def _update(
        self, key: Key, delta: ItemDelta, version: int | None, expires: int | None
    ) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds: list[str] = []
        sets: list[str] = []
        n = 0

        def slot(attr: str, value: Any) -> str:
            nonlocal n
            tag = _name(n)
            n += 1
            names[f"#{tag}"] = attr
            values[f":{tag}"] = value
            return f"#{tag} :{tag}"

        for attr, num in delta.numbers.items():
            if num:
                adds.append(slot(attr, {"N": str(num)}))
        for attr, strs in delta.string_sets.items():
            adds.append(slot(attr, {"SS": sorted(strs)}))
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
        }
        if delta.hour:
            sets.append(slot("ver", {"N": str((version or 0) + 1)}).replace(" ", " = "))
            sets.append(slot("expires_at", {"N": str(expires)}).replace(" ", " = "))
            if version is None:
                update["ConditionExpression"] = "attribute_not_exists(ver)"
            else:
                values[":old"] = {"N": str(version)}
                update["ConditionExpression"] = "ver = :old"
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets) + " "
        if adds:
            expression += "ADD " + ", ".join(adds)
        update["UpdateExpression"] = expression.strip()
        update["ExpressionAttributeNames"] = names
        update["ExpressionAttributeValues"] = values
        return update

    def _transact(self, items: list[dict[str, Any]], position_index: int | None) -> None:
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
                        raise _Conflict() from exc
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
        self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))

    def _touch_latest(self, event_time: str) -> int:
        """Remember the latest event time applied (for "active now"); 1 write, 0 if not later."""
        from botocore.exceptions import ClientError

        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={"pk": {"S": LATEST_KEY[0]}, "sk": {"S": LATEST_KEY[1]}},
                UpdateExpression="SET t = :t",
                ConditionExpression="attribute_not_exists(t) OR t < :t",
                ExpressionAttributeValues={":t": {"S": event_time}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return 0
            raise
        return 1

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
