"""Data shared by the stream processor's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_data import generated_october


@pytest.fixture(scope="session")
def few_days(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """~3,000 generated rows over ten days of October 2019, with the generator's exact duplicates."""
    return generated_october(tmp_path_factory, "realtime-days", events=3_000, last_day=10, seed=16)
