"""What every load target shares: the report, the plan (landing objects minus the audit), the lock."""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ecom.errors import EcomError
from ecom.load.landing import LandingObject

#: Called with (objects done, objects total, note) while a load runs.
ProgressFn = Callable[[int, int, str], None]


class LoadError(EcomError):
    """A load could not run (configuration, lock, unreachable warehouse); nothing was committed."""


class LockTimeout(LoadError):
    """Another loader (or dbt) held the warehouse for longer than the lock timeout."""


@dataclass
class ObjectResult:
    """What one landing object contributed to a load."""

    obj: LandingObject
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    status: str = "loaded"  # "loaded", or "unreadable" (the whole object was quarantined)
    detail: str = ""


@dataclass
class LoadReport:
    """The outcome of one ``ecom load``: ``read == loaded + rejected`` for every object and overall."""

    target: str
    load_id: str
    objects_listed: int = 0
    objects_skipped: int = 0  # already in the audit table with the same ETag
    objects: list[ObjectResult] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    quarantine: str | None = None
    committed: bool = False
    loaded_at: datetime | None = None

    @property
    def objects_loaded(self) -> int:
        return sum(1 for o in self.objects if o.status == "loaded")

    @property
    def objects_unreadable(self) -> list[ObjectResult]:
        return [o for o in self.objects if o.status != "loaded"]

    @property
    def read(self) -> int:
        return sum(o.rows_read for o in self.objects)

    @property
    def loaded(self) -> int:
        return sum(o.rows_loaded for o in self.objects)

    @property
    def rejected(self) -> int:
        return sum(o.rows_rejected for o in self.objects)

    def summary(self) -> str:
        return (
            f"objects {self.objects_loaded:,} loaded, {len(self.objects_unreadable):,} unreadable, "
            f"{self.objects_skipped:,} already loaded · read {self.read:,} · loaded {self.loaded:,} · "
            f"rejected {self.rejected:,}"
        )


def new_load_id(now: datetime | None = None) -> str:
    """Sortable and unique: ``20191001T000000Z-1a2b3c4d``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def utc_now() -> datetime:
    """Naive UTC, as the warehouse stores timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def pending(
    listed: Iterable[LandingObject], audited: Iterable[tuple[str, str, str]]
) -> list[LandingObject]:
    """The listed objects whose (bucket, key, ETag) the audit table does not hold yet."""
    done = set(audited)
    return [o for o in listed if (o.bucket, o.key, o.etag) not in done]


def chunks(
    objects: list[LandingObject], max_bytes: int, max_objects: int
) -> Iterator[list[LandingObject]]:
    """Consecutive groups of objects of one format, each at most ``max_bytes`` (or one object)."""
    group: list[LandingObject] = []
    size = 0
    for obj in objects:
        if group and (
            size + obj.size > max_bytes
            or len(group) >= max_objects
            or obj.format != group[0].format
        ):
            yield group
            group, size = [], 0
        group.append(obj)
        size += obj.size
    if group:
        yield group


@contextmanager
def exclusive_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path``; wait up to ``timeout`` seconds, then fail clearly.

    ``flock`` locks belong to an open file, so two loaders conflict whether they are two
    processes or two threads of one process; the lock goes away with the process that held it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"another loader has held {what} for {timeout:g} s (lock file {path}); "
                        "wait for it to finish or raise --lock-timeout"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
