"""The wire format of Kinesis records: one or more events as UTF-8 CSV lines.

A record's data is one or more lines, each ending in ``\\n``, each the ten landing
columns ``event_id, event_time, event_type, product_id, category_id, category_code,
brand, price, user_id, user_session`` of one valid event in canonical form (the
output of :meth:`ecom.events.Event.to_row`), quoted per RFC 4180 only where a field
contains a comma, quote or line break. A record holding one line is the plain
one-event-per-record format; packing many lines into one record lifts throughput
past the 1,000 records/s per shard limit (see docs/streaming.md).
"""

from __future__ import annotations

import csv
import hashlib
import io

from ecom.contract import HEADER
from ecom.events import Event, parse_fields

#: Kinesis limits (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html).
MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 2**20  # data + partition keys of one PutRecords call
MAX_BYTES_PER_RECORD = 2**20  # data + partition key of one record
#: Landing-row columns carried by a record (ingested_at and source are added by the sink:
#: ecom.load.landing.LANDING_COLUMNS).
RECORD_COLUMNS: tuple[str, ...] = ("event_id", *HEADER)
_SPECIAL = (",", '"', "\n", "\r")


def encode_event(event: Event) -> bytes:
    """One event as a ``\\n``-terminated CSV line (UTF-8)."""
    fields = event.to_row()
    line = ",".join(fields)
    if line.count(",") != 9 or '"' in line or "\n" in line or "\r" in line:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(fields)
        return buf.getvalue().encode("utf-8")
    return (line + "\n").encode("utf-8")


def decode_record(data: bytes) -> list[list[str]]:
    """The lines of a record as lists of fields. Raises ``UnicodeDecodeError`` on bad UTF-8."""
    text = data.decode("utf-8")
    if '"' in text:
        return [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    return [line.split(",") for line in text.split("\n") if line]


def check_rows(rows: list[list[str]]) -> tuple[list[Event], list[tuple[str, str, str]]]:
    """A record's lines, re-validated by the contract (as every consumer of the stream does):
    the valid events, and ``(reason, detail, raw line)`` for each line rejected, including a
    line whose ``event_id`` is not its event's."""
    events: list[Event] = []
    rejected: list[tuple[str, str, str]] = []
    for fields in rows:
        raw = ",".join(fields)
        if len(fields) != len(RECORD_COLUMNS):
            detail = f"expected {len(RECORD_COLUMNS)} fields (event_id + 9), got {len(fields)}"
            rejected.append(("wrong_field_count", detail, raw))
            continue
        outcome = parse_fields((fields[1] + " UTC", *fields[2:]), raw=raw)
        if not isinstance(outcome, Event):
            rejected.append((outcome.reason, outcome.detail, raw))
        elif outcome.event_id != fields[0]:
            detail = f"event_id {fields[0]!r} is not the event's id {outcome.event_id}"
            rejected.append(("event_id_mismatch", detail, raw))
        else:
            events.append(outcome)
    return events, rejected


def partition_key(event: Event) -> str:
    """The session keeps a session's events in order on one shard; the user id when it is missing."""
    return event.user_session or str(event.user_id)


def hash_key(key: str) -> int:
    """Where Kinesis puts a partition key: the 128-bit MD5 of its UTF-8 bytes."""
    return int.from_bytes(hashlib.md5(key.encode("utf-8"), usedforsecurity=False).digest(), "big")
