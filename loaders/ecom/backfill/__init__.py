"""Run the Spark backfill job (``spark/backfill.py``) locally.

The job itself lives in ``spark/`` so that a cluster can ``spark-submit`` it with nothing
but the contract module it applies (``--py-files loaders/ecom/contract.py``); this package
loads it, builds a ``local[*]`` SparkSession with the machine's Java and this environment's
Python, and expands directories into their ``*.csv`` files.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ecom.warehouse import PROJECT_ROOT, local_state_dir

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JOB_PATH = PROJECT_ROOT / "spark" / "backfill.py"
_JOB_MODULE = "ecom_spark_backfill"

#: Settings for a local session: quiet, no web UI, few shuffle partitions.
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    # The validation compiles to large generated methods; without this flag the JVM refuses
    # to JIT-compile methods over 8 KB of bytecode and the job runs ~2.5x slower.
    "spark.driver.extraJavaOptions": "-XX:-DontCompileHugeMethods",
}


def load_job() -> ModuleType:
    """The job module ``spark/backfill.py`` (imported once, by path)."""
    module = sys.modules.get(_JOB_MODULE)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(_JOB_MODULE, JOB_PATH)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is in the repository
        raise FileNotFoundError(f"Spark job not found: {JOB_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_JOB_MODULE] = module
    spec.loader.exec_module(module)
    return module


def default_root() -> Path:
    """Local landing-zone root: ``$ECOM_HOME/lake`` (``landing/`` and ``quarantine/`` inside)."""
    return local_state_dir() / "lake"


def local_session(
    master: str = "local[*]", *, driver_memory: str = "4g", conf: dict[str, str] | None = None
) -> SparkSession:
    """A local SparkSession for the backfill; Python workers use this interpreter."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings = {**LOCAL_CONF, "spark.driver.memory": driver_memory, **(conf or {})}
    spark: SparkSession = load_job().build_session(master, conf=settings)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def expand_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; directories become their ``*.csv`` files, sorted."""
    from ecom.profile import expand_paths

    return [p.resolve() for p in expand_paths(paths)]


def backfill(
    paths: Sequence[str | Path],
    root: str | Path | None = None,
    *,
    spark: SparkSession | None = None,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Backfill CSV files (or directories of them) into ``root``; returns the job's report.

    Uses ``spark`` if given (tests share one session), else starts and stops a local one.
    """
    job = load_job()
    files = expand_inputs(paths)
    target = Path(root) if root is not None else default_root()
    target.mkdir(parents=True, exist_ok=True)
    own = spark is None
    session = spark if spark is not None else local_session()
    try:
        return job.run_backfill(
            session, [str(f) for f in files], str(target.resolve()), progress=progress
        )
    finally:
        if own:
            session.stop()
