"""Fixtures of the presentation tests: one small warehouse built by a real dbt run, and Debian's chromium.

The warehouse (about 20k generated events, `load_files`, one `dbt build`, then
`dbt docs generate`) is built once per test session; every test here is in the xdist
group "present", so one worker builds it. The browser is /usr/bin/chromium driven by
playwright, which is pointed at it and downloads nothing (`make browser-setup` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from present_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, App, Warehouse

from ecom.files import load_files
from ecom.generate import GenerateConfig, generate
from ecom.present.docs import generate_docs
from ecom.warehouse import run_dbt


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A DuckDB warehouse with every mart built by `dbt build`, and the docs site generated."""
    root = tmp_path_factory.mktemp("present")
    home = root / "ecom-home"
    db_path = home / "warehouse.duckdb"
    events = root / "events"
    target = root / "target"
    generate(GenerateConfig(out=events, events=20_000, seed=10))
    report = load_files(
        sorted(events.glob("*.csv")), db_path=db_path, quarantine_dir=home / "quarantine"
    )
    assert report.loaded > 19_000
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_HOME", str(home))
        mp.setenv("ECOM_DUCKDB_PATH", str(db_path))
        common = ["--target-path", str(target), "--log-path", str(root / "logs")]
        assert run_dbt(["build", *common]) == 0, "dbt build failed: see the log above"
        generate_docs(target)  # the same call as `ecom docs serve`
    return Warehouse(db_path=db_path, target_dir=target, home=home)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian chromium (a fresh temporary profile per launch, nothing downloaded)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-setup` (Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored), to look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def screenshots(artifacts: Path) -> Path:
    """Where the dashboard tests save their screenshots: $ECOM_SCREENSHOTS (`make screenshots`
    sets docs/img, the pictures of docs/dashboard.md), else artifacts/present/."""
    import os

    chosen = os.environ.get("ECOM_SCREENSHOTS")
    out = Path(chosen) if chosen else artifacts
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def dashboard_app(marts_warehouse: Warehouse) -> Iterator[App]:
    """`ecom dashboard serve` over the test warehouse, shared by the app tests."""
    app = App(marts_warehouse.db_path)
    yield app
    app.stop()
