"""Kinesis event-source records -> valid events and quarantine entries.

A Lambda event source mapping delivers ``{"Records": [{"kinesis": {"data": <base64>,
"sequenceNumber": ..., "partitionKey": ...}, "eventID": "<shard id>:<seq>",
"eventSourceARN": "arn:aws:kinesis:<region>:<account>:stream/<name>"}, ...]}``. Each
record's data is the project's record format (:mod:`ecom.stream.records`: one or more
CSV lines, packed records included); every line is re-validated with the contract's
validator (:mod:`ecom.events`) and its ``event_id`` checked, as the sink does.

Format versions: today's records carry no version marker (version 1). A later format
must begin with a marker line ``#ecom-record/<n>``; this reader accepts ``#ecom-record/1``
and quarantines a newer version whole (reason ``unsupported_record_version``) instead of
guessing at its columns.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from ecom.events import Event
from ecom.stream.records import check_rows, decode_record

#: The format version this reader understands.
RECORD_VERSION = 1
_MARKER = re.compile(rb"#ecom-record/(\d{1,6})\r?\n")


@dataclass(frozen=True)
class Quarantined:
    """One rejected line (or a whole record) with its reason."""

    reason: str
    detail: str
    raw: str


@dataclass
class DecodedRecord:
    """One Kinesis record: where it came from, its valid events and what was rejected."""

    sequence_number: str
    partition_key: str
    events: list[Event] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return len(self.events) + len(self.quarantined)


def shard_of(record: dict[str, Any]) -> str:
    """The shard id of an event-source record (``eventID`` is ``<shard id>:<sequence number>``)."""
    return str(record.get("eventID", "")).split(":", 1)[0]


def stream_of(record: dict[str, Any]) -> str:
    """The stream name of an event-source record (the end of ``eventSourceARN``)."""
    return str(record.get("eventSourceARN", "")).rsplit("/", 1)[-1]


def decode_data(data: bytes) -> tuple[list[Event], list[Quarantined]]:
    """The events of one record's data, and its rejected lines (never raises)."""
    marker = _MARKER.match(data)
    if marker is not None:
        version = int(marker.group(1))
        if version != RECORD_VERSION:
            return [], [
                Quarantined(
                    "unsupported_record_version",
                    f"record format version {version}; this processor reads version "
                    f"{RECORD_VERSION} (upgrade it, then replay the quarantined records)",
                    data[:4096].decode("utf-8", errors="backslashreplace"),
                )
            ]
        data = data[marker.end() :]
    try:
        rows = decode_record(data)
    except UnicodeDecodeError as exc:
        return [], [
            Quarantined(
                "invalid_utf8",
                f"record is not UTF-8 at byte {exc.start}",
                data[:4096].decode("utf-8", errors="backslashreplace"),
            )
        ]
    if not rows:
        return [], [Quarantined("empty_record", "the record holds no event line", "")]
    events, rejected = check_rows(rows)
    return events, [Quarantined(reason, detail, raw) for reason, detail, raw in rejected]


def decode(record: dict[str, Any]) -> DecodedRecord:
    """Decode one event-source record (base64 data) into events and quarantine entries."""
    kinesis = record.get("kinesis") or {}
    out = DecodedRecord(
        str(kinesis.get("sequenceNumber", "")), str(kinesis.get("partitionKey", ""))
    )
    try:
        # strict: only the base64 alphabet and its padding (base64.b64decode's validate=True,
        # checked in C instead of by a regular expression over the whole record)
        data = binascii.a2b_base64(kinesis.get("data") or "", strict_mode=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raw = str(kinesis.get("data"))[:4096]
        out.quarantined.append(
            Quarantined("invalid_base64", f"record data is not base64: {exc}", raw)
        )
        return out
    out.events, out.quarantined = decode_data(data)
    return out
