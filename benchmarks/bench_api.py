"""HTTP ingestion: events/s and latency through `ecom api serve` on loopback, nothing lost.

Bounded load: ``EVENTS`` generated events (default 20,000) posted as JSON arrays of
``BATCH`` events by ``CLIENTS`` concurrent keep-alive clients to the real server process
(``ecom api serve``), which puts them into Kinesis on a moto server process. Then the
real sink moves the stream into the landing zone and every posted ``event_id`` must be
there (lost events = posted - landed, target 0).

Baseline, same run and same emulator: the stream producer putting the same events
directly into a second stack's stream, flushed after each batch of the same size (the
same PutRecords calls the API makes, minus HTTP, JSON and validation of JSON).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.run import Context, Result

EVENTS = int(os.environ.get("BENCH_API_EVENTS", "20000"))
BATCH = 100
CLIENTS = 4
API_KEY = "bench-key"
TIMEOUT = 600.0  # seconds for the whole load phase


def _wait_for(proc: subprocess.Popen[str], prefix: str, deadline: float) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line.strip()
    raise RuntimeError(f"process did not print {prefix!r} in time")


def _moto(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    from ecom.aws.emulator import free_port, responds

    port = free_port()
    log = open(workdir / "bench-api-moto.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not responds(endpoint, timeout=0.5):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("moto server did not start")
        time.sleep(0.1)
    return proc, endpoint


def _events(workdir: Path) -> list[Any]:
    from ecom.events import Event, read_csv_events
    from ecom.generate import GenerateConfig, generate

    out = workdir / "api-events"
    result = generate(
        GenerateConfig(
            out=out,
            events=int(EVENTS * 1.05) + 100,
            start=date(2019, 10, 1),
            end=date(2019, 10, 31),
            seed=8,
        )
    )
    events = [e for f in result.files for e in read_csv_events(f.path) if isinstance(e, Event)]
    return events[:EVENTS]


def _as_json(event: Any) -> dict[str, Any]:
    return {
        "event_time": event.event_time + " UTC",
        "event_type": event.event_type,
        "product_id": event.product_id,
        "category_id": str(event.category_id),
        "category_code": event.category_code,
        "brand": event.brand,
        "price": event.price,
        "user_id": event.user_id,
        "user_session": event.user_session,
    }


def _client(
    host: str,
    port: int,
    bodies: list[bytes],
    latencies: list[float],
    errors: list[str],
    ids: set[str],
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Content-Type": "application/json", "x-api-key": API_KEY}
    for body in bodies:
        start = time.perf_counter()
        conn.request("POST", "/events", body=body, headers=headers)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        latencies.append(time.perf_counter() - start)
        if resp.status != 200:
            errors.append(f"{resp.status}: {str(answer)[:200]}")
        ids.update(r["event_id"] for r in answer.get("results", []) if r["status"] == "accepted")
    conn.close()


def run(ctx: Context) -> list[Result]:
    import boto3

    from ecom.aws.stack import deploy
    from ecom.stream.producer import Producer
    from ecom.stream.sink import LANDING_PREFIX, Sink, SinkConfig

    events = _events(ctx.workdir)
    moto, endpoint = _moto(ctx.workdir)
    server: subprocess.Popen[str] | None = None
    try:
        kw = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        cfn = boto3.client("cloudformation", **kw)
        base = deploy(cfn, "bench-base", {"Prefix": "bench-base", "ShardCount": "2"})
        api = deploy(cfn, "bench-api", {"Prefix": "bench-api", "ShardCount": "2"})
        kinesis, s3 = boto3.client("kinesis", **kw), boto3.client("s3", **kw)

        # baseline: the producer, same events, same batches, straight to Kinesis
        producer = Producer(
            kinesis, base["EventStreamName"], s3=s3, bucket=base["LandingBucketName"]
        )
        start = time.perf_counter()
        for i in range(0, len(events), BATCH):
            producer.put_many(events[i : i + BATCH])
            producer.flush()
        baseline_s = time.perf_counter() - start
        assert producer.stats.sent == len(events), producer.stats

        # the API: ecom api serve (a process) with CLIENTS concurrent clients
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "ECOM_STACK": "bench-api",
            "ECOM_API_KEY": API_KEY,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "ecom.cli", "api", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        url = _wait_for(server, "serving on ", time.monotonic() + 60).split()[-1]
        host, port = url.removeprefix("http://").split(":")
        bodies = [
            json.dumps([_as_json(e) for e in events[i : i + BATCH]]).encode()
            for i in range(0, len(events), BATCH)
        ]
        latencies: list[float] = []
        errors: list[str] = []
        posted: set[str] = set()
        threads = [
            threading.Thread(
                target=_client,
                args=(host, int(port), bodies[c::CLIENTS], latencies, errors, posted),
            )
            for c in range(CLIENTS)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=TIMEOUT)
        api_s = time.perf_counter() - start
        if errors or any(t.is_alive() for t in threads):
            raise RuntimeError(f"API load failed: {errors[:3]}")

        # nothing lost: the sink lands every accepted event
        sink = Sink(
            kinesis,
            s3,
            boto3.client("dynamodb", **kw),
            stream=api["EventStreamName"],
            bucket=api["LandingBucketName"],
            table=api["CheckpointTableName"],
            config=SinkConfig(buffer_seconds=3600),
        )
        sink.run(until_caught_up=True)
        import csv
        import gzip
        import io

        landed: set[str] = set()
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=api["LandingBucketName"], Prefix=LANDING_PREFIX + "/"
        )
        for page in pages:
            for obj in page.get("Contents", []):
                data = s3.get_object(Bucket=api["LandingBucketName"], Key=obj["Key"])["Body"].read()
                rows = csv.DictReader(io.StringIO(gzip.decompress(data).decode(), newline=""))
                landed.update(r["event_id"] for r in rows)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        moto.terminate()
        moto.wait(timeout=10)

    expected = {e.event_id for e in events}
    lost = len(expected - landed)
    eps, base_eps = len(events) / api_s, len(events) / baseline_s
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    setup = (
        f"{len(events):,} events in {len(bodies)} JSON requests of {BATCH}, {CLIENTS} keep-alive "
        "clients on loopback -> `ecom api serve` (a process) -> Kinesis on a moto server process "
        "(2 shards)"
    )
    return [
        Result(
            "api",
            "throughput",
            eps,
            "events/s",
            "producer direct, same batches",
            base_eps,
            eps / base_eps,
            notes=setup + "; the baseline puts the same events with the stream producer, flushed "
            "per batch of the same size, to a second stream on the same moto server.",
        ),
        Result(
            "api", "request latency p50", p50, "ms", notes=f"{len(lat)} requests of {BATCH} events"
        ),
        Result("api", "request latency p99", p99, "ms"),
        Result(
            "api",
            "lost events",
            lost,
            "events",
            target="0",
            passed=lost == 0 and posted == expected,
            notes=f"{len(expected):,} distinct event_ids posted and accepted, {len(landed):,} in the "
            "landing zone after `ecom sink --until-caught-up`.",
        ),
    ]
