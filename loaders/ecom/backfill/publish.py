"""Publish a local backfill (``ecom backfill --root ROOT``) to the S3 landing bucket.

Every file under ``ROOT/landing/events/source=backfill/`` and ``ROOT/quarantine/backfill/`` is
uploaded under the same relative key, which is where ``ecom load`` looks. Each published date
partition is mirrored: a key in it that the local partition no longer has (the rerun wrote
fewer part files) is deleted, so a rerun never leaves a second copy for the loader to load.

Upload goes first, deletion second, so the bucket never lacks a partition's rows; part names
are deterministic (``part-00000.parquet`` ...) and a rerun on the same input writes the same
bytes, so the loader (which tracks key + ETag) sees nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANDING_PREFIX = "landing/events/source=backfill"
QUARANTINE_PREFIX = "quarantine/backfill"
PREFIXES = (LANDING_PREFIX, QUARANTINE_PREFIX)


@dataclass
class PublishReport:
    bucket: str
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "uploaded": self.uploaded, "deleted": self.deleted}


def _publishable(path: Path) -> bool:
    # Spark's _SUCCESS markers and .crc side files are not data
    return path.is_file() and not path.name.startswith((".", "_"))


def _remote_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Keys directly inside ``prefix`` (a folder ending in ``/``), not in sub-folders."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if "/" not in obj["Key"][len(prefix) :]:
                keys.append(obj["Key"])
    return keys


def _mirror_folder(s3: Any, bucket: str, root: Path, folder: Path, report: PublishReport) -> None:
    """Upload every file of ``folder``; delete keys in the same remote folder it does not have."""
    local = (
        {p.relative_to(root).as_posix(): p for p in folder.iterdir() if _publishable(p)}
        if folder.is_dir()
        else {}
    )
    for key, path in sorted(local.items()):
        s3.upload_file(str(path), bucket, key)
        report.uploaded.append(key)
    for key in _remote_keys(s3, bucket, folder.relative_to(root).as_posix() + "/"):
        if key not in local:
            s3.delete_object(Bucket=bucket, Key=key)
            report.deleted.append(key)


def publish(
    root: str | Path,
    *,
    event_dates: Iterable[str] | None = None,
    input_names: Iterable[str] | None = None,
    client: Any = None,
    bucket: str | None = None,
) -> PublishReport:
    """Copy the backfill under ``root`` into the landing bucket under the same keys.

    With ``event_dates`` / ``input_names`` (what one run wrote: ``report.event_dates`` and the
    input files' names), only those date partitions are mirrored and only those inputs'
    quarantine files are uploaded (or deleted, when this run rejected nothing from an input
    whose earlier run had). Without them, every local partition folder and the whole
    quarantine folder are mirrored.

    ``client`` and ``bucket`` default to ``ecom.aws.session.client("s3")`` and the deployed
    stack's bucket (``ECOM_BUCKET`` overrides), as for every ``ecom`` command.
    """
    from ecom.load.landing import landing_bucket

    if client is None:
        from ecom.aws import session

        client = session.client("s3")
    base = Path(root)
    report = PublishReport(bucket=bucket or landing_bucket())
    landing = base / LANDING_PREFIX
    quarantine = base / QUARANTINE_PREFIX
    if event_dates is None:
        folders = sorted({p.parent for p in landing.rglob("*") if _publishable(p)})
    else:
        folders = [landing / f"event_date={d}" for d in sorted(set(event_dates))]
    for folder in folders:
        _mirror_folder(client, report.bucket, base, folder, report)
    if input_names is None:
        if quarantine.is_dir():
            _mirror_folder(client, report.bucket, base, quarantine, report)
    else:
        for name in sorted(set(input_names)):
            path = quarantine / f"{name}.jsonl"
            key = path.relative_to(base).as_posix()
            if path.is_file():
                client.upload_file(str(path), report.bucket, key)
                report.uploaded.append(key)
            elif _remote_keys_exact(client, report.bucket, key):
                client.delete_object(Bucket=report.bucket, Key=key)
                report.deleted.append(key)
    return report


def _remote_keys_exact(s3: Any, bucket: str, key: str) -> bool:
    page = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(obj["Key"] == key for obj in page.get("Contents", []))


def publish_run(root: str | Path, report: Any, **kwargs: Any) -> PublishReport:
    """Publish what one backfill run wrote (its ``BackfillReport``): ``ecom backfill --upload``."""
    return publish(
        root,
        event_dates=report.event_dates,
        input_names=[Path(i).name for i in report.inputs],
        **kwargs,
    )
