"""``ecom docs serve``: generate the dbt docs site and serve it on 127.0.0.1.

dbt's docs site is three files: ``index.html`` (the app), ``manifest.json`` (models,
descriptions, lineage) and ``catalog.json`` (the columns as the warehouse has them). The
app fetches the two JSON files, so it must be served over HTTP rather than opened from
disk. Only those files are served, and only on the loopback address.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ecom.warehouse import PROJECT_ROOT, run_dbt

DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
DEFAULT_TARGET = PROJECT_ROOT / "target"


class DocsError(RuntimeError):
    """The docs site could not be generated or is incomplete."""


def generate_docs(target_dir: Path = DEFAULT_TARGET) -> Path:
    """Run ``dbt docs generate`` into ``target_dir`` (needs the marts built for the catalog)."""
    code = run_dbt(["docs", "generate", "--target-path", str(target_dir)])
    if code != 0:
        raise DocsError(f"`dbt docs generate` failed with exit code {code}")
    check_docs(target_dir)
    return target_dir


def check_docs(target_dir: Path) -> None:
    missing = [name for name in DOCS_FILES if not (target_dir / name).is_file()]
    if missing:
        raise DocsError(
            f"{target_dir} lacks {', '.join(missing)}: run `ecom dbt docs generate` "
            "(or `ecom docs serve` without --no-generate)"
        )


class _DocsHandler(SimpleHTTPRequestHandler):
    """Serves the three docs files and nothing else."""

    def do_GET(self) -> None:
        name = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/") or "index.html"
        if name not in DOCS_FILES:
            self.send_error(404, "not part of the docs site")
            return
        self.path = "/" + name
        super().do_GET()

    def do_HEAD(self) -> None:
        self.do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base signature)
        pass


def docs_server(
    target_dir: Path = DEFAULT_TARGET, host: str = "127.0.0.1", port: int = 8080
) -> ThreadingHTTPServer:
    """A server for the docs site (not yet serving: call ``serve_forever`` or :func:`serve_in_thread`).

    ``port=0`` picks a free port; ``server.server_address`` tells which.
    """
    check_docs(target_dir)
    handler = partial(_DocsHandler, directory=str(target_dir))
    return ThreadingHTTPServer((host, port), handler)


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="ecom-docs", daemon=True)
    thread.start()
    return thread


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"
