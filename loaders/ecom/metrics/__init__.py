"""The semantic layer: every metric defined once in dbt (MetricFlow), queried at any grain.

The semantic models and metrics live in ``models/marts/_semantic_models.yml`` and
``models/marts/_metrics.yml``. MetricFlow's CLI (``mf``) reads the semantic manifest from
``<project>/target/semantic_manifest.json`` only, so these helpers give it a project folder of
its own (``.ecom/metricflow/`` by default: ``dbt_project.yml`` linked, ``target/`` written by
``dbt parse``) and never touch the ``target/`` of other dbt runs.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ecom.warehouse import PROJECT_ROOT, dbt_env, local_state_dir, run_dbt

#: The metrics every consumer (dashboard, PowerBI, API) agrees on, by name.
AGREED_METRICS: tuple[str, ...] = (
    "revenue",
    "orders",
    "units",
    "average_order_value",
    "buyers",
    "sessions",
    "session_conversion_rate",
    "view_to_cart_rate",
    "cart_to_purchase_rate",
    "cart_abandonment_rate",
    "product_conversion_rate",
    "churn_rate",
)


class MetricsError(RuntimeError):
    """dbt could not parse the project, or MetricFlow failed."""


def metricflow_dir() -> Path:
    """MetricFlow's own project folder (``ECOM_HOME/metricflow``)."""
    return local_state_dir() / "metricflow"


def prepare(workdir: Path | None = None) -> Path:
    """Parse the dbt project into ``workdir/target`` (the semantic manifest) for ``mf``."""
    workdir = workdir or metricflow_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "dbt_project.yml"
    if not link.is_symlink() or link.resolve() != PROJECT_ROOT / "dbt_project.yml":
        link.unlink(missing_ok=True)
        link.symlink_to(PROJECT_ROOT / "dbt_project.yml")
    code = run_dbt(
        [
            "parse",
            "--quiet",
            "--target-path",
            str(workdir / "target"),
            "--log-path",
            str(workdir / "logs"),
        ]
    )
    if code != 0:
        raise MetricsError(f"dbt parse failed (exit {code}): see {workdir / 'logs'}")
    return workdir


def mf_env(workdir: Path) -> dict[str, str]:
    """Environment for ``mf``: the project's profiles, the local warehouse, this project folder."""
    env = dbt_env()  # DBT_PROFILES_DIR: the caller's, else the project's profiles
    env["DBT_PROJECT_DIR"] = str(workdir)
    return env


def run_mf(args: list[str], workdir: Path | None = None) -> int:
    """Run ``mf ARGS`` against the prepared project folder; returns its exit code."""
    workdir = workdir or metricflow_dir()
    if not (workdir / "target" / "semantic_manifest.json").exists():
        prepare(workdir)
    mf = Path(sys.executable).with_name("mf")
    command = [str(mf) if mf.exists() else "mf", *args]
    return subprocess.call(command, cwd=workdir, env=mf_env(workdir))


def query(
    metrics: list[str],
    group_by: list[str],
    *,
    workdir: Path | None = None,
    order: list[str] | None = None,
    where: str | None = None,
) -> list[dict[str, str]]:
    """``mf query``'s rows (as text, keyed by column) for ``metrics`` by ``group_by``."""
    workdir = workdir or metricflow_dir()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.csv"
        args = ["query", "--metrics", ",".join(metrics), "--quiet", "--csv", str(out)]
        if group_by:
            args += ["--group-by", ",".join(group_by)]
        if order:
            args += ["--order", ",".join(order)]
        if where:
            args += ["--where", where]
        code = run_mf(args, workdir)
        if code != 0 or not out.exists():
            raise MetricsError(f"mf query failed (exit {code}) for {metrics} by {group_by}")
        with open(out, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))


def semantic_manifest(workdir: Path | None = None) -> dict[str, Any]:
    """The semantic manifest ``dbt parse`` wrote (metrics, semantic models)."""
    workdir = workdir or metricflow_dir()
    path = workdir / "target" / "semantic_manifest.json"
    if not path.exists():
        prepare(workdir)
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest
