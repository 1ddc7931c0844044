"""ecom_pipeline: the stream's landing zone into the warehouse and the marts, every hour.

    check_aws -> sink -> load -> dbt (rees46.events freshness gate -> seeds and models,
    each `dbt build --select <node>` with its own tests) -> dbt_cross_model_tests -> dbt_docs

Local by default (the emulator from `ecom aws up` and the DuckDB warehouse); set
ECOM_TARGET=aws (environment or Airflow Variable) for real AWS and Redshift. See
docs/orchestration.md.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ecom_common beside this file
import ecom_common as ecom

with DAG(
    dag_id="ecom_pipeline",
    description="sink until caught up -> load -> source freshness -> dbt build per model -> docs",
    schedule=ecom.PIPELINE_SCHEDULE,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=ecom.MAX_ACTIVE_TASKS,
    default_args=ecom.DEFAULT_ARGS,
    # The run's SLA: a run still going after two hours is failed (and alerts like any failure).
    dagrun_timeout=timedelta(hours=2),
    params={
        "full_refresh": Param(False, type="boolean", description="dbt build --full-refresh"),
    },
    tags=["ecom", ecom.TARGET],
    doc_md=__doc__,
) as dag:
    check_aws = ecom.ecom_task(
        "check_aws",
        "aws status",
        retries=1,
        execution_timeout=timedelta(minutes=2),
        doc_md="Fails fast, saying what to run, when neither the emulator nor AWS is reachable.",
    )
    sink = ecom.ecom_task(
        "sink",
        "sink --until-caught-up",
        execution_timeout=timedelta(hours=1),
        doc_md="Every shard read to its end into the landing zone; checkpoints make a retry resume.",
    )
    load = ecom.ecom_task(
        "load",
        "load --lock-timeout 300",
        execution_timeout=timedelta(hours=1),
        doc_md="New landing objects into raw.events with their audit rows; a rerun loads nothing.",
    )
    dbt = ecom.dbt_task_group("dbt")
    cross_model_tests = ecom.ecom_task(
        "dbt_cross_model_tests",
        f'dbt test --select "{ecom.CROSS_MODEL_TESTS}" --target-path {ecom.DBT_TARGET_PATH}',
        retries=1,
        doc_md="Relationships, reconciliations and the raw source's tests, once every model is built.",
    )
    docs = ecom.ecom_task(
        "dbt_docs",
        "dbt docs generate --target-path " + ecom.DBT_TARGET_PATH,
        execution_timeout=timedelta(minutes=15),
        doc_md="The dbt docs site (index.html, manifest.json, catalog.json).",
    )

    check_aws >> sink >> load >> dbt >> cross_model_tests >> docs
