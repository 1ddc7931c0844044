"""PostgreSQL fixtures: a real throwaway server (Debian's binaries) and a database per test.

Enabled for the whole suite by ``pytest_plugins`` in ``tests/conftest.py``.

* ``postgres_server`` (session): a ``PostgresServer`` on a free port of 127.0.0.1, started
  on first use in each xdist worker and stopped (its folder deleted) at the end. Mark the
  tests that use it ``pytest.mark.xdist_group("postgres")`` so that, under
  ``--dist loadgroup``, one worker starts one server.
* ``postgres_db`` (function): a fresh empty database on it, with the environment of the dbt
  ``postgres`` target (POSTGRES_*, DBT_ENV_SECRET_POSTGRES_PASSWORD, DBT_TARGET) pointing at
  it; dropped afterwards.

Where PostgreSQL is not installed the tests fail with the reason (``make postgres-setup``
installs it; ``make test`` does so first): a missing server must not pass silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ecom.pg.server import PostgresServer


@dataclass(frozen=True)
class PostgresDatabase:
    server: PostgresServer
    name: str

    @property
    def env(self) -> dict[str, str]:
        return self.server.env(self.name)

    def connect(self, **kwargs: Any) -> Any:
        return self.server.connect(self.name, **kwargs)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start(owner=os.getpid())  # stopped even if the session is killed
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_db(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostgresDatabase]:
    name = "t_" + uuid.uuid4().hex[:12]
    postgres_server.create_database(name)
    db = PostgresDatabase(postgres_server, name)
    for key, value in db.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DBT_TARGET", "postgres")
    try:
        yield db
    finally:
        postgres_server.drop_database(name)
