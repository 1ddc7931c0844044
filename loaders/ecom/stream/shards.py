"""Reading a Kinesis stream shard by shard from checkpoints in DynamoDB.

Two readers share this: the sink (:class:`ecom.stream.sink.Sink`, records to landing
objects) and the real-time event source mapping (:class:`ecom.realtime.poller.Poller`,
records to the metrics handler). :class:`ShardReader` holds what they do alike: the shards
in parent-before-child order, one checkpoint per shard advanced with a conditional write,
``GetRecords`` with its expired-iterator and throttling answers, and the run loop (until
caught up, or until told to stop). What they do with the records is theirs (``_step``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, Self, TypeVar

#: Checkpoint value of a shard read from the start with nothing checkpointed yet.
TRIM_HORIZON = "TRIM_HORIZON"


class ShardLost(RuntimeError):
    """Another reader advanced this shard's checkpoint first."""


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
                    "(another reader has this shard)"
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


#: ``GetRecords`` errors that mean "too fast": the shard waits a second.
THROTTLED = ("ProvisionedThroughputExceededException", "LimitExceededException")


@dataclass
class ShardState:
    """Where a reader stands on one shard."""

    shard_id: str
    checkpoint: Checkpoint
    iterator: str | None = None
    closed: bool = False  # Kinesis lists an ending sequence number
    finished: bool = False  # read to its end, the end checkpointed
    caught_up: bool = False  # the last read was empty at the tip of the shard
    wait_until: float = 0.0  # time.monotonic() before which the shard is not read


class _ReaderConfig(Protocol):
    @property
    def idle_sleep(self) -> float: ...

    @property
    def owner(self) -> str: ...


class _ReaderReport(Protocol):
    checkpoints: int
    shards_finished: list[str]


StateT = TypeVar("StateT", bound=ShardState)
ConfigT = TypeVar("ConfigT", bound=_ReaderConfig)
ReportT = TypeVar("ReportT", bound=_ReaderReport)


class ShardReader(Generic[StateT, ConfigT, ReportT]):
    """Reads every shard of ``stream`` from its checkpoints in ``table``.

    A subclass says how a shard's state and the report start (``_new_state``, ``_new_report``),
    where a shard's iterator starts (``_iterator``) and what one turn on a shard does
    (``_step``: it reads :meth:`_responses`, checkpoints with :meth:`_advance`, marks the end
    with :meth:`_finish` and, when the responses ran out, returns :meth:`_again`).
    """

    #: Prefix of this reader's checkpoint keys (two readers of one stream keep apart).
    lease_prefix = ""

    def __init__(
        self,
        kinesis: Any,
        s3: Any,
        dynamodb: Any,
        *,
        stream: str,
        bucket: str,
        table: str,
        config: ConfigT | None = None,
        progress: Callable[[ReportT], None] | None = None,
    ) -> None:
        self.kinesis = kinesis
        self.s3 = s3
        self.stream = stream
        self.bucket = bucket
        self.config: ConfigT = config or self._default_config()
        self.checkpoints = Checkpoints(
            dynamodb, table, self.lease_prefix + stream, self.config.owner
        )
        self.progress = progress
        self.report: ReportT = self._new_report()
        self.states: dict[str, StateT] = {}
        self._lock = threading.Lock()  # the report, where shards are read in threads at once

    @classmethod
    def on(cls, client: Callable[[str], Any], res: Any, **options: Any) -> Self:
        """The reader of a stack's resources ``res`` (its stream, bucket and checkpoint
        table), with clients from ``client(service)``; ``options`` as for the constructor."""
        return cls(
            client("kinesis"),
            client("s3"),
            client("dynamodb"),
            stream=res.stream,
            bucket=res.bucket,
            table=res.checkpoint_table,
            **options,
        )

    # -- what a subclass says ------------------------------------------------------------------

    def _default_config(self) -> ConfigT:
        raise NotImplementedError

    def _new_report(self) -> ReportT:
        raise NotImplementedError

    def _new_state(self, shard_id: str, checkpoint: Checkpoint) -> StateT:
        raise NotImplementedError

    def _iterator(self, state: StateT) -> str:
        raise NotImplementedError

    def _step(self, state: StateT, until_caught_up: bool) -> bool:
        """One turn on a shard; True when it should be read again at once (it moved, or it
        stopped at its call limit), False when it is caught up or has to wait."""
        raise NotImplementedError

    def _readable(self, state: StateT) -> bool:
        return not state.finished

    def _stopping(self) -> None:
        """Called once when :meth:`run` returns."""

    # -- shared --------------------------------------------------------------------------------

    def list_shards(self) -> list[dict[str, Any]]:
        return list_shards(self.kinesis, self.stream)

    def _ready(self) -> list[StateT]:
        """Readable shards whose parents are all finished, in shard order."""
        ready = []
        for sid, closed in ready_shards(self.list_shards(), self.states, self.checkpoints):
            state = self.states.get(sid)
            if state is None:
                state = self.states[sid] = self._new_state(sid, self.checkpoints.get(sid))
                state.finished = state.checkpoint.shard_end
            state.closed = closed
            if self._readable(state):
                ready.append(state)
        return ready

    def run(
        self, *, until_caught_up: bool = True, should_stop: Callable[[], bool] | None = None
    ) -> ReportT:
        """Read until every shard is caught up (batch mode) or until ``should_stop()`` (follow).

        Batch mode ends after a turn in which every shard was caught up (or done) and none
        finished (a finished parent makes its children ready for the next turn). A turn in
        which no shard moved is followed by a pause of ``config.idle_sleep``."""
        while True:
            ready = self._ready()
            finished_before = len(self.report.shards_finished)
            moved = any(self._step_all(ready, until_caught_up))
            if should_stop is not None and should_stop():
                break
            finished = len(self.report.shards_finished) > finished_before
            done = all(s.caught_up or not self._readable(s) for s in ready)
            if until_caught_up and done and not finished:
                break
            if not (moved or finished):
                time.sleep(self.config.idle_sleep)
        self._stopping()
        return self.report

    def _step_all(self, ready: list[StateT], until_caught_up: bool) -> list[bool]:
        """One turn on every ready shard (one after the other here)."""
        return [self._step(state, until_caught_up) for state in ready]

    def _responses(
        self, state: StateT, limit: Callable[[], int], max_calls: int
    ) -> Iterator[dict[str, Any]]:
        """The shard's ``GetRecords`` responses (``limit()`` records at most each), up to
        ``max_calls`` calls, while the shard need not wait (throttled, or a retry's backoff).
        A ``_step`` that reads them all returns :meth:`_again`."""
        state.caught_up = False
        for _ in range(max_calls):
            if time.monotonic() < state.wait_until:
                return
            response = self._get_records(state, limit())
            if response is not None:
                yield response

    def _again(self, state: StateT, moved: bool) -> bool:
        """What ``_step`` returns after its responses ran out: read again at once when the
        shard moved, or when its calls ran out rather than a wait began."""
        return moved or time.monotonic() >= state.wait_until

    def _get_records(self, state: StateT, limit: int) -> dict[str, Any] | None:
        """``GetRecords`` on the shard's iterator (made first when it has none); None when
        the iterator expired (it is dropped, to be made again) or when Kinesis throttles (the
        shard then waits a second)."""
        from botocore.exceptions import ClientError

        if state.iterator is None:
            state.iterator = self._iterator(state)
        try:
            response = self._fetch(state, state.iterator, limit)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ExpiredIteratorException":
                state.iterator = None
                return None
            if code in THROTTLED:
                state.wait_until = time.monotonic() + 1.0
                return None
            raise
        return response

    def _fetch(self, state: StateT, iterator: str, limit: int) -> dict[str, Any]:
        """One ``GetRecords`` call (a reader may have it under way already)."""
        response: dict[str, Any] = self.kinesis.get_records(ShardIterator=iterator, Limit=limit)
        return response

    def _advance(self, state: StateT, seq: str, shard_end: bool, note: str = "") -> None:
        """Move the shard's checkpoint to ``seq`` (:class:`ShardLost` if another reader did)."""
        self.checkpoints.advance(state.shard_id, state.checkpoint, seq, shard_end, note)
        state.checkpoint = Checkpoint(seq, shard_end, True)
        with self._lock:
            self.report.checkpoints += 1

    def _finish(self, state: StateT) -> None:
        """The shard is read to its end (its end checkpointed)."""
        state.finished = True
        with self._lock:
            self.report.shards_finished.append(state.shard_id)
