"""Which open shard of a Kinesis stream owns a partition key's hash (for packing by shard)."""

from __future__ import annotations

import bisect
import time
from typing import Any

from ecom.errors import EcomError


class StreamNotFound(EcomError):
    """The stream does not exist: a configuration problem, not something to dead-letter."""


class ShardRouter:
    """Maps a partition key to the open shard owning its hash (for packing by shard)."""

    def __init__(self, kinesis: Any, stream: str) -> None:
        self._kinesis = kinesis
        self._stream = stream
        self.refresh()

    def refresh(self) -> None:
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamName": self._stream}
        while True:
            try:
                resp = self._kinesis.list_shards(**kwargs)
            except self._kinesis.exceptions.ResourceNotFoundException as exc:
                raise StreamNotFound(f"stream {self._stream!r} not found") from exc
            shards.extend(resp["Shards"])
            token = resp.get("NextToken")
            if not token:
                break
            kwargs = {"NextToken": token}
        open_shards = [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
        open_shards.sort(key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
        self.starts = [int(s["HashKeyRange"]["StartingHashKey"]) for s in open_shards]
        self.shard_ids = [s["ShardId"] for s in open_shards]
        self.refreshed_at = time.monotonic()

    def route(self, key_hash: int) -> int:
        return max(0, bisect.bisect_right(self.starts, key_hash) - 1)
