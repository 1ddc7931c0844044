"""Publish a local Spark backfill (``ecom backfill --root ROOT``) to the S3 landing bucket.

Run with the project's Python (``.venv/bin/python``): it resolves AWS exactly like every ``ecom``
command (the emulator recorded by ``ecom aws up``, ``AWS_ENDPOINT_URL``, or real AWS) and the
bucket from the stack's outputs (``ECOM_BUCKET`` overrides).

Every file under ``ROOT/landing/events/source=backfill/`` and ``ROOT/quarantine/backfill/`` is
uploaded under the same relative key, which is where ``ecom load`` looks. Each partition folder
is mirrored: a key in a published partition that the local partition no longer has (Spark
renamed its part files on a rerun) is deleted, so a rerun never leaves a second copy to load.

    .venv/bin/python orchestration/airflow/scripts/publish_backfill.py .ecom/lake
"""

from __future__ import annotations

import sys
from pathlib import Path

PREFIXES = ("landing/events/source=backfill", "quarantine/backfill")


def publish(root: Path) -> dict[str, int]:
    from ecom.aws import session

    s3 = session.client("s3")
    bucket = session.resources().bucket
    uploaded = deleted = 0
    for prefix in PREFIXES:
        base = root / prefix
        if not base.is_dir():
            continue
        folders = {p.parent for p in base.rglob("*") if p.is_file()}
        for folder in sorted(folders):
            local = {
                p.relative_to(root).as_posix(): p
                for p in folder.iterdir()
                if p.is_file() and not p.name.startswith((".", "_"))
            }
            for key, path in sorted(local.items()):
                s3.upload_file(str(path), bucket, key)
                uploaded += 1
            folder_prefix = folder.relative_to(root).as_posix() + "/"
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=folder_prefix
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    if "/" not in key[len(folder_prefix) :] and key not in local:
                        s3.delete_object(Bucket=bucket, Key=key)
                        deleted += 1
    print(
        f"published {root} to s3://{bucket}/: {uploaded} objects uploaded, {deleted} stale deleted"
    )
    return {"uploaded": uploaded, "deleted": deleted}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: publish_backfill.py ROOT   (the --root of ecom backfill)")
    publish(Path(sys.argv[1]))
