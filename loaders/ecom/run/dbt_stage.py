"""The dbt stages of ``ecom run`` (``dbt build``, ``dbt docs generate``), run in this process.

dbt's programmatic entry point (:class:`dbt.cli.main.dbtRunner`) replaces a ``dbt`` child
process whose output was scraped: progress comes from dbt's structured node events, failures
from its run results, and each invocation saves starting a Python interpreter and importing
dbt again. A child process gave three things for free that are done here by hand:

* the environment the profiles read with ``env_var()`` (warehouse path, target, PostgreSQL
  settings) is set for the invocation and restored after it;
* dbt's console output is silenced (the progress bar shows the nodes) and its info-level
  lines go to the stage's log file, as its standard output did, secrets scrubbed;
* dbt-duckdb keeps its DuckDB database open for the life of the process (a class-level
  environment), which would keep the warehouse file locked against the reconciliation's
  read-only connection and every other process: it is closed after each invocation.

dbt's own ``logs/dbt.log`` (debug level) is written as before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

#: Called with (done, total or None, note) while dbt runs.
DbtProgress = Callable[[int, int | None, str], None]

#: dbt events that report a finished node, with its position ("3 of 215").
_NODE_RESULT_EVENTS = frozenset(
    {
        "LogModelResult",
        "LogTestResult",
        "LogSeedResult",
        "LogSnapshotResult",
        "LogFunctionResult",
        "LogFreshnessResult",
        "LogNodeResult",
        "LogNodeNoOpResult",
        "SkippingDetails",
    }
)
#: Node statuses of a run result that fail the invocation.
_FAILED = frozenset({"error", "fail", "runtime error"})
#: Event levels written to the stage's log (those dbt prints on its console by default).
_LOGGED_LEVELS = frozenset({"info", "warn", "error"})


@dataclass
class DbtResult:
    """What one dbt invocation reported."""

    args: list[str]
    log_path: Path
    success: bool
    seconds: float
    #: node status -> nodes (from the run results; empty for ``docs generate``)
    statuses: dict[str, int] = field(default_factory=dict)
    #: one line per failed node: ``model.ecom.fct_orders error: <dbt's message>``
    failures: list[str] = field(default_factory=list)
    #: dbt could not run at all (bad profile, a parse or compilation error)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """What ``dbt`` on the command line exits with: 0 ok, 1 nodes failed, 2 dbt failed."""
        if self.success:
            return 0
        return 2 if self.error is not None else 1

    def failure_detail(self) -> str:
        """The first failures (or dbt's error), for a stage's failure message."""
        if self.error is not None:
            return self.error
        shown = "; ".join(self.failures[:5])
        more = len(self.failures) - 5
        return (shown + (f"; and {more} more" if more > 0 else "")) or "see the log"


def run_dbt_in_process(
    args: list[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    progress: DbtProgress | None = None,
) -> DbtResult:
    """Run ``dbt ARGS`` on this project with ``env`` as its environment; never raises for dbt's
    own failures (they are in the result)."""
    from dbt.cli.main import dbtRunner
    from dbt_common.exceptions import env_secrets, scrub_secrets

    from ecom.warehouse import PROJECT_ROOT

    notify: DbtProgress = progress or (lambda *_: None)
    started = time.perf_counter()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with _environment(env), open(log_path, "w") as log:
        secrets = env_secrets()
        writer = _EventWriter(log, secrets, scrub_secrets, notify)
        runner = dbtRunner(callbacks=[writer])
        try:
            res = runner.invoke(
                [
                    *args,
                    "--project-dir",
                    str(PROJECT_ROOT),
                    "--log-level",
                    "none",  # the console; the stage's log has its lines
                    "--log-level-file",  # logs/dbt.log, which follows --log-level unless given
                    env.get("DBT_LOG_LEVEL_FILE", "debug"),
                    "--no-use-colors",
                    "--no-send-anonymous-usage-stats",
                ]
            )
        finally:
            writer.closed = True
            _close_duckdb()
    if isinstance(res.exception, KeyboardInterrupt):  # dbtRunner returns Ctrl-C as a result
        raise res.exception
    result = DbtResult(
        args=list(args),
        log_path=log_path,
        success=res.success,
        seconds=round(time.perf_counter() - started, 3),
    )
    if res.exception is not None:
        result.error = f"{type(res.exception).__name__}: {res.exception}".strip()
    for node in getattr(res.result, "results", None) or ():
        status = str(node.status)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status in _FAILED:
            # dbt's message: "Runtime Error in model x (path)", then the database's words
            lines = [line.strip() for line in (node.message or "").splitlines() if line.strip()]
            message = " ".join(lines[:2])
            result.failures.append(
                f"{node.node.unique_id} {status}" + (f": {message}" if message else "")
            )
    for error in getattr(res.result, "errors", None) or ():  # docs generate's catalog errors
        result.failures.append(str(error).strip().splitlines()[0])
    if not result.success and result.error is None and not result.failures:
        result.error = "dbt reported a failure without a failed node"
    return result


class _EventWriter:
    """dbt event callback: console lines to the log file, finished nodes to the progress bar."""

    def __init__(
        self,
        log: TextIO,
        secrets: list[str],
        scrub: Callable[[str, list[str]], str],
        notify: DbtProgress,
    ) -> None:
        self.log, self.secrets, self.scrub, self.notify = log, secrets, scrub, notify
        self.closed = False  # dbt keeps its callbacks after the invocation; ignore late events

    def __call__(self, msg: Any) -> None:
        if self.closed:
            return
        info = msg.info
        if info.level in _LOGGED_LEVELS:
            stamp = info.ts.ToDatetime().strftime("%H:%M:%S")
            self.log.write(f"{stamp}  {self.scrub(info.msg, self.secrets)}\n")
        if info.name in _NODE_RESULT_EVENTS:
            data = msg.data
            total = getattr(data, "total", 0) or getattr(data, "num_models", 0)
            self.notify(int(data.index), int(total) or None, _node_note(info.name, data))


def _node_note(event: str, data: Any) -> str:
    """The status word dbt prints on a node's line: ok, pass, warn, error, fail, skip, no-op."""
    if event == "SkippingDetails":
        return "skip"
    if event == "LogNodeNoOpResult":
        return "no-op"
    status = str(getattr(data, "status", "")).lower()
    if status in ("pass", "warn", "fail", "error"):
        return status
    return "error" if status == "runtime error" else "ok"


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` as ``env`` for the block (dbt's profiles read it), then as it was."""
    saved = dict(os.environ)
    changed = {k: v for k, v in env.items() if saved.get(k) != v}
    removed = [k for k in saved if k not in env]
    os.environ.update(changed)
    for key in removed:
        del os.environ[key]
    try:
        yield
    finally:
        for key in changed:
            if key in saved:
                os.environ[key] = saved[key]
            else:
                del os.environ[key]
        for key in removed:
            os.environ[key] = saved[key]


def _close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after an invocation (see the module doc)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: nothing is open
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
            DuckDBConnectionManager._ENV = None
