"""The stream processor (``ecom realtime``) against the sink, over the same stream, same run.

Everything runs against the project's emulator (a moto server on 127.0.0.1, started here,
stopped at the end), each consumer in a fresh process:

* **throughput**: the same packed records are read by the sink (to gzip CSV in S3) and by
  the processor (to DynamoDB), on three fresh stacks, the two in turns; lines of the stream
  per second of each (medians), and the ratio;
* **DynamoDB writes per 1,000 events**: item writes (each item of a transaction counts) over
  distinct events applied, for data as dense as REES46 (one day at ~70 events a minute), for
  the demo's data (100k events over five months: ~0.5 a minute) and while following
  ``produce --rate``;
* **freshness**: while ``produce --rate`` feeds the stream, probe events are put one at a
  time; the time from their PutRecords acknowledgement until ``GET /metrics/totals`` (the
  real local HTTP server) shows them, p50 and p99, polling interval included;
* **peak memory** of the processor at two stream sizes.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.run import Context, Result, measure_python
from ecom.realtime.workers import default_processes

CONSUMER_CODE = """
import json, time
from ecom.aws import session
import os
t = session.target(); res = session.resources(t)
start, cpu0 = time.perf_counter(), os.times()
if {stage!r} == "sink":
    from ecom.stream.sink import Sink
    r = Sink(session.client("kinesis", target_=t), session.client("s3", target_=t),
             session.client("dynamodb", target_=t), stream=res.stream, bucket=res.bucket,
             table=res.checkpoint_table).run(until_caught_up=True)
    out = {{"events": r.events, "records": r.records}}
else:
    from ecom.realtime.cli import make_realtime
    from ecom.realtime.workers import default_processes
    run = make_realtime(lambda s: session.client(s, target_=t), res, batch_size={batch!r},
                        processes=default_processes())
    run.poller.run(until_caught_up=True)
    run.close()
    p = run.processor.report
    out = {{"events": p.applied, "records": run.poller.report.records, "writes": p.writes,
           "write_units": p.write_units, "reads": p.reads, "transactions": p.transactions, "lines": p.lines, "duplicates": p.duplicates,
           "batches": run.poller.report.invocations}}
out["seconds"] = time.perf_counter() - start
cpu = os.times()  # the worker processes' time too (they have ended)
out["cpu"] = (cpu.user + cpu.system + cpu.children_user + cpu.children_system
              - cpu0.user - cpu0.system - cpu0.children_user - cpu0.children_system)
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        out["peak"] = int(line.split()[1]) * 1024
if {stage!r} != "sink":
    out["peak"] += sum(run.processor.__dict__.get("peak_memory", []))
print(json.dumps(out))
"""

#: produce --rate for the freshness run: the dense day at 60 times its pace (a minute of it
#: per second, ~13 events/s: about 8 times REES46's average rate of ~1.6 events/s).
RATE = 60.0
#: Probe events of the freshness run (p99 is then the third slowest), and the feed's rows
#: (enough to keep the stream busy while they are put).
PROBES = 200
FEED_ROWS = 3_000
#: Fresh stacks per data set for the throughput pairs (sink and processor in turns, medians).
PAIRS = 3
#: Records per batch for the memory pair (both stream sizes then span many batches).
MEMORY_BATCH = 10
#: The follower's batching window (ecom realtime --follow's default).
WINDOW = 0.5

PRODUCE_CODE = """
import json, time
from pathlib import Path
from ecom.aws import session
from ecom.stream.produce import produce_files
from ecom.stream.producer import Producer
t = session.target(); res = session.resources(t)
s3 = session.client("s3", target_=t)
p = Producer(session.client("kinesis", target_=t), res.stream, s3=s3, bucket=res.bucket)
t0 = time.perf_counter()
r = produce_files([Path(x) for x in {paths!r}], p, s3=s3, bucket=res.bucket, rate={rate!r})
print(json.dumps({{"sent": r.sent, "records": r.records, "seconds": time.perf_counter() - t0}}))
"""

FOLLOW_CODE = """
import json, sys
from ecom.aws import session
from ecom.realtime.cli import make_realtime
from ecom.realtime.poller import PollerConfig
from ecom.realtime.workers import default_processes
t = session.target(); res = session.resources(t)
run = make_realtime(lambda s: session.client(s, target_=t), res, processes=default_processes())
run.poller.config = PollerConfig(idle_sleep=0.05, batch_window={window!r})
import os
run.poller.run(until_caught_up=False, should_stop=lambda: os.path.exists({stop!r}))
run.close()
p = run.processor.report
print(json.dumps({{"events": p.applied, "writes": p.writes, "write_units": p.write_units, "batches": run.poller.report.invocations}}))
"""


def _generate(ctx: Context, name: str, events: int, start: date, end: date) -> list[Path]:
    from ecom.generate import GenerateConfig, generate

    out = ctx.workdir / f"realtime-{name}"
    truth = out / "_ground_truth.json"
    wanted = {"events": events, "start": start.isoformat(), "end": end.isoformat()}
    made = json.loads(truth.read_text())["generator"] if truth.exists() else {}
    if any(made.get(k) != v for k, v in wanted.items()):  # absent, or of another scale
        shutil.rmtree(out, ignore_errors=True)
        generate(GenerateConfig(out=out, events=events, start=start, end=end, seed=16))
    return sorted(out.glob("*.csv"))


def _json_out(stdout: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return parsed


class _Emulator:
    """The project's emulator in a private ECOM_HOME, one stack per data set."""

    def __enter__(self) -> _Emulator:
        return self

    def __init__(self, home: Path) -> None:
        import ecom.aws.emulator as emulator
        import ecom.aws.session as session

        shutil.rmtree(home, ignore_errors=True)
        self.saved = os.environ.get("ECOM_HOME")
        os.environ["ECOM_HOME"] = str(home)
        self.env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
        self.env["ECOM_HOME"] = str(home)
        self.emu = emulator.start()
        self.target = session.Target("emulator", self.emu.endpoint, self.emu.region, "unused")

    def stack(self, name: str) -> dict[str, str]:
        import ecom.aws.session as session
        from ecom.aws.stack import deploy

        cfn = session.client("cloudformation", target_=self.target)
        deploy(cfn, name, {"Prefix": name, "ShardCount": "2"})
        return dict(self.env, ECOM_STACK=name)

    def __exit__(self, *_: Any) -> None:
        import ecom.aws.emulator as emulator

        emulator.stop()
        if self.saved is None:
            os.environ.pop("ECOM_HOME", None)
        else:
            os.environ["ECOM_HOME"] = self.saved


def _consume(
    emu: _Emulator,
    name: str,
    files: list[Path],
    stages: tuple[str, ...] = ("sink", "realtime"),
    batch: int = 50,
) -> dict[str, dict[str, Any]]:
    """Produce ``files`` into a fresh stack, then read them with the sink and the processor."""
    env = emu.stack(name)
    _json_out(measure_python(PRODUCE_CODE.format(paths=[str(f) for f in files], rate=None), env)[2])
    out = {}
    for stage in stages:
        _, peak, stdout = measure_python(CONSUMER_CODE.format(stage=stage, batch=batch), env)
        got = _json_out(stdout)
        got.setdefault("peak", peak)
        out[stage] = got
    return out


def _pairs(emu: _Emulator, name: str, files: list[Path]) -> dict[str, dict[str, Any]]:
    """The sink and the processor over the same stream, ``PAIRS`` times on fresh stacks, in
    turns (the order alternates): each figure is the median of its runs."""
    runs: dict[str, list[dict[str, Any]]] = {"sink": [], "realtime": []}
    for i in range(PAIRS):
        env = emu.stack(f"{name}{i}")
        _json_out(
            measure_python(PRODUCE_CODE.format(paths=[str(f) for f in files], rate=None), env)[2]
        )
        order = ("sink", "realtime") if i % 2 == 0 else ("realtime", "sink")
        for stage in order:
            _, peak, stdout = measure_python(CONSUMER_CODE.format(stage=stage, batch=50), env)
            got = _json_out(stdout)
            got.setdefault("peak", peak)
            runs[stage].append(got)
    out = {}
    for stage, each in runs.items():
        median = dict(each[0])
        for key in ("seconds", "cpu"):
            median[key] = statistics.median(g[key] for g in each)
        median["all_seconds"] = [g["seconds"] for g in each]
        out[stage] = median
    return out


def _head(files: list[Path], rows: int, target: Path) -> Path:
    """The first ``rows`` rows of ``files`` (header kept): the feeder's slice."""
    with open(target, "w") as out:
        for f in files:
            with open(f) as src:
                header = src.readline()
                if out.tell() == 0:
                    out.write(header)
                for line in src:
                    out.write(line)
                    rows -= 1
                    if rows <= 0:
                        return target
    return target


def _freshness(emu: _Emulator, files: list[Path], rate: float, probes: int) -> dict[str, Any]:
    """Probe latency from PutRecords ack to GET /metrics while produce --rate feeds the stream."""
    import urllib.request
    from urllib.parse import urlencode

    import ecom.aws.session as session
    from ecom.api.handler import ApiConfig, IngestApp
    from ecom.api.server import serving
    from ecom.events import Event, parse_fields
    from ecom.stream.records import encode_event, partition_key

    env = emu.stack("benchfresh")
    stop = str(Path(env["ECOM_HOME"]) / "follow")
    target = session.Target("emulator", emu.emu.endpoint, emu.emu.region, "benchfresh")
    res = session.resources(target)
    kinesis = session.client("kinesis", target_=target)
    app = IngestApp(
        kinesis,
        session.client("s3", target_=target),
        ApiConfig(stream=res.stream, bucket=res.bucket, metrics_table=res.metrics_table),
        session.client("dynamodb", target_=target),
    )
    follower = subprocess.Popen(
        [sys.executable, "-c", FOLLOW_CODE.format(stop=stop, window=WINDOW)],
        stdout=subprocess.PIPE,
        env=env,
    )
    feeder = subprocess.Popen(
        [sys.executable, "-c", PRODUCE_CODE.format(paths=[str(f) for f in files], rate=rate)],
        stdout=subprocess.PIPE,
        env=env,
    )
    latencies: list[float] = []
    warmup = 0.0
    try:
        with serving(app) as url:
            time.sleep(2.0)  # the follower and the feeder are running

            def probe(i: int) -> float:
                """Put one event of its own minute; seconds until GET /metrics shows it."""
                minute = f"2030-01-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}"
                outcome = parse_fields(
                    (f"{minute}:00 UTC", "view", "1", "1", "", "probe", "1.00", "1", f"p{i}")
                )
                assert isinstance(outcome, Event)
                kinesis.put_record(
                    StreamName=res.stream,
                    Data=encode_event(outcome),
                    PartitionKey=partition_key(outcome),
                )
                acked = time.perf_counter()
                start = minute.replace(" ", "T") + ":00Z"
                query = urlencode(
                    {"from": start, "to": start.replace(":00Z", ":59Z"), "grain": "minute"}
                )
                while time.perf_counter() - acked < 60:
                    with urllib.request.urlopen(f"{url}/metrics/totals?{query}") as resp:
                        if json.loads(resp.read())["total"]["events"]["view"] == 1:
                            break
                    time.sleep(0.02)
                return time.perf_counter() - acked

            # the follower's start (imports, shards, the feed's first seconds) is not freshness
            warmup = probe(probes)
            for i in range(probes):
                latencies.append(probe(i))
                time.sleep(0.1)
    finally:
        feeder_out, _ = feeder.communicate(timeout=900)
        Path(stop).touch()
        stdout, _ = follower.communicate(timeout=120)
    followed = _json_out(stdout.decode())
    fed = _json_out(feeder_out.decode())
    print("latencies", [round(x, 2) for x in latencies], file=sys.stderr)
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max": latencies[-1],
        "probes": len(latencies),
        "warmup": warmup,
        "feed_rate": fed["sent"] / fed["seconds"],
        **followed,
    }


def run(ctx: Context) -> list[Result]:
    small = max(20_000, int(100_000 * min(ctx.scale, 1.0)))
    large = small * (10 if ctx.scale >= 1.0 else 4)
    dense = _generate(ctx, "dense", small, date(2019, 11, 15), date(2019, 11, 15))
    demo = _generate(ctx, "demo", small, date(2019, 10, 1), date(2020, 2, 29))
    big = _generate(ctx, "big", large, date(2019, 11, 1), date(2019, 11, 10))
    with _Emulator(ctx.workdir / "realtime-aws") as emu:
        on_dense = _pairs(emu, "benchdense", dense)
        print(f"   dense: {on_dense}", file=sys.stderr, flush=True)
        on_demo = _pairs(emu, "benchdemo", demo)
        print(f"   demo: {on_demo}", file=sys.stderr, flush=True)
        mem_small = _consume(emu, "benchmem1", dense, ("realtime",), batch=MEMORY_BATCH)
        on_big = _consume(emu, "benchbig", big, ("realtime",), batch=MEMORY_BATCH)
        print(f"   memory: {mem_small} {on_big}", file=sys.stderr, flush=True)
        feed = _head(dense, FEED_ROWS, ctx.workdir / "realtime-feed.csv")
        fresh = _freshness(emu, [feed], rate=RATE, probes=PROBES)
    results = []
    for label, got in (("REES46-dense day", on_dense), ("demo data (5 months)", on_demo)):
        sink, rt = got["sink"], got["realtime"]
        # both consumers read every line of the stream (the sink writes each, the processor
        # applies the distinct ones): throughput is the stream's lines per second
        assert rt["lines"] == sink["events"], (rt["lines"], sink["events"])
        rate, base = rt["lines"] / rt["seconds"], sink["events"] / sink["seconds"]
        runs = ", ".join(
            f"{a:.2f}/{b:.2f}" for a, b in zip(rt["all_seconds"], sink["all_seconds"], strict=True)
        )
        results.append(
            Result(
                "realtime",
                f"processor throughput, {label}, {rt['lines']:,} lines",
                rate,
                "lines/s",
                "the sink over the same stream",
                base,
                rate / base,
                ">= 1x",
                rate / base >= 1.0,
                notes=(
                    f"fresh processes against the emulator (patched moto server, 2 shards, packed "
                    f"records); the processor as `ecom realtime` runs it: the mapping's process "
                    f"and {default_processes()} worker processes (one per core); {PAIRS} fresh "
                    "stacks, the two consumers in turns, medians: "
                    f"processor {rt['seconds']:.2f} s for {rt['lines']:,} lines ({rt['events']:,} "
                    f"events applied, {rt['duplicates']:,} copies skipped; "
                    f"{rt['events'] / rt['seconds']:,.0f} applied events/s) in "
                    f"{rt['batches']:,} batches, {rt['transactions']:,} transactions; sink "
                    f"{sink['seconds']:.2f} s; each pair's seconds, processor/sink: {runs}"
                ),
            )
        )
        own, base_own = rt["lines"] / rt["cpu"], sink["events"] / sink["cpu"]
        results.append(
            Result(
                "realtime",
                f"processor CPU (its own processes, DynamoDB emulator apart), {label}",
                own,
                "lines/CPU-s",
                "the sink's own CPU over the same stream",
                base_own,
                own / base_own,
                ">= 1x",
                own / base_own >= 1.0,
                notes=(
                    f"processor {rt['cpu']:.1f} CPU-s, sink {sink['cpu']:.1f} CPU-s (user + system "
                    "time of each consumer's process after its imports, the processor's worker "
                    "processes included; the emulator runs in another process)"
                ),
            )
        )
        writes = rt["writes"] / rt["events"] * 1000
        results.append(
            Result(
                "realtime",
                f"DynamoDB writes per 1,000 events, {label}, full speed",
                writes,
                "writes",
                target="<= 20",
                passed=writes <= 20,
                notes=(
                    f"{rt['writes']:,} item writes for {rt['events']:,} distinct events; "
                    f"{rt['write_units'] / rt['events'] * 1000:,.0f} write request units per 1,000 "
                    f"events (1 per KB of each item written, twice in a transaction); "
                    f"{rt['reads']:,} segments read"
                ),
            )
        )
    followed = fresh["writes"] / max(fresh["events"], 1) * 1000
    results.append(
        Result(
            "realtime",
            f"DynamoDB writes per 1,000 events, following produce --rate {RATE:g} (dense day)",
            followed,
            "writes",
            target="<= 20",
            passed=followed <= 20,
            notes=(
                f"{fresh['writes']:,} writes, {fresh['events']:,} events, {fresh['batches']:,} "
                f"batches; {fresh['write_units'] / max(fresh['events'], 1) * 1000:,.0f} write "
                f"request units per 1,000 events. The feed arrived at {fresh['feed_rate']:.1f} "
                "events/s over 2 shards; a shard must write at least once per freshness budget "
                f"(2 s), which puts the floor at 1,000 x 2 / ({fresh['feed_rate']:.1f} x 2) = "
                f"{1000 / fresh['feed_rate']:,.0f} writes per 1,000 events; 20 would need "
                f"{2000 / (fresh['feed_rate'] * 20):.1f} s between a shard's writes"
            ),
        )
    )
    for q in ("p50", "p99"):
        results.append(
            Result(
                "realtime",
                f"freshness {q}: PutRecords ack -> visible in GET /metrics",
                fresh[q],
                "s",
                target="p99 <= 2 s" if q == "p99" else "",
                passed=fresh[q] <= 2.0 if q == "p99" else None,
                notes=(
                    f"{fresh['probes']} probe events put one by one while `produce --rate {RATE:g}` "
                    f"fed the dense day ({fresh['feed_rate']:.1f} events/s measured); the processor "
                    "follows (idle poll 0.05 s, batch "
                    f"window {WINDOW:g} s), "
                    "GET /metrics/totals polled every 20 ms over the local HTTP server; "
                    f"max {fresh['max']:.2f} s; a first probe, put before these to wait for the "
                    f"follower's start, was seen after {fresh['warmup']:.1f} s"
                ),
            )
        )
    small_peak, big_peak = mem_small["realtime"]["peak"], on_big["realtime"]["peak"]
    growth = big_peak / small_peak
    results.append(
        Result(
            "realtime",
            f"peak memory of the processor, {on_big['realtime']['events']:,} vs "
            f"{mem_small['realtime']['events']:,} events",
            big_peak / 2**20,
            "MiB",
            f"at {mem_small['realtime']['events']:,} events",
            small_peak / 2**20,
            growth,
            "<= 1.25x",
            growth <= 1.25,
            notes=(
                f"VmHWM of the processor's process plus each worker's (imports included; the "
                "pages a forked worker shares with its parent count in each), batches of "
                f"{MEMORY_BATCH} records (~{MEMORY_BATCH * 380:,} events) so that both streams "
                "span many batches: memory is bounded by the batch, not by the stream (with the "
                "default 50 records a batch holds ~19,000 events)"
            ),
        )
    )
    return results
