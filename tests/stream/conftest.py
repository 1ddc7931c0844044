"""Data shared by the stream tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ecom.generate import GenerateConfig, generate


@pytest.fixture(scope="session")
def small_month(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A generated month (October 2019) of ~4,000 rows, with the generator's duplicates."""
    out = tmp_path_factory.mktemp("stream-month")
    result = generate(
        GenerateConfig(
            out=out,
            events=4_000,
            start=date(2019, 10, 1),
            end=date(2019, 10, 31),
            seed=3,
        )
    )
    return [f.path for f in result.files]
