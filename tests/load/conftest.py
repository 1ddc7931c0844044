"""Fixtures of the loader tests: a landing bucket per test on the suite's real moto server (tests/aws_fixtures.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest
from load_helpers import Landing


@pytest.fixture
def landing(moto_server: str, ecom_home: Path, monkeypatch: pytest.MonkeyPatch) -> Landing:
    """A fresh bucket per test; the environment points boto3 (and so ``ecom load``) at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"landing-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("ECOM_BUCKET", bucket)
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return Landing(client, bucket, moto_server)
