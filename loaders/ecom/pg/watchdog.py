"""``python -m ecom.pg.watchdog PID ROOT BINDIR``: stop a throwaway server when process PID ends.

A test session's server must not outlive the session, even when the session is killed (a CI
timeout, Ctrl-C twice) before its fixture can stop it: ``PostgresServer.start(owner=pid)``
starts this watchdog in its own session; it polls PID once a second, then stops the server
(immediate shutdown) and deletes its folder. A server stopped normally makes it exit too.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from ecom.aws.session import pid_alive


def alive(pid: int) -> bool:
    if not pid_alive(pid):
        return False
    try:  # a zombie has ended too
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def main(argv: list[str]) -> int:
    from ecom.pg.server import _stop_quietly

    owner, root, bindir = int(argv[0]), Path(argv[1]), Path(argv[2])
    while alive(owner):
        if not root.exists():  # stopped and deleted by its owner
            return 0
        time.sleep(1.0)
    if root.exists():
        _stop_quietly(bindir, root)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
