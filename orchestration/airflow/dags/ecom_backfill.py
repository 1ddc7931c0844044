"""ecom_backfill: historic REES46 CSV files through Spark into the landing zone, then the marts.

    spark_backfill -> publish -> trigger ecom_pipeline (load -> dbt build -> docs)

Triggered by hand with the files to backfill, e.g. {"paths": ["/data/2019-Oct.csv"]}. Spark
runs locally (`ecom backfill`, local[*]); on a cluster, submit spark/backfill.py instead (see
docs/backfill.md) and trigger ecom_pipeline. See docs/orchestration.md.
"""

from __future__ import annotations

import shlex
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ecom_common beside this file
import ecom_common as ecom

LAKE = str(ecom.ECOM_HOME / "lake")
PUBLISH = ecom.PROJECT_DIR / "orchestration" / "airflow" / "scripts" / "publish_backfill.py"

with DAG(
    dag_id="ecom_backfill",
    description="historic CSV -> Spark -> Parquet in the landing zone -> ecom_pipeline",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=ecom.DEFAULT_ARGS,
    dagrun_timeout=timedelta(hours=6),
    params={
        "paths": Param(
            [],
            type="array",
            items={"type": "string"},
            minItems=1,
            description="REES46 CSV files or directories of them, as the worker sees them",
        ),
        "root": Param(LAKE, type="string", description="local landing-zone root Spark writes"),
        "driver_memory": Param("4g", type="string", description="memory of the local Spark JVM"),
    },
    user_defined_filters={"sh": shlex.quote},
    tags=["ecom", "spark", ecom.TARGET],
    doc_md=__doc__,
) as dag:
    spark_backfill = ecom.ecom_task(
        "spark_backfill",
        "backfill {% for p in params.paths %}{{ p | sh }} {% endfor %}"
        "--root {{ params.root | sh }} --driver-memory {{ params.driver_memory | sh }}",
        execution_timeout=timedelta(hours=4),
        retries=1,
        doc_md="Validated, date-partitioned Parquet (and quarantine) under the root; a rerun rewrites it.",
    )
    publish = ecom.bash_task(
        "publish",
        f"{ecom.PYTHON} {PUBLISH} " + "{{ params.root | sh }}",
        execution_timeout=timedelta(hours=1),
        doc_md="The root's backfill partitions mirrored to the landing bucket, where `ecom load` reads.",
    )
    build = TriggerDagRunOperator(
        task_id="trigger_pipeline",
        trigger_dag_id="ecom_pipeline",
        wait_for_completion=False,
        doc_md="ecom_pipeline loads the new objects and rebuilds the marts.",
    )

    spark_backfill >> publish >> build
