"""dbt run in-process by ``ecom run`` (dbtRunner): real dbt on a real DuckDB file."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from ecom.run.dbt_stage import run_dbt_in_process
from ecom.warehouse import dbt_env

pytestmark = [pytest.mark.slow]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """dbt's target and logs in the test's folder; a warehouse file without raw.events."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    monkeypatch.delenv("DBT_TARGET", raising=False)
    environment = dbt_env()
    environment["ECOM_DUCKDB_PATH"] = str(tmp_path / "empty.duckdb")
    return environment


def test_a_failing_build_names_its_failed_nodes_and_leaves_the_warehouse_free(
    env: dict[str, str], tmp_path: Path
) -> None:
    # given a warehouse with no raw.events, so the source's tests error and the rest is skipped
    before = dict(os.environ)
    seen: list[tuple[int, int | None, str]] = []

    # when
    result = run_dbt_in_process(
        ["build"],
        env=env,
        log_path=tmp_path / "dbt-build.log",
        progress=lambda done, total, note: seen.append((done, total, note)),
    )

    # then dbt's own verdict, as its command line would give it
    assert not result.success and result.exit_code == 1 and result.error is None
    assert result.statuses["error"] >= 1 and result.statuses["skipped"] >= 1
    assert result.failures and all(" error: " in f for f in result.failures)
    # each with the database's own words, not only dbt's "Runtime Error in test ..."
    assert all("Catalog Error" in f for f in result.failures)
    # progress came from dbt's node events: every node's position out of the same total
    totals = {total for _, total, _ in seen}
    assert len(totals) == 1 and None not in totals
    assert {"error", "skip"} <= {note for _, _, note in seen}
    assert len(seen) == sum(result.statuses.values())
    # the log holds dbt's console lines, without colour codes
    log = (tmp_path / "dbt-build.log").read_text()
    assert "Running with dbt=" in log and "ERROR" in log and "\x1b[" not in log
    # the environment is as it was, and dbt-duckdb let go of the file: this process opens it
    # read-only (a different configuration, refused while dbt's handle is open)
    assert dict(os.environ) == before
    con = duckdb.connect(env["ECOM_DUCKDB_PATH"], read_only=True)
    con.close()


def test_dbt_that_cannot_start_is_exit_code_2_with_its_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["DBT_TARGET"] = "no_such_target"
    result = run_dbt_in_process(["run"], env=env, log_path=tmp_path / "dbt-run.log")
    assert not result.success and result.exit_code == 2
    assert result.error is not None and "no_such_target" in result.error
    assert "no_such_target" in result.failure_detail() and not result.failures
