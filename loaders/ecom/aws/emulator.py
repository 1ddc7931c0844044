"""The local AWS emulator: a moto server on 127.0.0.1, detached, recorded in ``$ECOM_HOME/aws.json``.

Every later command reads the state file (see :mod:`ecom.aws.session`), so
``ecom aws up`` once is enough until ``ecom aws down``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ecom.aws import session
from ecom.aws.stack import deploy
from ecom.errors import AwsError
from ecom.warehouse import local_state_dir


@dataclass(frozen=True)
class Emulator:
    endpoint: str
    pid: int
    region: str
    log: str
    started: bool  # False when an already-running emulator was reused


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def responds(endpoint: str, timeout: float = 2.0) -> bool:
    """True when a moto server answers at ``endpoint``."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def running() -> Emulator | None:
    """The emulator recorded in the state file, if it is alive and answering."""
    state = session.read_state()
    if not state:
        return None
    pid = int(state.get("pid", -1))
    if pid > 0 and session.pid_alive(pid) and responds(state["endpoint"]):
        return Emulator(
            state["endpoint"], pid, state.get("region", session.DEFAULT_REGION), state["log"], False
        )
    return None


def start(*, port: int | None = None, wait: float = 30.0) -> Emulator:
    """Start a detached moto server (or reuse the running one) and record it in the state file."""
    current = running()
    if current is not None:
        return current
    home = local_state_dir()
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = home / "aws-emulator.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecom.aws.moto_patches", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI and its terminal's Ctrl-C
            close_fds=True,
        )
    deadline = time.monotonic() + wait
    while not responds(endpoint, timeout=0.5):
        if proc.poll() is not None:
            raise AwsError(f"the moto server exited with code {proc.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            proc.terminate()
            raise AwsError(f"the moto server did not answer within {wait:.0f}s; see {log_path}")
        time.sleep(0.1)
    region = session.region()
    state = {
        "endpoint": endpoint,
        "pid": proc.pid,
        "region": region,
        "log": str(log_path),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = session.state_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(session.state_path())
    session.forget()
    return Emulator(endpoint, proc.pid, region, str(log_path), True)


def deploy_stack(parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Deploy the template into the AWS the session resolves to (the emulator after ``start``)."""
    t = session.target()
    outputs = deploy(session.client("cloudformation", target_=t), t.stack_name, parameters)
    session.forget()
    return outputs


def stop(wait: float = 10.0) -> int | None:
    """Stop the recorded emulator; returns its pid, or None if none was recorded/running."""
    state = session.read_state()
    path: Path = session.state_path()
    if not state:
        return None
    pid = int(state.get("pid", -1))
    stopped: int | None = None
    if pid > 0 and session.pid_alive(pid) and _is_moto(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while session.pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.05)
        if session.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
        stopped = pid
    path.unlink(missing_ok=True)
    session.forget()
    return stopped


def _is_moto(pid: int) -> bool:
    """Guard against signalling an unrelated process that reused a stale pid."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the state file
    return b"moto.server" in cmdline or b"ecom.aws.moto_patches" in cmdline


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def env_lines(endpoint: str, region: str) -> list[str]:
    """Shell lines that point the AWS CLI (and boto3) at the emulator."""
    return [
        f"export AWS_ENDPOINT_URL={endpoint}",
        f"export AWS_DEFAULT_REGION={region}",
        "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
    ]
