"""Producer CPU cost (network replaced by a no-op) against a bare csv loop, and end-to-end
events/s and peak memory through the local emulator at 100k vs 1M events."""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from itertools import islice
from pathlib import Path
from typing import Any

from benchmarks.run import Context, Result, measure_python
from ecom.events import HEADER_LINE, read_csv_events

CPU_ROWS = 500_000
E2E_SIZES = (100_000, 1_000_000)
TARGET_CPU_RATIO = 0.5
TARGET_MEMORY_GROWTH = 1.25  # peak RSS at 1M over peak RSS at 100k


class NullKinesis:
    """The network replaced by a no-op: every entry accepted at once."""

    def __init__(self) -> None:
        self.seq = 0

    def list_shards(self, **_: Any) -> dict[str, Any]:
        half = 2**127
        return {
            "Shards": [
                {
                    "ShardId": f"shardId-00000000000{i}",
                    "HashKeyRange": {
                        "StartingHashKey": str(i * half),
                        "EndingHashKey": str((i + 1) * half - 1),
                    },
                    "SequenceNumberRange": {"StartingSequenceNumber": "0"},
                }
                for i in range(2)
            ]
        }

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        results = []
        for _ in Records:
            self.seq += 1
            results.append({"SequenceNumber": str(self.seq), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": 0, "Records": results}


class NullS3:
    """Quarantine uploads replaced by a no-op too."""

    def upload_fileobj(self, *_: Any, **__: Any) -> None:
        return None


def _source_files(ctx: Context) -> list[Path]:
    generated = ctx.cache.get("generated_dir")
    if generated and any(Path(generated).glob("*.csv")):
        return sorted(Path(generated).glob("*.csv"))
    from ecom.generate import GenerateConfig, generate

    out = ctx.workdir / "producer-source"
    if not any(out.glob("*.csv")):
        generate(GenerateConfig(out=out, events=int(max(E2E_SIZES) * 1.1), seed=46))
    return sorted(out.glob("*.csv"))


def _slice(files: list[Path], rows: int, target: Path) -> Path:
    """The first ``rows`` data rows of the files, as one CSV file with a header."""
    if target.exists():
        return target
    with open(target, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER_LINE + "\n")
        left = rows
        for f in files:
            with open(f, encoding="utf-8", newline="") as handle:
                next(handle, None)
                for line in islice(handle, left):
                    out.write(line)
                    left -= 1
            if left == 0:
                break
    return target


def _cpu(*fns: Any, repeat: int = 5) -> list[tuple[float, int]]:
    """Per function: the least process CPU time of ``repeat`` runs, and its count.

    The functions take turns (a, b, c, a, b, c, ...), so a noisy spell of this shared VM
    slows each of them alike instead of one of them.
    """
    best = [float("inf")] * len(fns)
    counts = [0] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.process_time()
            counts[i] = fn()
            best[i] = min(best[i], time.process_time() - start)
    return list(zip(best, counts, strict=True))


def _bare_csv(path: Path) -> int:
    n = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for _row in csv.reader(handle):
            n += 1
    return n


def _validator(path: Path) -> int:
    return sum(1 for _ in read_csv_events(path))


def _producer_rows(path: Path) -> int:
    """The producer fed row by row (read_csv_events + put, as with --rate), packed."""
    from ecom.events import Event
    from ecom.stream.producer import Producer

    producer = Producer(NullKinesis(), "bench", pack_bytes=64 * 1024)
    for outcome in read_csv_events(path):
        if isinstance(outcome, Event):
            producer.put(outcome)
    producer.flush()
    return producer.stats.sent


def _producer(path: Path, pack_bytes: int) -> int:
    from ecom.stream.produce import produce_files
    from ecom.stream.producer import Producer

    producer = Producer(NullKinesis(), "bench", pack_bytes=pack_bytes)
    report = produce_files([path], producer, s3=NullS3(), bucket="unused")
    return report.sent


E2E_CODE = """
import json, os, time
from pathlib import Path
from ecom.aws import session
t = session.target(); res = session.resources(t)
start = time.perf_counter()
if {stage!r} == "produce":
    from ecom.stream.produce import produce_files
    from ecom.stream.producer import Producer
    s3 = session.client("s3", target_=t)
    p = Producer(session.client("kinesis", target_=t), res.stream, s3=s3, bucket=res.bucket)
    r = produce_files([Path({path!r})], p, s3=s3, bucket=res.bucket)
    out = {{"events": r.sent, "read": r.read, "records": r.records}}
else:
    from ecom.stream.sink import Sink
    sink = Sink(session.client("kinesis", target_=t), session.client("s3", target_=t),
                session.client("dynamodb", target_=t), stream=res.stream, bucket=res.bucket,
                table=res.checkpoint_table)
    r = sink.run(until_caught_up=True)
    out = {{"events": r.events, "objects": r.objects, "records": r.records}}
out["seconds"] = time.perf_counter() - start
# VmHWM: this process's own peak RSS since exec (ru_maxrss on Linux also counts the parent's
# memory at fork time, which would hide the figure being measured)
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        out["peak"] = int(line.split()[1]) * 1024
print(json.dumps(out))
"""


def _end_to_end(ctx: Context, files: list[Path]) -> dict[int, dict[str, float]]:
    import ecom.aws.emulator as emulator
    import ecom.aws.session as session
    from ecom.aws.stack import deploy

    home = ctx.workdir / "producer-aws"
    shutil.rmtree(home, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["ECOM_HOME"] = str(home)
    saved = os.environ.get("ECOM_HOME")
    os.environ["ECOM_HOME"] = str(home)
    results: dict[int, dict[str, float]] = {}
    try:
        emu = emulator.start()
        target = session.Target("emulator", emu.endpoint, emu.region, "unused")
        cfn = session.client("cloudformation", target_=target)
        for size in E2E_SIZES:
            path = _slice(files, size, ctx.workdir / f"producer-{size}.csv")
            stack = f"bench{size}"
            deploy(cfn, stack, {"Prefix": stack, "ShardCount": "2"})
            child_env = dict(env, ECOM_STACK=stack)
            figures: dict[str, float] = {}
            for stage in ("produce", "sink"):
                code = E2E_CODE.format(stage=stage, path=str(path))
                _, peak, stdout = measure_python(code, env=child_env)
                got = json.loads(stdout.strip().splitlines()[-1])
                figures[f"{stage}_seconds"] = got["seconds"]
                figures[f"{stage}_peak"] = got.get("peak", peak)
                figures[f"{stage}_events"] = got["events"]
            figures["baseline_seconds"] = _bare_upload(
                session.client("s3", target_=target), stack, path
            )
            results[size] = figures
    finally:
        emulator.stop()
        if saved is None:
            os.environ.pop("ECOM_HOME", None)
        else:
            os.environ["ECOM_HOME"] = saved
    return results


def _bare_upload(s3: Any, stack: str, path: Path) -> float:
    """Baseline: the same CSV gzipped in 5 MB chunks and put straight into S3 on the emulator."""
    import gzip

    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(stack))
    start = time.perf_counter()
    with open(path, "rb") as handle:
        part = 0
        while chunk := handle.read(5 * 10**6):
            chunk += handle.readline()
            body = gzip.compress(chunk, compresslevel=6, mtime=0)
            s3.put_object(Bucket=bucket, Key=f"baseline/{part:05d}.csv.gz", Body=body)
            part += 1
    return time.perf_counter() - start


def run(ctx: Context) -> list[Result]:
    files = _source_files(ctx)
    path = _slice(files, CPU_ROWS, ctx.workdir / f"producer-{CPU_ROWS}.csv")
    _bare_csv(path)  # warm the page cache
    (base_s, base_n), (prod_s, prod_n) = _cpu(
        lambda: _bare_csv(path) - 1, lambda: _producer(path, 64 * 1024)
    )
    (val_s, val_n), (single_s, single_n), (rows_s, rows_n) = _cpu(
        lambda: _validator(path),
        lambda: _producer(path, 0),
        lambda: _producer_rows(path),
        repeat=2,
    )
    base_rate = base_n / base_s
    prod_rate = prod_n / prod_s
    results = [
        Result(
            "producer",
            "CPU: parse + validate + encode + batch (packed), network a no-op",
            prod_rate,
            "events/s",
            "bare csv.reader loop",
            base_rate,
            prod_rate / base_rate,
            f">= {TARGET_CPU_RATIO}x",
            prod_rate / base_rate >= TARGET_CPU_RATIO,
            notes=(
                f"{prod_n:,} events, process CPU time, best of 5 taken in turns with the baseline (DuckDB's thread included), blocks of 4 MB "
                f"validated together (ecom.blocks). Row by row, the validator alone (ecom.events."
                f"read_csv_events) runs at {val_n / val_s:,.0f} events/s = "
                f"{val_n / val_s / base_rate:.2f}x the bare loop, and the producer fed row by row "
                f"(the --rate path) at {rows_n / rows_s:,.0f} events/s = "
                f"{rows_n / rows_s / base_rate:.2f}x."
            ),
        ),
        Result(
            "producer",
            "CPU: same, one event per Kinesis record",
            single_n / single_s,
            "events/s",
            "bare csv.reader loop",
            base_rate,
            single_n / single_s / base_rate,
        ),
    ]
    e2e = _end_to_end(ctx, files)
    small, large = (e2e[s] for s in E2E_SIZES)
    for size in E2E_SIZES:
        fig = e2e[size]
        seconds = fig["produce_seconds"] + fig["sink_seconds"]
        results.append(
            Result(
                "producer",
                f"end to end through the emulator, {size:,} events",
                fig["sink_events"] / seconds,
                "events/s",
                "same CSV gzipped straight into S3 on the emulator (no stream)",
                fig["sink_events"] / fig["baseline_seconds"],
                fig["baseline_seconds"] / seconds,
                notes=(
                    f"CSV -> Kinesis (moto server on 127.0.0.1, 2 shards, packed records) -> sink -> "
                    f"gzip CSV in S3: produce {fig['produce_seconds']:.1f} s + sink "
                    f"{fig['sink_seconds']:.1f} s for {fig['sink_events']:,.0f} landed events; "
                    f"peak RSS produce {fig['produce_peak'] / 2**20:.0f} MiB, sink "
                    f"{fig['sink_peak'] / 2**20:.0f} MiB (wall time of fresh processes, imports included)"
                ),
            )
        )
    for stage in ("produce", "sink"):
        growth = large[f"{stage}_peak"] / small[f"{stage}_peak"]
        results.append(
            Result(
                "producer",
                f"peak memory of `{stage}` at 1M events",
                large[f"{stage}_peak"] / 2**20,
                "MiB",
                "same at 100k events",
                small[f"{stage}_peak"] / 2**20,
                growth,
                f"<= {TARGET_MEMORY_GROWTH}x (flat)",
                growth <= TARGET_MEMORY_GROWTH,
                notes="VmHWM of the stage's own process (peak RSS since exec); the emulator's memory is not counted.",
            )
        )
    return results
