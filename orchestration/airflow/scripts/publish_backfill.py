"""Publish a local Spark backfill (``ecom backfill --root ROOT``) to the S3 landing bucket.

Run with the project's Python (``.venv/bin/python``): it resolves AWS exactly like every ``ecom``
command (the emulator recorded by ``ecom aws up``, ``AWS_ENDPOINT_URL``, or real AWS) and the
bucket from the stack's outputs (``ECOM_BUCKET`` overrides).

Every file under ``ROOT/landing/events/source=backfill/`` and ``ROOT/quarantine/backfill/`` is
uploaded under the same relative key, which is where ``ecom load`` looks. Each partition folder
is mirrored: a key in a published partition that the local partition no longer has (Spark
renamed its part files on a rerun) is deleted, so a rerun never leaves a second copy to load.
The logic is ``ecom.backfill.publish.publish`` (also behind ``ecom backfill --upload``).

    .venv/bin/python orchestration/airflow/scripts/publish_backfill.py .ecom/lake
"""

from __future__ import annotations

import sys
from pathlib import Path


def publish(root: Path) -> dict[str, int]:
    from ecom.backfill.publish import publish as publish_root

    report = publish_root(root)
    uploaded, deleted = len(report.uploaded), len(report.deleted)
    print(
        f"published {root} to s3://{report.bucket}/: "
        f"{uploaded} objects uploaded, {deleted} stale deleted"
    )
    return {"uploaded": uploaded, "deleted": deleted}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: publish_backfill.py ROOT   (the --root of ecom backfill)")
    publish(Path(sys.argv[1]))
