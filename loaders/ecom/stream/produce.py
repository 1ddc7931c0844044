"""``ecom produce``: CSV files through the validator into a :class:`~ecom.stream.producer.Producer`.

:func:`produce_files` streams CSV files in constant memory: invalid rows go to
``quarantine/produce/`` with their reason (the schema of :mod:`ecom.quarantine`), valid
events to the producer, a block of rows at a time (:mod:`ecom.blocks`) or paced row by row
(``rate``). Counts always reconcile: ``read = sent + rejected + dead_lettered``.
"""

from __future__ import annotations

import calendar
import hashlib
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecom import quarantine
from ecom.events import Event, ParseStats, Rejection, read_csv_events
from ecom.stream.producer import Producer

if TYPE_CHECKING:
    from ecom.blocks import BlockReader

QUARANTINE_PREFIX = "quarantine/produce"


@dataclass
class ProduceReport:
    """Outcome of :func:`produce_files`. ``read = sent + rejected + dead_lettered``."""

    files: int = 0
    read: int = 0
    sent: int = 0
    rejected: int = 0
    retried: int = 0
    dead_lettered: int = 0
    records: int = 0
    calls: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    quarantine_keys: list[str] = field(default_factory=list)
    deadletter_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # file-level problems, one line each

    @property
    def reconciles(self) -> bool:
        return self.read == self.sent + self.rejected + self.dead_lettered


def quarantine_key(path: Path) -> str:
    """Deterministic per input file: re-producing the same file rewrites the same object."""
    digest = hashlib.md5(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{QUARANTINE_PREFIX}/{path.name}-{digest}.jsonl"


class _Pacer:
    """Sleeps so events go out at ``rate`` times their original pace (event_time deltas / rate)."""

    def __init__(self, rate: float, producer: Producer) -> None:
        self.rate = rate
        self.producer = producer
        self.t0: float | None = None
        self.w0 = 0.0
        self._minutes: dict[str, int] = {}

    def _epoch(self, event_time: str) -> int:
        minute = event_time[:16]
        base = self._minutes.get(minute)
        if base is None:
            base = calendar.timegm(time.strptime(minute, "%Y-%m-%d %H:%M"))
            if len(self._minutes) > 10_000:
                self._minutes.clear()
            self._minutes[minute] = base
        return base + int(event_time[17:19])

    def wait(self, event: Event) -> None:
        ts = self._epoch(event.event_time)
        if self.t0 is None:
            self.t0, self.w0 = ts, time.monotonic()
            return
        due = self.w0 + max(0.0, ts - self.t0) / self.rate
        ahead = due - time.monotonic()
        if ahead > 0.005:
            self.producer.flush()  # do not hold events back while we wait
            ahead = due - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)


def produce_files(
    paths: Sequence[Path],
    producer: Producer,
    *,
    s3: Any,
    bucket: str,
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> ProduceReport:
    """Validate and send every row of ``paths``; quarantine the invalid ones; flush at the end."""
    report = ProduceReport()
    before = (
        producer.stats.sent,
        producer.stats.dead_lettered,
        producer.stats.retried,
        producer.stats.records,
        producer.stats.calls,
        len(producer.stats.deadletter_keys),
    )
    errors_before = Counter(producer.stats.errors)
    pacer = _Pacer(rate, producer) if rate else None
    reader: BlockReader | None = None  # opened by the first file read in blocks
    for path in paths:
        path = Path(path)
        stats = ParseStats()
        key = quarantine_key(path)
        with (
            tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+b") as quarantine,
            open(path, "rb") as handle,
        ):
            last_pos = 0
            if pacer is None:
                # The fast path: blocks of rows validated together (ecom.blocks).
                if reader is None:
                    from ecom.blocks import BlockReader

                    reader = BlockReader()
                for block in reader.read(handle, stats):
                    for outcome in block.rows or block.rejections:
                        if isinstance(outcome, Rejection):
                            quarantine.write(_quarantine_line(path, outcome))
                        else:
                            producer.put(outcome)
                    producer.put_block(block)
                    if progress is not None:
                        progress(block.nbytes)
                        last_pos += block.nbytes
            else:
                for n, outcome in enumerate(read_csv_events(handle, stats), start=1):
                    if isinstance(outcome, Rejection):
                        quarantine.write(_quarantine_line(path, outcome))
                    else:
                        pacer.wait(outcome)
                        producer.put(outcome)
                    if progress is not None and n & 0xFFF == 0:
                        pos = handle.tell()
                        progress(pos - last_pos)
                        last_pos = pos
            if stats.empty:
                report.notes.append(f"{path}: empty file (no header, no rows); nothing to send")
                quarantine.write(
                    _quarantine_record(path, None, "empty_file", "the file has no rows", "")
                )
            elif stats.header_missing:
                report.notes.append(
                    f"{path}: no REES46 header line; the first line was read as data"
                )
            if stats.rejected:
                report.notes.append(
                    f"{path}: {stats.rejected:,} invalid rows quarantined to s3://{bucket}/{key}"
                )
            if quarantine.tell():
                quarantine.seek(0)
                s3.upload_fileobj(quarantine, bucket, key)
                report.quarantine_keys.append(key)
            if progress is not None:
                progress(path.stat().st_size - last_pos)
        report.files += 1
        report.read += stats.read
        report.rejected += stats.rejected
        report.rejected_by_reason.update(stats.rejected_by_reason)
    if reader is not None:
        reader.close()
    producer.flush()
    ps = producer.stats
    report.sent = ps.sent - before[0]
    report.dead_lettered = ps.dead_lettered - before[1]
    report.retried = ps.retried - before[2]
    report.records = ps.records - before[3]
    report.calls = ps.calls - before[4]
    report.errors = ps.errors - errors_before  # this call's, like every other counter
    report.deadletter_keys = list(ps.deadletter_keys[before[5] :])
    return report


def _quarantine_record(
    path: Path, line_no: int | None, reason: str, detail: str, raw: str
) -> bytes:
    return (quarantine.json_line("produce", str(path), line_no, reason, detail, raw) + "\n").encode(
        "utf-8"
    )


def _quarantine_line(path: Path, rejection: Rejection) -> bytes:
    return _quarantine_record(
        path, rejection.line_no, rejection.reason, rejection.detail, rejection.raw
    )
