"""Shared by the presentation tests: the built warehouse's paths and how chromium is launched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
