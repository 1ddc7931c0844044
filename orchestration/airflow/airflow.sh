#!/usr/bin/env bash
# Run Airflow from the project's Airflow environment (.venv-airflow, made by `make airflow-setup`)
# with this project's defaults; anything already set in the environment wins.
#   orchestration/airflow/airflow.sh standalone          # a local Airflow on http://localhost:8080
#   orchestration/airflow/airflow.sh dags test ecom_pipeline
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/../.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$project/.ecom/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$here/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
# cosmos renders the dbt project with `dbt ls` when the project changed: more than Airflow's
# default 30 s on a busy laptop. Later parses read cosmos' cache.
export AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="${AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT:-300}"
export AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT="${AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT:-360}"
# cosmos hashes the project folder to know when to rerun `dbt ls`: leave out what is not dbt.
export AIRFLOW__COSMOS__PROJECT_HASH_EXCLUDED_DIRS="${AIRFLOW__COSMOS__PROJECT_HASH_EXCLUDED_DIRS:-.venv,.venv-airflow,.tools,.ecom,.ci,.mypy_cache,.ruff_cache,.pytest_cache,__pycache__,data,artifacts,benchmarks,loaders,spark,infra,orchestration,docs}"
export AIRFLOW__COSMOS__ENABLE_CACHE="${AIRFLOW__COSMOS__ENABLE_CACHE:-True}"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DO_NOT_TRACK=1
export ECOM_PROJECT_DIR="${ECOM_PROJECT_DIR:-$project}"
mkdir -p "$AIRFLOW_HOME"
# `airflow.sh python ...` runs the Airflow environment's Python with the same settings.
if [[ "${1:-}" == python ]]; then
    shift
    exec "$project/.venv-airflow/bin/python" "$@"
fi
exec "$project/.venv-airflow/bin/airflow" "$@"
