"""Benchmark driver: each benchmark module under ``benchmarks/`` exposes ``run(ctx) -> list[Result]``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_JSON = ROOT / "benchmarks" / "results.json"

#: Benchmark modules, run in this order. A module that does not exist yet is skipped.
MODULES = (
    "benchmarks.bench_generate",
    "benchmarks.bench_producer",
    "benchmarks.bench_load",
    "benchmarks.bench_dbt",
    "benchmarks.bench_dashboard",
    "benchmarks.bench_postgres",
    "benchmarks.bench_spark",
    "benchmarks.bench_api",
    "benchmarks.bench_realtime",
    "benchmarks.bench_pipeline",
)


@dataclass
class Result:
    """One measured figure and its same-run baseline."""

    benchmark: str
    measure: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    workdir: Path
    scale: float  # 1.0 = the full 20.7M-row data set
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModuleRun:
    """How one benchmark module ran: its wall time, and the error if it failed."""

    name: str
    seconds: float
    error: str = ""


def measure_python(code: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run Python code in a fresh interpreter: (wall seconds, peak RSS bytes of that process, stdout).

    The child is reaped with ``os.wait4`` so the RSS is this child's own, not the maximum
    over every child the benchmark run has started.
    """
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({proc.returncode}):\n{code}")
    return elapsed, usage.ru_maxrss * 1024, stdout


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def write_results(
    results: list[Result], started: datetime, scale: float, runs: list[ModuleRun] | None = None
) -> None:
    runs = runs or []
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {started:%Y-%m-%d %H:%M} UTC; machine: {machine()}; "
        f"scale {scale:g} of the full REES46 volume (20.7M rows).",
        "Every ratio is against a baseline measured in the same run on the same machine.",
        "",
        "| benchmark | measure | value | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base = f"{r.baseline_name}: {r.baseline_value:,.2f}" if r.baseline_value is not None else ""
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        met = "" if r.passed is None else ("yes" if r.passed else "**no**")
        lines.append(
            f"| {r.benchmark} | {r.measure} | {r.value:,.2f} {r.unit} | {base} | {ratio} | {r.target} | {met} |"
        )
    targets = [r for r in results if r.passed is not None]
    if targets:
        met_count = sum(1 for r in targets if r.passed)
        lines += ["", f"Targets met: {met_count} of {len(targets)}."]
    if runs:
        lines += ["", "## Runs", "", "| module | wall time | outcome |", "|---|---|---|"]
        for m in runs:
            outcome = f"**failed**: {m.error}" if m.error else "ok"
            lines.append(f"| {m.name} | {m.seconds:,.1f} s | {outcome} |")
    notes = [f"- **{r.benchmark} / {r.measure}**: {r.notes}" for r in results if r.notes]
    if notes:
        lines += ["", "## Notes", "", *notes]
    RESULTS_MD.write_text("\n".join(lines) + "\n")
    RESULTS_JSON.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE", "1.0")),
        help="fraction of the full 20.7M-row volume (default 1.0; env BENCH_SCALE)",
    )
    parser.add_argument("--only", nargs="*", help="module names to run (e.g. bench_generate)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".ecom" / "bench")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    ctx = Context(workdir=args.workdir, scale=args.scale)
    started = datetime.now(UTC)
    results: list[Result] = []
    runs: list[ModuleRun] = []
    for name in MODULES:
        short = name.rsplit(".", 1)[1]
        if args.only and short not in args.only:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"== {short}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            got = module.run(ctx)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            runs.append(ModuleRun(short, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"))
            continue
        runs.append(ModuleRun(short, time.perf_counter() - t0))
        for r in got:
            print(
                f"   {r.measure}: {r.value:,.2f} {r.unit}"
                + (f" ({r.ratio:.2f}x {r.baseline_name})" if r.ratio else ""),
                file=sys.stderr,
                flush=True,
            )
        results.extend(got)
    if args.only and RESULTS_JSON.exists():
        results = _merge_previous(results)
    write_results(results, started, args.scale, runs)
    print(f"wrote {RESULTS_MD.relative_to(ROOT)}", file=sys.stderr)
    failed = [r for r in runs if r.error]
    if failed:
        names = ", ".join(r.name for r in failed)
        print(f"benchmarks that failed: {names} (see RESULTS.md)", file=sys.stderr)
        raise SystemExit(1)


def _merge_previous(results: list[Result]) -> list[Result]:
    """With ``--only``, keep the previous figures of the benchmarks not rerun, marked as such."""
    previous = json.loads(RESULTS_JSON.read_text())
    rerun = {r.benchmark for r in results}
    # when and at which scale the kept figures were measured (the previous RESULTS.md's header)
    header = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    found = re.search(r"on (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC;.*?; scale ([\d.]+)", header)
    earlier = f" ({found.group(1)} UTC, scale {found.group(2)})" if found else ""
    kept = []
    for item in previous:
        if item.get("benchmark") in rerun:
            continue
        r = Result(**{k: v for k, v in item.items() if k in Result.__dataclass_fields__})
        if "earlier run" not in r.notes:
            r.notes = (
                r.notes + "; " if r.notes else ""
            ) + f"from an earlier run of make bench{earlier}"
        kept.append(r)
    return kept + results
