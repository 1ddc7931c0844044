"""Shared by the presentation tests: the built warehouse's paths and how chromium is launched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecom.warehouse import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "artifacts" / "present"
#: What chromium needs to run headless as root on a bare machine, quietly and offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Warehouse:
    db_path: Path
    target_dir: Path
    home: Path


def guard_requests(page: Any, allow: tuple[str, ...]) -> list[str]:
    """Record every URL the page requests and abort those not starting with one of ``allow``."""
    fetched: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        fetched.append(url)
        if url.startswith(allow):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", guard)
    return fetched


def has_mart(db_path: Path, mart: str) -> bool:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return bool(
            con.execute(
                "select count(*) from information_schema.tables where table_schema = 'marts' "
                "and table_name = ?",
                [mart],
            ).fetchone()[0]  # type: ignore[index]
        )
    finally:
        con.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class App:
    """`ecom dashboard serve` running in a child process on a free port of 127.0.0.1."""

    def __init__(
        self, db_path: Path, api_url: str | None = None, env: dict[str, str] | None = None
    ):
        import os
        import subprocess
        import sys
        import time
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ecom = Path(sys.executable).with_name("ecom")
        args = [str(ecom), "dashboard", "serve", "--port", str(self.port), "--duckdb", str(db_path)]
        if api_url:
            args += ["--api-url", api_url]
        self.log = db_path.parent / f"dashboard-app-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the app did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        import subprocess

        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")


def open_page(
    browser: Any, url: str, *, offline: bool = False
) -> tuple[Any, Any, list[str], list[str]]:
    """A new page at ``url``: (context, page, console errors, requested URLs); non-local requests abort."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, offline=offline)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    fetched = guard_requests(page, allow=LOCAL)
    page.on("websocket", lambda ws: fetched.append(ws.url))  # routes do not see websockets
    page.goto(url)
    return context, page, errors, fetched


def marks(page: Any, chart: str) -> Any:
    """The drawn marks (bars, lines, cells) of the app's chart ``chart``."""
    return page.locator(f".st-key-chart-{chart} svg g.role-mark > path")


def wait_for_charts(page: Any, charts: list[str], timeout: float = 30_000) -> None:
    """Wait until each chart has marks, and check one of them at least is visible."""
    for chart in charts:
        drawn = marks(page, chart)
        drawn.first.wait_for(state="attached", timeout=timeout)
        visible = drawn.evaluate_all(
            "els => els.filter(e => { const r = e.getBoundingClientRect();"
            " return r.width > 0 && r.height > 0; }).length"
        )
        assert visible > 0, f"{chart}: none of its {drawn.count()} marks is visible"
