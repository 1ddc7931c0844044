"""What the stream and stream-processor tests share: generated event files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ecom.generate import GenerateConfig, generate


def generated_october(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, events: int, last_day: int, seed: int
) -> list[Path]:
    """``events`` generated rows from 1 October 2019 to ``last_day``, with the generator's exact
    duplicates, in a fresh folder ``name``."""
    result = generate(
        GenerateConfig(
            out=tmp_path_factory.mktemp(name),
            events=events,
            start=date(2019, 10, 1),
            end=date(2019, 10, last_day),
            seed=seed,
        )
    )
    return [f.path for f in result.files]
