"""Shared fixtures: the real REES46 sample (read from ../shared, never copied) and generated data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecom.generate import GenerateConfig, generate
from ecom.warehouse import PROJECT_ROOT

pytest_plugins = ("aws_fixtures", "postgres_fixtures")

SAMPLE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "rees46-sample"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The 10,000 real sample rows (2,000 per month); skips cleanly where ../shared is absent."""
    if not SAMPLE_DIR.is_dir() or not any(SAMPLE_DIR.glob("*.csv")):
        pytest.skip(
            f"real REES46 sample not found at {SAMPLE_DIR} (it lives in ../shared beside the repo)"
        )
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_files(sample_dir: Path) -> list[Path]:
    return sorted(sample_dir.glob("*.csv"))


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~300k generated rows over the real five months (seed 46)."""
    out = tmp_path_factory.mktemp("generated")
    generate(GenerateConfig(out=out, events=300_000, seed=46))
    return out


@pytest.fixture
def ecom_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated local state folder (warehouse, quarantine) for one test."""
    home = tmp_path / "ecom-home"
    monkeypatch.setenv("ECOM_HOME", str(home))
    monkeypatch.setenv("ECOM_DUCKDB_PATH", str(home / "warehouse.duckdb"))
    return home


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for every test that needs one (start-up costs ~5 s)."""
    from ecom.backfill import local_session

    session = local_session(
        "local[2]", driver_memory="1g", conf={"spark.sql.shuffle.partitions": "2"}
    )
    yield session
    session.stop()
