"""Generator: full-scale rows/s and peak memory, against DuckDB writing the same rows to CSV."""

from __future__ import annotations

import json
import shutil
import time

from benchmarks.run import Context, Result, measure_python
from ecom.generate import FULL_SCALE_ROWS

TARGET_SECONDS = 60.0
TARGET_PEAK_BYTES = 2 * 2**30


def run(ctx: Context) -> list[Result]:
    rows_wanted = int(FULL_SCALE_ROWS * ctx.scale)
    out = ctx.workdir / "generated"
    shutil.rmtree(out, ignore_errors=True)
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from ecom.generate import GenerateConfig, generate\n"
        f"r = generate(GenerateConfig(out=Path({str(out)!r}), events={rows_wanted}, seed=46))\n"
        "print(json.dumps({'rows': r.rows, 'bytes': sum(f.bytes for f in r.files)}))\n"
    )
    seconds, peak, stdout = measure_python(code)
    written = json.loads(stdout.strip().splitlines()[-1])
    ctx.cache["generated_dir"] = out
    ctx.cache["generated_rows"] = written["rows"]

    # Baseline: DuckDB writing the very same rows (same width) from memory to CSV.
    import duckdb

    con = duckdb.connect()
    con.execute(f"create table ev as select * from read_csv('{out}/*.csv', all_varchar = true)")
    target = ctx.workdir / "duckdb-baseline.csv"
    start = time.perf_counter()
    con.execute(f"copy ev to '{target}' (header)")
    baseline = time.perf_counter() - start
    con.close()
    target.unlink(missing_ok=True)

    rows = written["rows"]
    return [
        Result(
            "generate",
            "wall time, full data set",
            seconds,
            "s",
            "DuckDB COPY of the same rows to CSV",
            baseline,
            seconds / baseline,
            f"<= {TARGET_SECONDS:.0f} s" if ctx.scale == 1 else "",
            seconds <= TARGET_SECONDS if ctx.scale == 1 else None,
            notes=f"{rows:,} rows, {written['bytes'] / 1e9:.2f} GB of CSV; wall time of a fresh Python process "
            "(imports included); baseline excludes loading the rows into DuckDB.",
        ),
        Result(
            "generate",
            "throughput",
            rows / seconds,
            "rows/s",
            "DuckDB COPY",
            rows / baseline,
            baseline / seconds,
        ),
        Result(
            "generate",
            "peak memory (RSS)",
            peak / 2**30,
            "GiB",
            target=f"< {TARGET_PEAK_BYTES / 2**30:.0f} GiB",
            passed=peak < TARGET_PEAK_BYTES,
            notes="ru_maxrss of the generating process, from os.wait4.",
        ),
    ]
