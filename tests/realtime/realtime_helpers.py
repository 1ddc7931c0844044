"""Helpers of the stream processor's tests: run it against a real moto stack, and the figures
it must reach, computed here independently from the source files."""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from aws_fixtures import AwsStack
from ecom.events import Event, read_csv_events
from ecom.realtime.handler import Processor
from ecom.realtime.poller import Poller, PollerConfig
from ecom.realtime.query import MetricsReader
from stream_data import produce_to, stream_reader

METRICS = ("view", "cart", "remove_from_cart", "purchase", "units", "rev", "neg")


def metrics_table(stack: AwsStack) -> str:
    return stack.outputs["MetricsTableName"]


def produce(
    stack: AwsStack, paths: list[Path], *, kinesis: Any = None, pack_bytes: int = 4096
) -> Any:
    return produce_to(stack, paths, kinesis=kinesis, pack_bytes=pack_bytes, seed=1)


def processor(stack: AwsStack, *, dynamodb: Any = None, s3: Any = None, **kwargs: Any) -> Processor:
    kwargs.setdefault("base_delay", 0.001)
    kwargs.setdefault("max_delay", 0.005)
    return Processor(
        dynamodb or stack.client("dynamodb"),
        s3 or stack.client("s3"),
        table=metrics_table(stack),
        bucket=stack.bucket,
        **kwargs,
    )


def poller(
    stack: AwsStack, handler: Any, *, dynamodb: Any = None, kinesis: Any = None, **config: Any
) -> Poller:
    config.setdefault("retry_delay", 0.001)
    return Poller(
        **stream_reader(stack, kinesis=kinesis, dynamodb=dynamodb),
        table=stack.checkpoint_table,
        handler=handler,
        config=PollerConfig(**config),
    )


def reader(stack: AwsStack) -> MetricsReader:
    return MetricsReader(stack.client("dynamodb"), metrics_table(stack))


def distinct_events(paths: Iterable[Path]) -> dict[str, Event]:
    out: dict[str, Event] = {}
    for path in paths:
        for outcome in read_csv_events(path):
            if isinstance(outcome, Event):
                out.setdefault(outcome.event_id, outcome)
    return out


def expected_figures(events: Iterable[Event]) -> dict[str, dict[str, Any]]:
    """Per day: shop totals, per category_code and per brand ('(none)' when missing)."""
    days: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "total": dict.fromkeys(METRICS, 0),
            "category": defaultdict(lambda: defaultdict(int)),
            "brand": defaultdict(lambda: defaultdict(int)),
        }
    )
    for e in events:
        day = days[e.event_time[:10]]
        price = Decimal(e.price)
        figures = {e.event_type: 1}
        if e.event_type == "purchase":
            figures["units"] = int(price >= 0)
            figures["rev"] = int(price * 100) if price > 0 else 0
            figures["neg"] = int(price < 0)
        for name, n in figures.items():
            day["total"][name] += n
            if name != "neg":
                day["category"][e.category_code or "(none)"][name] += n
                day["brand"][e.brand or "(none)"][name] += n
    return {
        d: {
            "total": v["total"],
            "category": _clean(v["category"]),
            "brand": _clean(v["brand"]),
        }
        for d, v in days.items()
    }


def _clean(rows: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: {m: n for m, n in v.items() if n} for k, v in rows.items()}


def actual_figures(stack: AwsStack) -> dict[str, dict[str, Any]]:
    r = reader(stack)
    out = {}
    for day in r.days():
        f = r.day_figures(day)
        out[day] = {
            "total": f["total"],
            "category": _clean(f["category"]),
            "brand": _clean(f["brand"]),
        }
    return out


def esm_record(
    stream_arn: str, shard_id: str, seq: str, data: bytes, key: str = "k"
) -> dict[str, Any]:
    """One record in the shape a Kinesis event source mapping delivers."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": key,
            "sequenceNumber": seq,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": 1_700_000_000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{seq}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
        "eventSourceARN": stream_arn,
    }


class SimulatedCrash(BaseException):
    """The process dies here: nothing catches it, nothing after it runs."""


class CrashAfter:
    """Kills the process right after the ``nth`` call of ``operation`` reached the server (or
    right before it left, ``when="before"``): that call and every later call of the client
    raise, as nothing of a dead process reaches AWS (the poller's other shard threads too)."""

    def __init__(self, client: Any, operation: str, *, nth: int = 1, when: str = "after") -> None:
        self.nth = nth
        self.calls = 0
        self.dead = False
        service = client.meta.service_model.service_name
        event = f"{'after-call' if when == 'after' else 'before-call'}.{service}.{operation}"
        client.meta.events.register(event, self._hook)
        client.meta.events.register(f"before-call.{service}", self._after_death)

    def _after_death(self, **_: Any) -> None:
        if self.dead:
            raise SimulatedCrash("the process is dead")

    def _hook(self, **_: Any) -> None:
        if self.dead:
            return  # raised by _after_death already
        self.calls += 1
        if self.calls == self.nth:
            self.dead = True
            raise SimulatedCrash(f"killed at call {self.nth}")


class ThrottleDynamo:
    """``ProvisionedThroughputExceededException`` for the first ``times`` calls of ``operation``,
    answered before the request leaves (nothing reaches the table)."""

    def __init__(
        self, client: Any, operation: str = "TransactWriteItems", *, times: int = 3
    ) -> None:
        self.left = times
        self.throttled = 0
        client.meta.events.register(f"before-call.dynamodb.{operation}", self._before)

    def _before(self, **_: Any) -> Any:
        if self.left <= 0:
            return None
        self.left -= 1
        self.throttled += 1
        from botocore.awsrequest import AWSResponse

        response = AWSResponse("http://dynamodb (throttled)", 400, {}, None)
        error = {
            "Error": {
                "Code": "ProvisionedThroughputExceededException",
                "Message": "The level of configured provisioned throughput was exceeded (injected)",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return response, error


class LoseAcknowledgement:
    """The first ``times`` PutRecords calls reach Kinesis, then their responses are dropped:
    the producer puts the same batch again (the stream holds copies)."""

    def __init__(self, client: Any, *, times: int = 1) -> None:
        self.left = times
        client.meta.events.register("after-call.kinesis.PutRecords", self._after)

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        from botocore.exceptions import ConnectionClosedError

        if self.left > 0 and "Records" in parsed:
            self.left -= 1
            raise ConnectionClosedError(endpoint_url="http://kinesis (acknowledgement dropped)")
