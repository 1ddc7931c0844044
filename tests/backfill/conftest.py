"""One local SparkSession for every backfill test (start-up costs ~5 s; the tests share it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from ecom.backfill import local_session

    session = local_session(
        "local[2]", driver_memory="1g", conf={"spark.sql.shuffle.partitions": "2"}
    )
    yield session
    session.stop()
