"""Helpers of the loader tests: landing objects in the contract's format, on a real moto S3 server."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ecom.events import Event, parse_fields

LANDING_HEADER = (
    "event_id,event_time,event_type,product_id,category_id,category_code,brand,price,"
    "user_id,user_session,ingested_at,source"
)


@dataclass
class Landing:
    """One test's landing bucket on the moto server, and a client to it."""

    client: Any
    bucket: str
    endpoint: str

    def put(self, key: str, body: bytes) -> str:
        return str(self.client.put_object(Bucket=self.bucket, Key=key, Body=body)["ETag"]).strip(
            '"'
        )

    def put_events(self, key: str, events: Iterable[Event], *, source: str = "stream") -> str:
        return self.put(key, landing_csv(events, source=source))

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


def landing_rows(events: Iterable[Event], *, source: str = "stream") -> list[list[str]]:
    return [[*e.to_row(), "2026-01-01 00:00:00.000001", source] for e in events]


def landing_csv(events: Iterable[Event], *, source: str = "stream") -> bytes:
    """A landing-zone object as the sink writes it: gzip CSV with header, contract columns."""
    return gzip_csv(landing_rows(events, source=source))


def gzip_csv(rows: Iterable[list[str]], header: str = LANDING_HEADER) -> bytes:
    text = io.StringIO()
    text.write(header + "\n")
    csv.writer(text, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode(), mtime=0)


def make_event(i: int, *, event_type: str = "view", price: str = "1.50") -> Event:
    """A valid event, distinct for each ``i``."""
    outcome = parse_fields(
        [
            f"2019-10-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} UTC",
            event_type,
            str(5_000_000 + i),
            "1487580005092295511",
            "" if i % 3 else "apparel.glove",
            "" if i % 2 else "runail",
            price,
            str(400_000_000 + i % 97),
            f"session-{i % 13}",
        ]
    )
    assert isinstance(outcome, Event)
    return outcome


def stream_key(day: str, shard: str, seq: int) -> str:
    return f"landing/events/source=stream/dt={day}/shard={shard}/{seq:056d}.csv.gz"


def run_at_once(script: str, n: int = 2, timeout: float = 180) -> list[dict[str, Any]]:
    """Start ``n`` Python processes on ``script`` together (this test's environment); when all
    have exited 0, the JSON each printed last."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=dict(os.environ), stdout=subprocess.PIPE
        )
        for _ in range(n)
    ]
    outputs = [p.communicate(timeout=timeout)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * n
    return [json.loads(out.splitlines()[-1]) for out in outputs]
