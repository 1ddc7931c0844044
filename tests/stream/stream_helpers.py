"""Test helpers for the stream: fault injection with botocore event hooks (throttling lives in
``tests/aws_faults.py``), and landing-zone readers.

The faults act on real boto3 clients talking to a real moto server: requests are
altered before they are sent, or responses after they come back, the way a throttled
shard, a dropped connection or a killed process would alter them. No project code is
replaced.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ConnectionClosedError

from ecom.events import Event, read_csv_events
from ecom.stream.sink import LANDING_PREFIX

#: Fast retries for tests (the production default starts at 100 ms).


class LoseAcknowledgement:
    """Lets the first ``times`` PutRecords calls reach Kinesis, then drops their responses.

    The records are in the stream, but the producer sees a closed connection and must
    put the same batch again: the stream then holds copies.
    """

    def __init__(self, client: Any, *, times: int = 1) -> None:
        self.left = times
        self.lost_records = 0
        client.meta.events.register("after-call.kinesis.PutRecords", self._after)

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.left > 0 and "Records" in parsed:
            self.left -= 1
            self.lost_records += len(parsed["Records"])
            raise ConnectionClosedError(endpoint_url="http://kinesis (acknowledgement dropped)")


class SimulatedCrash(BaseException):
    """The process dies here: nothing catches it, nothing after it runs."""


class CrashBeforeCheckpoint:
    """Kills the sink at its ``nth`` checkpoint write: after the S3 write, before DynamoDB."""

    def __init__(self, dynamodb: Any, *, nth: int = 1) -> None:
        self.nth = nth
        self.seen = 0
        dynamodb.meta.events.register("before-call.dynamodb.PutItem", self._before)

    def _before(self, **_: Any) -> None:
        self.seen += 1
        if self.seen == self.nth:
            raise SimulatedCrash(f"killed before checkpoint write #{self.nth}")


# -- reading results ------------------------------------------------------------------------


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(keys)


def landing_rows(s3: Any, bucket: str) -> list[dict[str, str]]:
    """Every row of every landing object (copies included)."""
    rows: list[dict[str, str]] = []
    for key in list_keys(s3, bucket, LANDING_PREFIX + "/"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        text = gzip.decompress(body).decode("utf-8")
        rows.extend(csv.DictReader(io.StringIO(text, newline="")))
    return rows


def jsonl(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in list_keys(s3, bucket, prefix):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        out.extend(json.loads(line) for line in body.splitlines() if line)
    return out


def valid_events(paths: list[Path]) -> list[Event]:
    """The events the contract accepts from ``paths`` (what the landing zone must hold)."""
    return [e for p in paths for e in read_csv_events(p) if isinstance(e, Event)]
