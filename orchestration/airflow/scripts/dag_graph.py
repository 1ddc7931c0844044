"""Print the DAGs of orchestration/airflow/dags as Airflow loads them, as JSON (for tests and review).

    orchestration/airflow/airflow.sh python orchestration/airflow/scripts/dag_graph.py [OUT.json]

Airflow logs to standard output while it loads the DAGs, so give OUT to get clean JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag


def _seconds(value: object) -> float | None:
    return value.total_seconds() if hasattr(value, "total_seconds") else None


def main() -> None:
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "schedule": str(dag.schedule) if dag.schedule is not None else None,
            "max_active_runs": dag.max_active_runs,
            "max_active_tasks": dag.max_active_tasks,
            "dagrun_timeout": _seconds(dag.dagrun_timeout),
            "params": sorted(dag.params.keys()),
            "tasks": {
                t.task_id: {
                    "operator": type(t).__name__,
                    "upstream": sorted(t.upstream_task_ids),
                    "retries": t.retries,
                    "execution_timeout": _seconds(t.execution_timeout),
                    "command": getattr(t, "bash_command", None),
                    "env": getattr(t, "env", None),
                }
                for t in dag.tasks
            },
        }
    text = json.dumps({"import_errors": dict(bag.import_errors), "dags": dags}, indent=1)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
