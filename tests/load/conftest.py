"""Fixtures of the loader tests: a real moto S3 server over HTTP and a landing bucket per test."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from load_helpers import Landing
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on a free local port, for the whole session (one per xdist worker)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def landing(moto_endpoint: str, ecom_home: Path, monkeypatch: pytest.MonkeyPatch) -> Landing:
    """A fresh bucket per test; the environment points boto3 (and so ``ecom load``) at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"landing-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("ECOM_BUCKET", bucket)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return Landing(client, bucket, moto_endpoint)
