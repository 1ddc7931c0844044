"""Faults injected into `ecom run` through botocore event hooks on its real boto3 clients.

The run calls ``on_client(service, client)`` for every client it creates; these objects
register hooks that alter requests before they are sent or responses after they return,
the way a throttled shard, a dropped connection or a dying process would. No project code
is replaced.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from aws_faults import Throttle


class StreamFaults(Throttle):
    """Throttling, duplicated puts and one sink death, attached to the run's clients.

    * **throttling**: ``fraction`` of PutRecords entries (chosen by content and attempt) are
      taken out of the request and reported back as ``ProvisionedThroughputExceededException``
      on their first ``rounds`` attempts;
    * **duplicated puts**: the first ``lost_acks`` PutRecords calls reach Kinesis but their
      responses are lost, so the producer puts the same batch again;
    * **sink restart**: the sink's ``die_at``-th checkpoint write fails as if DynamoDB were
      unreachable: its S3 object is written, its checkpoint is not, and the sink dies.
    """

    def __init__(
        self, *, fraction: float = 0.3, rounds: int = 3, lost_acks: int = 1, die_at: int = 2
    ) -> None:
        super().__init__(None, fraction=fraction, rounds=rounds)
        self.lost_acks_left = lost_acks
        self.die_at = die_at
        self.duplicated_records = 0
        self.checkpoint_writes = 0
        self.sink_deaths = 0

    def __call__(self, service: str, client: Any) -> None:
        if service == "kinesis":
            self.register(client)
        elif service == "dynamodb":
            client.meta.events.register("before-call.dynamodb.PutItem", self._checkpoint)

    def _after(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        if "Records" not in parsed:
            return
        super()._after(parsed, **kwargs)  # the throttled entries back in the response
        if self.lost_acks_left > 0:
            self.lost_acks_left -= 1
            self.duplicated_records += self._total - len(self._dropped)
            raise ConnectionClosedError(endpoint_url="http://kinesis (acknowledgement lost)")

    def _checkpoint(self, **_: Any) -> None:
        self.checkpoint_writes += 1
        if self.checkpoint_writes == self.die_at:
            self.sink_deaths += 1
            raise EndpointConnectionError(endpoint_url="http://dynamodb (sink dies here)")


class DropRecords:
    """Loses the first ``count`` Kinesis records the sink reads: the records never land."""

    def __init__(self, count: int = 1) -> None:
        self.left = count
        self.lines_lost = 0

    def __call__(self, service: str, client: Any) -> None:
        if service == "kinesis":
            client.meta.events.register("after-call.kinesis.GetRecords", self._after)

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        records = parsed.get("Records") or []
        while records and self.left > 0:
            lost = records.pop(0)
            self.lines_lost += lost["Data"].count(b"\n")
            self.left -= 1
