"""The S3 side of the loader: which landing objects exist, and the COPY manifests.

Every S3 call of the loader goes through :func:`s3_client`, so the loader talks to
whatever ``ecom.aws`` points at (the local emulator or real AWS).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ecom.errors import EcomError
from ecom.stream.records import RECORD_COLUMNS

#: Columns of every landing object, in order (docs/contracts.md): an event's record columns,
#: then when the sink or the backfill wrote it and which of the two did.
LANDING_COLUMNS: tuple[str, ...] = (*RECORD_COLUMNS, "ingested_at", "source")
#: Where the stream sink and the Spark backfill write, inside the landing bucket.
LANDING_PREFIX = "landing/events/"
MANIFEST_PREFIX = "manifests/"
QUARANTINE_PREFIX = "quarantine/load/"

#: Object name endings the loader understands, and the format each one is.
FORMATS: dict[str, str] = {".csv.gz": "csv", ".parquet": "parquet"}


class LandingError(EcomError):
    """The landing zone cannot be reached or is not configured."""


@dataclass(frozen=True, slots=True)
class LandingObject:
    """One object of the landing zone, identified by its key and ETag."""

    bucket: str
    key: str
    etag: str
    size: int
    format: str  # "csv" (gzip CSV with header) or "parquet"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _aws_session() -> Any:
    """``ecom.aws.session`` (the emulator-aware client factory), or None where it is absent."""
    try:
        return importlib.import_module("ecom.aws.session")
    except ModuleNotFoundError as exc:
        if exc.name in ("ecom.aws", "ecom.aws.session"):
            return None
        raise


def s3_client() -> Any:
    """The boto3 S3 client every loader call uses (the emulator's when ``ecom aws up`` runs)."""
    session = _aws_session()
    if session is not None:
        return session.client("s3")
    import boto3

    return boto3.client("s3")


def landing_bucket() -> str:
    """The landing bucket: ``ECOM_BUCKET``, else the one the deployed stack declares."""
    from ecom import settings

    bucket = settings.get().bucket
    if bucket:
        return bucket
    session = _aws_session()
    if session is None:
        raise LandingError(
            "no landing bucket: set ECOM_BUCKET or start the emulator with `ecom aws up`"
        )
    return str(session.resources().bucket)


def format_of(key: str) -> str | None:
    for ending, fmt in FORMATS.items():
        if key.endswith(ending):
            return fmt
    return None


def list_landing_objects(
    client: Any, bucket: str, prefix: str = LANDING_PREFIX
) -> Iterator[LandingObject]:
    """Every loadable object under ``prefix`` (gzip CSV and Parquet), in key order.

    Other objects (Spark's ``_SUCCESS`` markers, ``.crc`` files) are not events and are skipped.
    """
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            fmt = format_of(item["Key"])
            if fmt is None:
                continue
            yield LandingObject(
                bucket=bucket,
                key=item["Key"],
                etag=item["ETag"].strip('"'),
                size=int(item["Size"]),
                format=fmt,
            )


def manifest_body(objects: Iterable[LandingObject]) -> dict[str, Any]:
    """A Redshift COPY manifest: every entry mandatory, with its length (Parquet needs it)."""
    return {
        "entries": [
            {"url": o.url, "mandatory": True, "meta": {"content_length": o.size}} for o in objects
        ]
    }


def manifest_key(load_id: str, fmt: str, part: int | None = None) -> str:
    """``manifests/<load id>.<format>.manifest``, or with ``part`` the load's ``part``-th
    manifest, ``manifests/<load id>/<part>.<format>.manifest`` (Redshift: one per object)."""
    if part is None:
        return f"{MANIFEST_PREFIX}{load_id}.{fmt}.manifest"
    return f"{MANIFEST_PREFIX}{load_id}/{part:06d}.{fmt}.manifest"


def write_manifest(
    client: Any,
    bucket: str,
    load_id: str,
    fmt: str,
    objects: list[LandingObject],
    part: int | None = None,
) -> str:
    """Write a manifest of one format of one load (see :func:`manifest_key`); returns its key."""
    key = manifest_key(load_id, fmt, part)
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(manifest_body(objects), indent=1).encode(),
        ContentType="application/json",
    )
    return key


def read_manifest(client: Any, bucket: str, key: str) -> list[str]:
    """The URLs a manifest lists, in order."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return [entry["url"] for entry in json.loads(body)["entries"]]


def write_quarantine(client: Any, bucket: str, load_id: str, records: list[dict[str, Any]]) -> str:
    """Rejected rows of one load as JSON lines under ``quarantine/load/``; returns the key."""
    key = f"{QUARANTINE_PREFIX}{load_id}.jsonl"
    body = "".join(json.dumps(r, default=str) + "\n" for r in records)
    client.put_object(
        Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson"
    )
    return key
