"""Load REES46 CSV files straight into the local warehouse, bypassing the stream.

This is the quickest path from files to marts (``make demo`` before the stream
exists, and tests of the dbt project). Rows go through the same parser and
validator as every other path; rejected rows are written to a quarantine file
with their reason, and ``read = loaded + rejected`` holds for every file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pyarrow as pa

from ecom import quarantine as quarantine_records
from ecom.events import Event, ParseStats, Rejection, read_csv_events
from ecom.warehouse import RAW_EVENT_COLUMNS, connect_duckdb, local_state_dir

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 100_000


@dataclass
class FileLoadReport:
    files: int = 0
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    quarantine: str | None = None

    def add_file(self, stats: ParseStats) -> None:
        """Count one loaded file's rows."""
        self.files += 1
        self.read += stats.read
        self.loaded += stats.accepted
        self.rejected += stats.rejected
        for reason, n in stats.rejected_by_reason.items():
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + n

    def finish_quarantine(self, path: Path) -> None:
        """Name the quarantine file when rows were rejected; otherwise remove the empty file."""
        if self.rejected:
            self.quarantine = str(path)
        else:
            path.unlink(missing_ok=True)


def _batch(events: list[Event], source_object: str, loaded_at: datetime) -> pa.Table:
    cols = list(zip(*(e.to_row() for e in events), strict=True))
    n = len(events)
    return pa.table(
        {
            "event_id": pa.array(cols[0], pa.string()),
            "event_time": pa.array(cols[1], pa.string()),
            "event_type": pa.array(cols[2], pa.string()),
            "product_id": pa.array([e.product_id for e in events], pa.int64()),
            "category_id": pa.array([e.category_id for e in events], pa.int64()),
            "category_code": pa.array([e.category_code for e in events], pa.string()),
            "brand": pa.array([e.brand for e in events], pa.string()),
            "price": pa.array(cols[7], pa.string()),
            "user_id": pa.array([e.user_id for e in events], pa.int64()),
            "user_session": pa.array([e.user_session for e in events], pa.string()),
            "source": pa.array(["file"] * n, pa.string()),
            "source_object": pa.array([source_object] * n, pa.string()),
            "loaded_at": pa.array([loaded_at] * n, pa.timestamp("us")),
        }
    )


def rejection_line(path: Path, rejection: Rejection) -> str:
    """The quarantine line (with its newline) of a row of ``path`` the event contract rejected."""
    return (
        quarantine_records.json_line(
            "load-files",
            str(path),
            rejection.line_no,
            rejection.reason,
            rejection.detail,
            rejection.raw,
        )
        + "\n"
    )


def new_quarantine_path(quarantine_dir: Path | None = None) -> Path:
    """A new quarantine file of one load, ``files-<UTC time>.jsonl`` in ``quarantine_dir``
    (made if missing; default ``.ecom/quarantine``)."""
    folder = quarantine_dir or local_state_dir() / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"files-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.jsonl"


def event_batches(path: Path, stats: ParseStats, quarantine: TextIO) -> Iterator[list[Event]]:
    """The valid events of ``path`` in lists of up to :data:`BATCH_ROWS`, each rejected row
    written to ``quarantine`` (``stats`` counts them all once the batches are read)."""
    batch: list[Event] = []
    for outcome in read_csv_events(path, stats):
        if isinstance(outcome, Rejection):
            quarantine.write(rejection_line(path, outcome))
            continue
        batch.append(outcome)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


#: Loads one file in one transaction: ``(path, key, size, loaded_at, stats, quarantine)``;
#: False when the file was loaded before (same name and size), and nothing was done.
LoadOne = Callable[[Path, str, int, datetime, ParseStats, TextIO], bool]


def load_each_file(
    paths: Sequence[Path],
    load_one: LoadOne,
    *,
    quarantine_dir: Path | None = None,
    loaded_at: datetime | None = None,
) -> FileLoadReport:
    """What the load-files loaders (DuckDB here, PostgreSQL in :mod:`ecom.pg.load`) share:
    each file through ``load_one`` with its name, size, load time (``loaded_at``, else now,
    naive UTC) and a fresh :class:`ParseStats`; rejected rows to one quarantine file."""
    report = FileLoadReport()
    quarantine_path = new_quarantine_path(quarantine_dir)
    with open(quarantine_path, "w", encoding="utf-8") as quarantine:
        for path in map(Path, paths):
            stats = ParseStats()
            at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
            if load_one(path, path.name, path.stat().st_size, at, stats, quarantine):
                report.add_file(stats)
            else:
                report.skipped_files.append(str(path))
    report.finish_quarantine(quarantine_path)
    return report


def load_files(
    paths: Sequence[Path],
    *,
    db_path: Path | None = None,
    quarantine_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    loaded_at: datetime | None = None,
) -> FileLoadReport:
    """Parse, validate and insert the files' events into raw.events, one transaction per file.

    A file already loaded (same name and size, recorded in raw.file_loads) is skipped,
    so loading the same files twice changes nothing. ``loaded_at`` (naive UTC) stamps every
    row instead of the time of each file's load (the engine parity test loads two warehouses
    at the same instant).
    """
    con = connect_duckdb(db_path)
    con.execute(
        "create table if not exists raw.file_loads (file varchar, bytes bigint, rows_read bigint,"
        " rows_loaded bigint, rows_rejected bigint, loaded_at timestamp, primary key (file, bytes))"
    )
    columns = ", ".join(RAW_EVENT_COLUMNS)

    def load_one(
        path: Path, key: str, size: int, at: datetime, stats: ParseStats, quarantine: TextIO
    ) -> bool:
        seen = con.execute(
            "select 1 from raw.file_loads where file = ? and bytes = ?", [key, size]
        ).fetchone()
        if seen:
            return False
        con.execute("begin")
        try:
            _load_one(con, path, key, size, at, stats, quarantine, columns, progress)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        return True

    try:
        return load_each_file(paths, load_one, quarantine_dir=quarantine_dir, loaded_at=loaded_at)
    finally:
        con.close()


def _load_one(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key: str,
    size: int,
    loaded_at: datetime,
    stats: ParseStats,
    quarantine: TextIO,
    columns: str,
    progress: Callable[[int], None] | None,
) -> None:
    for batch in event_batches(path, stats, quarantine):
        _insert_batch(con, batch, key, loaded_at, columns)
        if progress:
            progress(len(batch))
        del batch  # else this loop variable holds the last batch while the next one is read
    con.execute(
        "insert into raw.file_loads values (?, ?, ?, ?, ?, ?)",
        [key, size, stats.read, stats.accepted, stats.rejected, loaded_at],
    )


def _insert_batch(
    con: duckdb.DuckDBPyConnection, batch: list[Event], key: str, loaded_at: datetime, columns: str
) -> None:
    """``batch`` into raw.events. A function of its own: DuckDB finds ``events_batch`` by a scan
    of the caller's variables that keeps a copy of them (``frame.f_locals``) while the frame
    lives, so in the loop's own frame the batch and its table stayed alive while the next
    batch was read (peak memory of a 2-file load-files 430 MiB vs 370)."""
    events_batch = _batch(batch, key, loaded_at)  # noqa: F841  (DuckDB reads it by name)
    con.execute(f"insert into raw.events ({columns}) select {columns} from events_batch")
