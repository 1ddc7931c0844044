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
