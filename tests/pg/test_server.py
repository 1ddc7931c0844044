"""The throwaway PostgreSQL server: starts, runs as an unprivileged user, stops without a trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecom.pg.server import PostgresServer
from ecom.warehouse import run_dbt
from postgres_fixtures import PostgresDatabase

pytestmark = pytest.mark.xdist_group("postgres")


def test_server_runs_and_takes_connections(postgres_server: PostgresServer) -> None:
    with postgres_server.connect() as con:
        row = con.execute(
            "select current_database(), current_user, current_setting('TimeZone'),"
            " current_setting('listen_addresses'), pg_postmaster_start_time() is not null"
        ).fetchone()
    assert row == ("ecom", "ecom", "UTC", "127.0.0.1", True)


def test_password_is_required(postgres_server: PostgresServer) -> None:
    import psycopg

    wrong = postgres_server.conninfo().replace(postgres_server.password, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)


def test_each_test_gets_its_own_database(postgres_db: PostgresDatabase) -> None:
    assert os.environ["DBT_TARGET"] == "postgres"
    assert os.environ["POSTGRES_DATABASE"].startswith("t_")
    with postgres_db.connect() as con:
        con.execute("create table t (x int)")
        assert con.execute("select count(*) from t").fetchone() == (0,)


def test_dbt_connects_with_the_postgres_target(postgres_db: object, tmp_path: Path) -> None:
    code = run_dbt(["debug", "--log-path", str(tmp_path / "logs")])
    assert code == 0


def test_start_and_stop_leave_nothing_behind() -> None:
    server = PostgresServer.start()
    pid_file = server.data_dir / "postmaster.pid"
    pid = int(pid_file.read_text().split()[0])
    if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as an unprivileged user
        assert Path(f"/proc/{pid}").stat().st_uid != 0
    server.stop()
    assert not server.root.exists()
    assert gone(pid)


def gone(pid: int, timeout: float = 10.0) -> bool:
    """The process has exited (pg_ctl returns once the pid file is gone; exit follows)."""
    deadline = time.monotonic() + timeout
    status = Path(f"/proc/{pid}/status")
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_cli_up_status_env_down(tmp_path: Path) -> None:
    ecom = [sys.executable, "-m", "ecom.cli"]
    env = {**os.environ, "ECOM_HOME": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ecom, "postgres", *args], capture_output=True, text=True, env=env)

    assert run("status").returncode == 1
    up = run("up")
    assert up.returncode == 0, up.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in up.stdout.strip().splitlines()
    )
    assert exports["DBT_TARGET"] == "postgres"
    assert set(exports) >= {"POSTGRES_HOST", "POSTGRES_PORT", "DBT_ENV_SECRET_POSTGRES_PASSWORD"}
    try:
        assert run("up").stdout == up.stdout  # reused, not a second server
        assert run("env").stdout == up.stdout
        assert "running on 127.0.0.1:" + exports["POSTGRES_PORT"] in run("status").stdout
        state = json.loads((tmp_path / "postgres" / "server.json").read_text())
    finally:
        down = run("down")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not Path(state["root"]).exists()
    assert run("status").returncode == 1


def test_a_killed_owner_does_not_leave_its_server_running(tmp_path: Path) -> None:
    # given a process that starts a server it watches, then is killed before stopping it
    script = (
        "import os, signal, sys\n"
        "from ecom.pg.server import PostgresServer\n"
        "s = PostgresServer.start(owner=os.getpid())\n"
        "print(s.root, int((s.data_dir / 'postmaster.pid').read_text().split()[0]), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    root, pid = proc.stdout.split()
    # then the watchdog stops the server and deletes its folder
    assert gone(int(pid), timeout=20)
    deadline = time.monotonic() + 10
    while Path(root).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(root).exists()
