"""Engine parity: the same data through DuckDB and PostgreSQL gives the same tables, row for row.

PostgreSQL runs the ``default__`` macro bodies Redshift runs, DuckDB its ``duckdb__`` ones; the
models, the incremental strategy and the tests are shared. Every table and view dbt builds in
staging, intermediate and marts is compared (found in both catalogs, so a new mart is
compared without touching this file): ``EXCEPT ALL`` both ways returns nothing, decimals
exact, timestamps to the microsecond. Then one more day (with late events) is loaded into
both and built incrementally, and everything is compared again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from parity_helpers import (
    dbt_build_both,
    edge_rows,
    load_both,
    read_rows,
    split_for_increment,
    write_rows,
)

from ecom.generate import GenerateConfig, generate
from ecom.pg.load import PostgresSettings
from ecom.pg.parity import Parity, compare
from ecom.pg.server import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]

START, LAST_DAY = date(2019, 10, 1), date(2019, 11, 15)
#: Every mart and staging table must be compared (a new one is compared automatically).
EXPECTED_AT_LEAST = {
    "staging.stg_events",
    "marts.fct_sessions",
    "marts.fct_orders",
    "marts.fct_sales_daily",
    "marts.fct_funnel_daily",
    "marts.customer_rfm",
    "marts.dim_customers",
    "marts.dim_products",
    "marts.dim_date",
    "marts.cohorts",
    "marts.session_definition_comparison",
}


@dataclass
class Engines:
    work: Path
    duckdb_path: Path
    pg: PostgresSettings
    pg_env: dict[str, str]

    def compare(self) -> Parity:
        with self.pg.connect() as con:
            return compare(self.duckdb_path, con)


def engines_for(server: PostgresServer, work: Path) -> Iterator[Engines]:
    name = "parity_" + uuid.uuid4().hex[:8]
    server.create_database(name)
    env = server.env(name)
    settings = PostgresSettings(server.host, server.port, name, server.user, server.password)
    try:
        yield Engines(work, work / "warehouse.duckdb", settings, env)
    finally:
        server.drop_database(name)


def assert_equal(parity: Parity) -> None:
    assert parity.equal, "the engines differ:\n" + parity.describe()
    compared = {t.name for t in parity.tables}
    assert compared >= EXPECTED_AT_LEAST, EXPECTED_AT_LEAST - compared


def assert_built(results: dict[str, tuple[int, str]]) -> None:
    for engine, (code, tail) in results.items():
        assert code == 0, f"dbt build failed on {engine}:\n{tail}"


@pytest.fixture(scope="module")
def generated_split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """>= 50,000 generated rows plus edge rows, split into a first load and one more day."""
    out = tmp_path_factory.mktemp("parity-data")
    generate(GenerateConfig(out=out, start=START, end=LAST_DAY, events=56_000, seed=17))
    rows = read_rows(sorted(out.glob("*.csv")))
    first, second = split_for_increment(rows, LAST_DAY)
    first += edge_rows(date(2019, 10, 20))
    # one more day's edge rows, and late ones inside the lookback window
    second += edge_rows(LAST_DAY) + [
        [r[0], *r[1:-1], r[-1] and r[-1] + "-late"] for r in edge_rows(date(2019, 11, 13))
    ]
    (out / "first").mkdir()
    (out / "second").mkdir()
    one = write_rows(out / "first" / "events.csv", first)
    two = write_rows(out / "second" / "events.csv", second)
    return one, two, len(rows)


@pytest.fixture(scope="module")
def generated_engines(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engines]:
    yield from engines_for(postgres_server, tmp_path_factory.mktemp("parity-generated"))


def test_generated_data_builds_the_same_on_both_engines_then_incrementally(
    generated_split: tuple[Path, Path, int], generated_engines: Engines
) -> None:
    first, second, generated_rows = generated_split
    e = generated_engines
    assert generated_rows >= 50_000
    # given the first load in both warehouses, stamped with one load time
    loaded = load_both([first], e.duckdb_path, e.pg, datetime(2019, 11, 15), e.work / "q")
    assert loaded[0] == loaded[1] > 45_000
    # when dbt builds both from nothing
    assert_built(dbt_build_both(e.work / "full", e.duckdb_path, e.pg_env))
    # then every table is the same, row for row
    parity = e.compare()
    assert_equal(parity)
    sessions = next(t for t in parity.tables if t.name == "marts.fct_sessions")
    assert sessions.duckdb_rows > 5_000

    # given one more day, with late events (inside the lookback window and far outside it)
    loaded = load_both([second], e.duckdb_path, e.pg, datetime(2019, 11, 16, 1), e.work / "q")
    assert loaded[0] == loaded[1] > 500
    # when dbt builds both incrementally (models, contracts and data tests; the unit tests,
    # which do not read the data, ran in the full build)
    assert_built(
        dbt_build_both(
            e.work / "incremental", e.duckdb_path, e.pg_env, "--exclude-resource-type", "unit_test"
        )
    )
    # then they are still the same, and hold the new day and the late events
    parity = e.compare()
    assert_equal(parity)
    print("\n" + parity.describe())
    with e.pg.connect() as con:
        last, late = con.execute(
            "select max(event_date), count(*) filter (where session_id like '%-late')"
            " from staging.stg_events"
        ).fetchone()
    assert last == LAST_DAY and late > 0


def test_the_real_sample_gives_the_same_marts_on_both_engines(
    postgres_server: PostgresServer, sample_files: list[Path], tmp_path: Path
) -> None:
    for e in engines_for(postgres_server, tmp_path):
        load_both(sample_files, e.duckdb_path, e.pg, datetime(2020, 3, 1), tmp_path / "q")
        # the seed and the models (contracts enforced): the tests ran on the generated data
        only_models = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
        assert_built(dbt_build_both(tmp_path / "full", e.duckdb_path, e.pg_env, *only_models))
        parity = e.compare()
        assert_equal(parity)
        print("\n" + parity.describe())
