"""AWS fixtures: a real moto server over HTTP and a freshly deployed stack per test.

Enabled for the whole suite by ``pytest_plugins = ("aws_fixtures",)`` in ``tests/conftest.py``.

* ``moto_server`` (session): the endpoint URL of a moto server on 127.0.0.1 (a real
  HTTP server in a background thread of the test process; one per xdist worker).
* ``aws_stack`` (function): ``infra/template.yaml`` deployed into that server under a
  unique prefix and stack name, with the environment set so that
  ``ecom.aws.session.client(...)`` / ``resources()`` talk to it. Resources of one test
  never collide with another's.
* ``deploy_test_stack(moto_server, monkeypatch, shards=...)`` does the same with options.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecom.aws import session
from ecom.aws.stack import deploy

REGION = "us-east-1"
#: Variables that could point a test at a real account or at another stack.
_ISOLATE = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "ECOM_AWS",
    "ECOM_BUCKET",
    "ECOM_STREAM",
    "ECOM_CHECKPOINT_TABLE",
    "ECOM_METRICS_TABLE",
)


@dataclass(frozen=True)
class AwsStack:
    endpoint: str
    stack_name: str
    prefix: str
    bucket: str
    stream: str
    checkpoint_table: str
    outputs: dict[str, str]

    def client(self, service: str) -> Any:
        """A new boto3 client on the emulator (tests may register botocore hooks on it)."""
        return session.client(service)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from ecom.aws import moto_patches

    moto_patches.apply()  # as the project's emulator does (ecom.aws.emulator)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def point_at(endpoint: str, monkeypatch: pytest.MonkeyPatch, stack_name: str) -> None:
    """Set the environment so ``ecom.aws.session`` resolves to ``endpoint`` and ``stack_name``."""
    for name in _ISOLATE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("ECOM_STACK", stack_name)
    session.forget()


def deploy_test_stack(
    endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    shards: int = 2,
    template: Path | None = None,
) -> AwsStack:
    prefix = "t" + uuid.uuid4().hex[:10]
    stack_name = f"{prefix}-stack"
    point_at(endpoint, monkeypatch, stack_name)
    kwargs: dict[str, Any] = {"template": template} if template is not None else {}
    outputs = deploy(
        session.client("cloudformation"),
        stack_name,
        {"Prefix": prefix, "ShardCount": str(shards)},
        **kwargs,
    )
    res = session.resources()
    return AwsStack(
        endpoint, stack_name, prefix, res.bucket, res.stream, res.checkpoint_table, outputs
    )


@pytest.fixture
def aws_stack(moto_server: str, monkeypatch: pytest.MonkeyPatch, ecom_home: Path) -> AwsStack:
    """The project's stack (2 shards) deployed under unique names; the env points at it."""
    return deploy_test_stack(moto_server, monkeypatch)
