"""Publishing a local backfill into the landing bucket (a real moto server over HTTP)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aws_fixtures import AwsStack
from ecom.backfill.publish import publish, publish_run
from ecom.warehouse import PROJECT_ROOT

LANDING = "landing/events/source=backfill"


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _bucket(stack: AwsStack) -> dict[str, bytes]:
    s3 = stack.client("s3")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket)
        for o in page.get("Contents", [])
    ]
    return {k: s3.get_object(Bucket=stack.bucket, Key=k)["Body"].read() for k in keys}


class _Run:
    """What a backfill run reports (only the fields publishing reads)."""

    def __init__(self, event_dates: list[str], inputs: list[str]) -> None:
        self.event_dates = event_dates
        self.inputs = inputs


def test_publish_mirrors_the_partitions_a_run_rewrote_and_leaves_the_rest(
    aws_stack: AwsStack, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    _write(root, f"{LANDING}/event_date=2019-10-01/part-00000.parquet", b"d1p0")
    _write(root, f"{LANDING}/event_date=2019-10-01/part-00001.parquet", b"d1p1")
    _write(root, f"{LANDING}/event_date=2019-10-01/.part-00001.parquet.crc", b"crc")
    _write(root, f"{LANDING}/event_date=2019-10-02/part-00000.parquet", b"d2p0")
    _write(root, f"{LANDING}/_SUCCESS", b"")
    _write(root, "quarantine/backfill/a.csv.jsonl", b'{"line": 3}\n')
    _write(root, "quarantine/backfill/b.csv.jsonl", b'{"line": 7}\n')
    _write(root, "_tmp/backfill-x/junk.parquet", b"staging")
    s3 = aws_stack.client("s3")
    s3.put_object(Bucket=aws_stack.bucket, Key="landing/events/source=stream/s.csv.gz", Body=b"s")

    # when: the whole root is published (the Airflow script's mode)
    first = publish(root)
    # then: data files under the same keys; markers, checksums and staging stay local
    assert sorted(first.uploaded) == [
        f"{LANDING}/event_date=2019-10-01/part-00000.parquet",
        f"{LANDING}/event_date=2019-10-01/part-00001.parquet",
        f"{LANDING}/event_date=2019-10-02/part-00000.parquet",
        "quarantine/backfill/a.csv.jsonl",
        "quarantine/backfill/b.csv.jsonl",
    ]
    assert first.deleted == []
    assert _bucket(aws_stack) == {
        "landing/events/source=stream/s.csv.gz": b"s",
        f"{LANDING}/event_date=2019-10-01/part-00000.parquet": b"d1p0",
        f"{LANDING}/event_date=2019-10-01/part-00001.parquet": b"d1p1",
        f"{LANDING}/event_date=2019-10-02/part-00000.parquet": b"d2p0",
        "quarantine/backfill/a.csv.jsonl": b'{"line": 3}\n',
        "quarantine/backfill/b.csv.jsonl": b'{"line": 7}\n',
    }

    # when: a rerun of b.csv and a.csv rewrote 2019-10-01 into one part and rejected nothing
    # from b.csv; 2019-10-02 (another run's date) is still local but not this run's
    shutil.rmtree(root / f"{LANDING}/event_date=2019-10-01")
    _write(root, f"{LANDING}/event_date=2019-10-01/part-00000.parquet", b"d1-new")
    (root / "quarantine/backfill/b.csv.jsonl").unlink()
    _write(root, "quarantine/backfill/a.csv.jsonl", b'{"line": 4}\n')
    (root / f"{LANDING}/event_date=2019-10-02/part-00000.parquet").write_bytes(b"not-this-run")
    second = publish_run(root, _Run(["2019-10-01"], ["/data/in/a.csv", "/data/in/b.csv"]))

    # then: the stale part and quarantine file are gone, nothing outside the run is touched
    assert sorted(second.deleted) == [
        f"{LANDING}/event_date=2019-10-01/part-00001.parquet",
        "quarantine/backfill/b.csv.jsonl",
    ]
    assert _bucket(aws_stack) == {
        "landing/events/source=stream/s.csv.gz": b"s",
        f"{LANDING}/event_date=2019-10-01/part-00000.parquet": b"d1-new",
        f"{LANDING}/event_date=2019-10-02/part-00000.parquet": b"d2p0",
        "quarantine/backfill/a.csv.jsonl": b'{"line": 4}\n',
    }

    # and: the Airflow script (now a wrapper) mirrors the whole root again
    spec = importlib.util.spec_from_file_location(
        "publish_backfill_script",
        PROJECT_ROOT / "orchestration/airflow/scripts/publish_backfill.py",
    )
    assert spec is not None and spec.loader is not None
    script: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.publish(root) == {"uploaded": 3, "deleted": 0}
    assert (
        _bucket(aws_stack)[f"{LANDING}/event_date=2019-10-02/part-00000.parquet"] == b"not-this-run"
    )


@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_cli_upload_publishes_what_the_run_wrote(
    aws_stack: AwsStack, sample_files: list[Path], tmp_path: Path
) -> None:
    """``ecom backfill --upload`` end to end, in its own process (it starts and stops Spark)."""
    src = tmp_path / "in"
    src.mkdir()
    good = shutil.copy(sample_files[0], src / sample_files[0].name)
    bad = src / "bad.csv"
    bad.write_text("x,y\n")
    root = tmp_path / "lake"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("ecom")),
            "backfill",
            str(good),
            str(bad),
            "--root",
            str(root),
            "--master",
            "local[1]",
            "--driver-memory",
            "1g",
            "--upload",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    local = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith((".", "_"))
    }
    assert report["upload"]["bucket"] == aws_stack.bucket
    assert sorted(report["upload"]["uploaded"]) == sorted(local)
    assert "quarantine/backfill/bad.csv.jsonl" in local
    assert len([k for k in local if k.endswith(".parquet")]) == len(report["parquet_files"]) > 0
    assert _bucket(aws_stack) == local
