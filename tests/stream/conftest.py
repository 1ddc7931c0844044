"""Data shared by the stream tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_data import generated_october


@pytest.fixture(scope="session")
def small_month(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A generated month (October 2019) of ~4,000 rows, with the generator's duplicates."""
    return generated_october(tmp_path_factory, "stream-month", events=4_000, last_day=31, seed=3)
