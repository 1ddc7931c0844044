"""Data shared by the stream processor's tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ecom.generate import GenerateConfig, generate


@pytest.fixture(scope="session")
def few_days(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """~3,000 generated rows over ten days of October 2019, with the generator's exact duplicates."""
    out = tmp_path_factory.mktemp("realtime-days")
    result = generate(
        GenerateConfig(
            out=out,
            events=3_000,
            start=date(2019, 10, 1),
            end=date(2019, 10, 10),
            seed=16,
        )
    )
    return [f.path for f in result.files]
