"""Settings and task builders shared by the ecom DAGs (not a DAG itself: see .airflowignore).

Every setting is read from the environment of the Airflow worker first, then from an Airflow
Variable of the same name in lower case (``ECOM_TARGET`` -> Variable ``ecom_target``), then a
default that runs everything locally (the emulator recorded by ``ecom aws up`` and the DuckDB
warehouse). The DAGs call the project's own ``ecom`` command and ``dbt`` executable from the
project's environment (``.venv``), never a copy of them: Airflow lives in ``.venv-airflow``
because its protobuf conflicts with dbt-core's.

``ECOM_TARGET``         ``local`` (default: emulator + DuckDB) or ``aws`` (real AWS + Redshift)
``ECOM_PROJECT_DIR``    the ecom checkout (default: the one this file is in)
``ECOM_VENV_BIN``       where ``ecom`` and ``dbt`` live (default: ``<project>/.venv/bin``)
``ECOM_DUCKDB_PATH``    local warehouse (default: ``$ECOM_HOME/warehouse.duckdb``)
``ECOM_DBT_TARGET_PATH`` where ``dbt docs generate`` writes the docs site (default: ``target``)
``ECOM_PIPELINE_SCHEDULE`` cron or preset of the pipeline DAG (default ``@hourly``)
``ECOM_REDSHIFT_CONN_ID`` optional Airflow Connection with Redshift host/user/password/schema;
                        without it dbt and ``ecom load`` read ``REDSHIFT_*`` from the environment
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_PROJECT_DIR = Path(__file__).resolve().parents[3]


def setting(name: str, default: str) -> str:
    """``name`` from the environment, else the Airflow Variable ``name.lower()``, else ``default``."""
    value = os.environ.get(name)
    if value:
        return value
    try:
        from airflow.sdk import Variable

        found = Variable.get(name.lower(), default=None)
    except Exception:  # no metadata DB or API server reachable while parsing: use the default
        found = None
    return str(found) if found else default


TARGET = setting("ECOM_TARGET", "local").lower()
if TARGET not in ("local", "aws"):
    raise ValueError(f"ECOM_TARGET must be 'local' or 'aws', not {TARGET!r}")
IS_LOCAL = TARGET == "local"

PROJECT_DIR = Path(setting("ECOM_PROJECT_DIR", str(DEFAULT_PROJECT_DIR))).resolve()
VENV_BIN = Path(setting("ECOM_VENV_BIN", str(PROJECT_DIR / ".venv" / "bin")))
ECOM = str(VENV_BIN / "ecom")
DBT = str(VENV_BIN / "dbt")
PYTHON = str(VENV_BIN / "python")
ECOM_HOME = Path(setting("ECOM_HOME", str(PROJECT_DIR / ".ecom")))
DUCKDB_PATH = Path(setting("ECOM_DUCKDB_PATH", str(ECOM_HOME / "warehouse.duckdb"))).resolve()
DBT_TARGET_PATH = setting("ECOM_DBT_TARGET_PATH", str(PROJECT_DIR / "target"))
DBT_TARGET = "local" if IS_LOCAL else "redshift"
REDSHIFT_CONN_ID = setting("ECOM_REDSHIFT_CONN_ID", "")
PIPELINE_SCHEDULE = setting("ECOM_PIPELINE_SCHEDULE", "@hourly")

#: DuckDB has one writer at a time: locally the tasks of a run go one by one. Redshift takes more.
MAX_ACTIVE_TASKS = 1 if IS_LOCAL else 4

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "ecom",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


def _redshift_env_from_connection() -> dict[str, str]:
    """REDSHIFT_* variables templated from the Airflow Connection, rendered at run time."""
    if not REDSHIFT_CONN_ID:
        return {}
    conn = f"conn['{REDSHIFT_CONN_ID}']"
    return {
        "REDSHIFT_HOST": "{{ " + conn + ".host }}",
        "REDSHIFT_PORT": "{{ " + conn + ".port or 5439 }}",
        "REDSHIFT_DATABASE": "{{ " + conn + ".schema or 'dev' }}",
        "REDSHIFT_USER": "{{ " + conn + ".login }}",
        "DBT_ENV_SECRET_REDSHIFT_PASSWORD": "{{ " + conn + ".password }}",
    }


def stage_env() -> dict[str, str]:
    """What every task adds to the worker's environment (which it inherits as a whole)."""
    env = {
        "ECOM_HOME": str(ECOM_HOME),
        "ECOM_DUCKDB_PATH": str(DUCKDB_PATH),
        "DBT_TARGET": DBT_TARGET,
        "ECOM_LOAD_TARGET": "duckdb" if IS_LOCAL else "redshift",
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    if not IS_LOCAL:
        # Skip the emulator's state file even if one is lying around: talk to real AWS.
        env["ECOM_AWS"] = "aws"
    return env


def ecom_task(task_id: str, args: str, **kwargs: Any) -> Any:
    """A BashOperator running ``ecom ARGS`` in the project directory."""
    return bash_task(task_id, f"{ECOM} {args}", **kwargs)


def bash_task(task_id: str, command: str, **kwargs: Any) -> Any:
    """A BashOperator running ``command`` in the project directory with the stage environment."""
    from airflow.providers.standard.operators.bash import BashOperator

    env = {**stage_env(), **_redshift_env_from_connection()}
    return BashOperator(
        task_id=task_id,
        bash_command=command,
        cwd=str(PROJECT_DIR),
        env=env,
        append_env=True,
        **kwargs,
    )


def dbt_task_group(group_id: str = "dbt", **group_kwargs: Any) -> Any:
    """Every dbt seed and model as a task (``dbt build --select <node>``: the node and its tests).

    The source ``rees46.events`` is a task too: ``dbt source freshness`` gates the models.
    Rendered by astronomer-cosmos from ``dbt ls`` of the project, run by the project's dbt.
    """
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import (
        ExecutionMode,
        InvocationMode,
        LoadMode,
        SourceRenderingBehavior,
        TestBehavior,
        TestIndirectSelection,
    )

    env = stage_env()
    profile_config: ProfileConfig
    if not IS_LOCAL and REDSHIFT_CONN_ID:
        from cosmos.profiles import RedshiftUserPasswordProfileMapping

        profile_config = ProfileConfig(
            profile_name="ecom",
            target_name="redshift",
            profile_mapping=RedshiftUserPasswordProfileMapping(
                conn_id=REDSHIFT_CONN_ID,
                profile_args={"schema": setting("REDSHIFT_SCHEMA", "analytics")},
            ),
        )
    else:
        profile_config = ProfileConfig(
            profile_name="ecom",
            target_name=DBT_TARGET,
            profiles_yml_filepath=PROJECT_DIR / "profiles" / "profiles.yml",
        )
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=PROJECT_DIR,
            env_vars=env,
            partial_parse=True,
            install_dbt_deps=False,  # no packages: the project's macros live in macros/
        ),
        profile_config=profile_config,
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=DBT,
            # A model's task runs the tests of that model alone; tests that read several models
            # (relationships, reconciliations) run in one task after the group: CROSS_MODEL_TESTS.
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_LS,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=DBT,
            test_behavior=TestBehavior.BUILD,
            source_rendering_behavior=SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS,
        ),
        operator_args={
            "append_env": True,
            "emit_datasets": False,
            "full_refresh": "{{ params.full_refresh }}",
        },
        default_args={**DEFAULT_ARGS, "retries": 1},
        **group_kwargs,
    )


#: What the per-model tasks leave out under cautious indirect selection: tests with several
#: parents (relationships, the singular reconciliations) and the tests on the raw source.
CROSS_MODEL_TESTS = "test_type:singular test_name:relationships source:rees46.events"
