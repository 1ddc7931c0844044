"""`ecom run` end to end: events/s from CSV through Kinesis, S3 and the loader to built marts,
against the direct path (`ecom load-files` then `dbt build`) on the same files in the same run.

Both sides run as fresh CLI processes with their own state folder and warehouse, skip
`dbt docs generate`, and end with the same marts; the ratio is the price of the stream
detour (emulated Kinesis, S3 and DynamoDB over HTTP) plus the reconciliation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import Context, Result
from ecom.generate import FULL_SCALE_ROWS, GenerateConfig, generate

#: The emulator holds the whole stream in memory: cap the end-to-end run's size.
MAX_EVENTS = 1_000_000
MIN_EVENTS = 100_000


def _ecom(args: list[str], env: dict[str, str]) -> float:
    ecom = str(Path(sys.executable).with_name("ecom"))
    start = time.perf_counter()
    subprocess.run([ecom, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run(ctx: Context) -> list[Result]:
    events = min(MAX_EVENTS, max(MIN_EVENTS, int(FULL_SCALE_ROWS * ctx.scale)))
    data = ctx.workdir / "pipeline-events"
    shutil.rmtree(data, ignore_errors=True)
    rows = generate(GenerateConfig(out=data, events=events, seed=46)).rows

    def env_for(name: str) -> dict[str, str]:
        home = ctx.workdir / name
        shutil.rmtree(home, ignore_errors=True)
        env = dict(os.environ)
        for var in ("AWS_ENDPOINT_URL", "ECOM_AWS", "ECOM_BUCKET", "ECOM_STREAM"):
            env.pop(var, None)
        env.update(
            ECOM_HOME=str(home),
            ECOM_DUCKDB_PATH=str(home / "warehouse.duckdb"),
            DBT_TARGET_PATH=str(home / "dbt-target"),
            DBT_LOG_PATH=str(home / "dbt-logs"),
        )
        return env

    run_env = env_for("pipeline-run")
    report_path = ctx.workdir / "pipeline-run" / "report.json"
    # the emulator's start-up is not part of the figure: start it first
    _ecom(["aws", "up"], run_env)
    try:
        seconds = _ecom(
            ["run", "--input", str(data), "--fresh", "--no-docs", "--report", str(report_path)],
            run_env,
        )
    finally:
        _ecom(["aws", "down"], run_env)
    report = json.loads(report_path.read_text())

    direct_env = env_for("pipeline-direct")
    baseline = _ecom(["load-files", str(data)], direct_env)
    baseline += _ecom(["dbt", "build"], direct_env)

    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report["stage_seconds"].items())
    return [
        Result(
            "pipeline",
            "ecom run end to end (CSV -> Kinesis -> S3 -> DuckDB -> dbt build -> reconcile)",
            rows / seconds,
            "events/s",
            "load-files + dbt build",
            rows / baseline,
            baseline / seconds,
            notes=f"{rows:,} events in {seconds:.1f} s (direct path {baseline:.1f} s); "
            f"reconciliation {report['status']}; stages: {stages}.",
        ),
        Result(
            "pipeline",
            "ecom run wall time",
            seconds,
            "s",
            "load-files + dbt build",
            baseline,
            seconds / baseline,
        ),
    ]
