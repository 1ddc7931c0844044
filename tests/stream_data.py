"""What the stream and stream-processor tests share: generated event files, and producing them
into a test stack's stream with the project's producer."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from aws_fixtures import AwsStack
from ecom.generate import GenerateConfig, generate
from ecom.stream.produce import ProduceReport, produce_files
from ecom.stream.producer import Producer, RetryPolicy

#: Retries in milliseconds, so that injected faults cost the tests little time.
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.005)


def generated_october(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, events: int, last_day: int, seed: int
) -> list[Path]:
    """``events`` generated rows from 1 October 2019 to ``last_day``, with the generator's exact
    duplicates, in a fresh folder ``name``."""
    result = generate(
        GenerateConfig(
            out=tmp_path_factory.mktemp(name),
            events=events,
            start=date(2019, 10, 1),
            end=date(2019, 10, last_day),
            seed=seed,
        )
    )
    return [f.path for f in result.files]


def produce_to(
    stack: AwsStack,
    paths: list[Path],
    *,
    kinesis: Any = None,
    pack_bytes: int,
    retry: RetryPolicy = FAST_RETRY,
    seed: int,
) -> ProduceReport:
    """Produce ``paths`` into the stack's stream (through ``kinesis`` when given)."""
    producer = Producer(
        kinesis or stack.client("kinesis"),
        stack.stream,
        s3=stack.client("s3"),
        bucket=stack.bucket,
        pack_bytes=pack_bytes,
        retry=retry,
        seed=seed,
    )
    return produce_files(paths, producer, s3=stack.client("s3"), bucket=stack.bucket)


def stream_reader(stack: AwsStack, *, kinesis: Any = None, dynamodb: Any = None) -> dict[str, Any]:
    """What a reader of the stack's stream (the sink, the realtime poller) is built from: its
    Kinesis, S3 and DynamoDB clients (the test's own, with injected faults, where given), the
    stream and the bucket."""
    return {
        "kinesis": kinesis or stack.client("kinesis"),
        "s3": stack.client("s3"),
        "dynamodb": dynamodb or stack.client("dynamodb"),
        "stream": stack.stream,
        "bucket": stack.bucket,
    }
