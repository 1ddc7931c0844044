"""Fixtures of the API tests: the ingestion app on a deployed stack, and a real local server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import API_KEY
from botocore.config import Config

from aws_fixtures import AwsStack
from ecom.api.handler import ApiConfig, IngestApp
from ecom.api.server import serving
from ecom.aws import session
from ecom.stream.producer import RetryPolicy

#: Fast retries for tests (the API's default backs off for up to ~3 s).
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.005)


@pytest.fixture
def app(aws_stack: AwsStack) -> IngestApp:
    """The handler's app on the test stack; it checks the key itself, as under the local server."""
    config = Config(max_pool_connections=16)
    return IngestApp(
        session.client("kinesis", config=config),
        session.client("s3", config=config),
        ApiConfig(
            stream=aws_stack.stream,
            bucket=aws_stack.bucket,
            api_keys=frozenset({API_KEY}),
            retry=FAST_RETRY,
            metrics_table=aws_stack.outputs["MetricsTableName"],
        ),
        session.client("dynamodb", config=config),
    )


@pytest.fixture
def api_url(app: IngestApp) -> Iterator[str]:
    """The app behind the real local HTTP server on 127.0.0.1 (a free port)."""
    with serving(app) as url:
        yield url
