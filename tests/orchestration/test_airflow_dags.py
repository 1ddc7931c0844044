"""The Airflow DAGs, loaded and run by a real Airflow 3 (its own environment, .venv-airflow).

``make airflow-setup`` installs the locked Airflow + astronomer-cosmos (fast when done); each
test session gets a fresh AIRFLOW_HOME with a migrated SQLite metadata DB. The end-to-end test
runs ``airflow dags test ecom_pipeline`` against a real moto server (``ecom aws up``) and a real
DuckDB file, then checks the warehouse and Airflow's own record of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ecom.warehouse import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]

AIRFLOW_SH = PROJECT_ROOT / "orchestration" / "airflow" / "airflow.sh"
DAG_GRAPH = PROJECT_ROOT / "orchestration" / "airflow" / "scripts" / "dag_graph.py"
ECOM = PROJECT_ROOT / ".venv" / "bin" / "ecom"
#: Variables that would point the DAGs somewhere else than this test's emulator and warehouse.
_ISOLATE_PREFIXES = ("AWS_", "ECOM_", "AIRFLOW", "DBT_", "REDSHIFT_")


@dataclass(frozen=True)
class AirflowEnv:
    home: Path
    env: dict[str, str]

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AIRFLOW_SH), *args],
            env={**self.env, **(env or {})},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def clone(self, home: Path) -> AirflowEnv:
        """Another AIRFLOW_HOME with a copy of this one's migrated metadata DB (runs don't mix)."""
        home.mkdir(parents=True)
        shutil.copy2(self.home / "airflow.db", home / "airflow.db")
        ecom_home = home / "ecom"
        env = {
            **self.env,
            "AIRFLOW_HOME": str(home),
            "ECOM_HOME": str(ecom_home),
            "ECOM_DUCKDB_PATH": str(ecom_home / "warehouse.duckdb"),
            "ECOM_DBT_TARGET_PATH": str(home / "dbt-target"),
        }
        return AirflowEnv(home, env)

    def ecom(self, *args: str) -> str:
        """Run the project's ``ecom`` with this Airflow's ECOM_HOME and warehouse."""
        result = subprocess.run(
            [str(ECOM), *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"ecom {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def task_states(self, dag_id: str) -> dict[str, str]:
        with sqlite3.connect(self.home / "airflow.db") as db:
            rows = db.execute(
                "select task_id, state from task_instance where dag_id = ?", (dag_id,)
            ).fetchall()
        return dict(rows)

    def dag_graph(self, tmp: Path, env: dict[str, str] | None = None) -> dict:
        out = tmp / "graph.json"
        result = self.run("python", str(DAG_GRAPH), str(out), env=env)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return json.loads(out.read_text())


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATE_PREFIXES)}


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> AirflowEnv:
    started = time.perf_counter()
    setup = subprocess.run(
        ["make", "--no-print-directory", "airflow-setup"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout[-4000:] + setup.stderr[-4000:]
    home = tmp_path_factory.mktemp("airflow-home")
    ecom_home = home / "ecom"
    env = {
        **_clean_env(),
        "AIRFLOW_HOME": str(home),
        "ECOM_HOME": str(ecom_home),
        "ECOM_DUCKDB_PATH": str(ecom_home / "warehouse.duckdb"),
        "ECOM_DBT_TARGET_PATH": str(home / "dbt-target"),
    }
    af = AirflowEnv(home, env)
    migrate = af.run("db", "migrate")
    assert migrate.returncode == 0, migrate.stdout[-4000:] + migrate.stderr[-4000:]
    print(f"airflow-setup + db migrate: {time.perf_counter() - started:.1f} s")
    return af


def _ancestors(tasks: dict, task_id: str) -> set[str]:
    seen: set[str] = set()
    todo = list(tasks[task_id]["upstream"])
    while todo:
        t = todo.pop()
        if t not in seen:
            seen.add(t)
            todo.extend(tasks[t]["upstream"])
    return seen


def test_dags_load_with_the_expected_task_graph(airflow: AirflowEnv, tmp_path: Path) -> None:
    # when Airflow loads the DAG folder
    graph = airflow.dag_graph(tmp_path)

    # then nothing fails to import and both DAGs are there
    assert graph["import_errors"] == {}
    assert set(graph["dags"]) == {"ecom_pipeline", "ecom_backfill"}

    dag = graph["dags"]["ecom_pipeline"]
    tasks = dag["tasks"]
    # the stages run in order: sink until caught up -> load -> dbt -> cross-model tests -> docs
    assert tasks["check_aws"]["upstream"] == []
    assert tasks["sink"]["upstream"] == ["check_aws"]
    assert tasks["sink"]["command"].endswith("ecom sink --until-caught-up")
    assert tasks["load"]["upstream"] == ["sink"]
    assert tasks["dbt_docs"]["upstream"] == ["dbt_cross_model_tests"]
    assert "docs generate" in tasks["dbt_docs"]["command"]

    # every model and seed of the dbt project is a `dbt build` task, after the load
    models = {p.stem for p in (PROJECT_ROOT / "models").rglob("*.sql")}
    seeds = {p.stem for p in (PROJECT_ROOT / "seeds").glob("*.csv")}
    assert models, "the dbt project has no models"
    expected = {f"dbt.{m}_model_build" for m in models} | {f"dbt.{s}_seed_build" for s in seeds}
    dbt_tasks = {t for t in tasks if t.startswith("dbt.")}
    assert expected <= dbt_tasks, sorted(expected - dbt_tasks)
    for task_id in expected:
        assert tasks[task_id]["operator"] == "DbtBuildLocalOperator"
        assert "load" in _ancestors(tasks, task_id), task_id
    # the freshness gate: dbt source freshness on raw.events before staging reads it
    assert tasks["dbt.rees46_events_source"]["operator"] == "DbtSourceLocalOperator"
    assert tasks["dbt.rees46_events_source"]["upstream"] == ["load"]
    assert "dbt.rees46_events_source" in tasks["dbt.stg_events_model_build"]["upstream"]
    # tests across models run once every dbt task is done
    assert dbt_tasks <= _ancestors(tasks, "dbt_cross_model_tests")

    # retries and timeouts everywhere; DuckDB has one writer, so one task at a time locally
    for task_id, task in tasks.items():
        assert task["execution_timeout"], task_id
    for task_id in ("sink", "load", "dbt_docs"):
        assert tasks[task_id]["retries"] >= 2, task_id
    assert dag["max_active_tasks"] == 1
    assert dag["max_active_runs"] == 1
    assert dag["dagrun_timeout"] == 2 * 3600
    assert tasks["load"]["env"]["ECOM_LOAD_TARGET"] == "duckdb"
    assert tasks["load"]["env"]["DBT_TARGET"] == "local"

    backfill = graph["dags"]["ecom_backfill"]
    b = backfill["tasks"]
    assert backfill["schedule"] is None
    assert b["publish"]["upstream"] == ["spark_backfill"]
    assert b["trigger_pipeline"]["upstream"] == ["publish"]
    assert "ecom backfill" in b["spark_backfill"]["command"]
    assert set(backfill["params"]) >= {"paths", "root"}


def test_aws_target_is_configuration_only(airflow: AirflowEnv, tmp_path: Path) -> None:
    # given ECOM_TARGET=aws (as an Airflow Variable set through the environment)
    graph = airflow.dag_graph(tmp_path, env={"AIRFLOW_VAR_ECOM_TARGET": "aws"})

    # then the same graph talks to real AWS and Redshift, and may run tasks side by side
    assert graph["import_errors"] == {}
    dag = graph["dags"]["ecom_pipeline"]
    load_env = dag["tasks"]["load"]["env"]
    assert load_env["ECOM_AWS"] == "aws"
    assert load_env["ECOM_LOAD_TARGET"] == "redshift"
    assert load_env["DBT_TARGET"] == "redshift"
    assert dag["max_active_tasks"] > 1
    assert "dbt.stg_events_model_build" in dag["tasks"]


@pytest.fixture
def emulator_with_events(airflow: AirflowEnv, tmp_path: Path) -> Iterator[dict]:
    """`ecom aws up` in the test's ECOM_HOME, and 20,000 generated events produced into Kinesis."""
    events = tmp_path / "events"
    airflow.ecom("generate", "--out", str(events), "--events", "20000", "--seed", "9")
    airflow.ecom("aws", "up")
    try:
        airflow.ecom("produce", str(events))
        yield json.loads((events / "_ground_truth.json").read_text())
    finally:
        airflow.ecom("aws", "down")


def test_pipeline_dag_runs_end_to_end(airflow: AirflowEnv, emulator_with_events: dict) -> None:
    truth = emulator_with_events

    # when Airflow runs the whole pipeline DAG
    started = time.perf_counter()
    result = airflow.run("dags", "test", "ecom_pipeline", timeout=1500)
    elapsed = time.perf_counter() - started
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-8000:]
    print(f"airflow dags test ecom_pipeline: {elapsed:.1f} s")

    # then Airflow recorded every task of the run as a success
    states = airflow.task_states("ecom_pipeline")
    assert {"check_aws", "sink", "load", "dbt_cross_model_tests", "dbt_docs"} <= set(states)
    models = {p.stem for p in (PROJECT_ROOT / "models").rglob("*.sql")}
    assert {f"dbt.{m}_model_build" for m in models} | {"dbt.rees46_events_source"} <= set(states)
    assert {t: s for t, s in states.items() if s != "success"} == {}

    # and the warehouse holds every produced event once, and the marts reconcile with it
    con = duckdb.connect(airflow.env["ECOM_DUCKDB_PATH"], read_only=True)
    try:
        raw_rows, raw_distinct = con.sql(
            "select count(*), count(distinct event_id) from raw.events"
        ).fetchone()
        assert raw_rows == truth["rows"]
        assert raw_distinct == truth["distinct_events"]
        assert con.sql("select count(*) from raw.load_audit").fetchone()[0] > 0
        assert (
            con.sql("select count(*) from staging.stg_events").fetchone()[0]
            == truth["distinct_events"]
        )
        revenue, orders = con.sql(
            "select sum(revenue), sum(orders) from marts.fct_sales_daily"
        ).fetchone()
        assert float(revenue) == pytest.approx(truth["revenue"], abs=0.005)
        assert orders == truth["sessions_with_purchase"]
        marts = {
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert {
            "fct_sessions",
            "fct_funnel_daily",
            "fct_orders",
            "customer_rfm",
            "dim_date",
        } <= marts
        assert con.sql("select count(*) from marts.fct_sessions").fetchone()[0] > 0
        assert con.sql("select count(*) from marts.customer_rfm").fetchone()[0] > 0
    finally:
        con.close()

    # and the docs site was generated, with the marts in its catalog
    target = Path(airflow.env["ECOM_DBT_TARGET_PATH"])
    assert (target / "index.html").is_file()
    catalog = json.loads((target / "catalog.json").read_text())
    assert any(key.endswith(".fct_sessions") for key in catalog["nodes"])


def test_backfill_dag_lands_spark_parquet_where_load_finds_it(
    airflow: AirflowEnv, tmp_path: Path
) -> None:
    # given a week of generated events and a running emulator (in an Airflow home of its own)
    af = airflow.clone(tmp_path / "airflow-backfill")
    events = tmp_path / "events"
    af.ecom(
        "generate", "--out", str(events), "--start", "2019-10-01", "--end", "2019-10-07",
        "--events", "3000", "--seed", "5",
    )  # fmt: skip
    truth = json.loads((events / "_ground_truth.json").read_text())
    af.ecom("aws", "up")
    try:
        # when Airflow runs the backfill DAG on the file
        conf = {"paths": [str(p) for p in sorted(events.glob("*.csv"))], "driver_memory": "1g"}
        result = af.run("dags", "test", "ecom_backfill", "--conf", json.dumps(conf), timeout=900)
        assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]
        states = af.task_states("ecom_backfill")
        assert states == {
            "spark_backfill": "success",
            "publish": "success",
            "trigger_pipeline": "success",
        }
        # then the pipeline's loader finds exactly the backfilled rows in the landing bucket
        af.ecom("load")
    finally:
        af.ecom("aws", "down")
    con = duckdb.connect(af.env["ECOM_DUCKDB_PATH"], read_only=True)
    try:
        by_source = dict(con.sql("select source, count(*) from raw.events group by 1").fetchall())
        distinct = con.sql("select count(distinct event_id) from raw.events").fetchone()[0]
    finally:
        con.close()
    assert by_source == {"backfill": truth["rows"]}
    assert distinct == truth["distinct_events"]
