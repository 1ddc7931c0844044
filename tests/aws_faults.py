"""Faults injected into real boto3 clients with botocore event hooks, shared by the tests.

Requests are altered before they are sent, or responses after they come back, the way a
throttled shard would alter them. No project code is replaced.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any


class Throttle:
    """Throttles a share of PutRecords entries on their first ``rounds`` attempts.

    A throttled entry is removed from the request before it is sent (it never reaches
    Kinesis) and its result is put back into the response as Kinesis reports a throttled
    entry: ``ErrorCode = ProvisionedThroughputExceededException`` and ``FailedRecordCount``
    raised. Which entries: deterministic by (content, attempt), ``fraction`` of them.
    ``rounds=None`` throttles the chosen entries forever (they must end as dead letters).
    """

    def __init__(
        self,
        client: Any | None,
        *,
        fraction: float = 0.3,
        rounds: int | None = 3,
        code: str = "ProvisionedThroughputExceededException",
    ) -> None:
        self.fraction = fraction
        self.rounds = rounds
        self.code = code
        self.attempts: Counter[bytes] = Counter()
        self.throttled = 0
        self.calls = 0
        self._dropped: list[int] = []
        self._total = 0
        if client is not None:
            self.register(client)

    def register(self, client: Any) -> None:
        """Throttle the PutRecords calls of ``client`` (a boto3 Kinesis client)."""
        client.meta.events.register("before-parameter-build.kinesis.PutRecords", self._before)
        client.meta.events.register("after-call.kinesis.PutRecords", self._after)

    def _chosen(self, data: bytes, attempt: int) -> bool:
        if self.rounds is not None and attempt >= self.rounds:
            return False
        salt = b"" if self.rounds is None else str(attempt).encode()
        digest = hashlib.md5(data + salt, usedforsecurity=False).digest()
        return int.from_bytes(digest[:4], "big") < self.fraction * 2**32

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        records = params["Records"]
        dropped = []
        for i, record in enumerate(records):
            key = hashlib.md5(record["Data"], usedforsecurity=False).digest()
            attempt = self.attempts[key]
            self.attempts[key] += 1
            if self._chosen(record["Data"], attempt):
                dropped.append(i)
        if len(dropped) == len(records):
            dropped = dropped[1:]  # Kinesis rejects an empty call: let the first entry through
        self._dropped = dropped
        self._total = len(records)
        skip = set(dropped)
        params["Records"] = [r for i, r in enumerate(records) if i not in skip]
        self.calls += 1

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Records" not in parsed:
            return
        dropped = set(self._dropped)
        sent = iter(parsed["Records"])
        merged = []
        for i in range(self._total):
            if i in dropped:
                merged.append({"ErrorCode": self.code, "ErrorMessage": "Rate exceeded (injected)"})
            else:
                merged.append(next(sent))
        parsed["Records"] = merged
        parsed["FailedRecordCount"] = parsed.get("FailedRecordCount", 0) + len(dropped)
        self.throttled += len(dropped)
