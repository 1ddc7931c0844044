"""Incremental dbt runs with late data give exactly the marts of a full refresh.

A generated week arrives day by day into a real DuckDB warehouse: days 1-4, then days 5-6 with
some day-5 events held back, then day 7 with the held-back (late, inside the lookback window)
day-5 events, very late day-2 events (outside the window), late duplicate copies of day-1
events, and a late event that bridges two inactivity sessions of a user without user_session.
After each arrival dbt runs incrementally; at the end every model must equal a full refresh.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from ecom.files import load_files
from ecom.generate import GenerateConfig, generate
from ecom.run.dbt_stage import run_dbt_in_process
from ecom.warehouse import connect_duckdb, dbt_env

#: An xdist group of its own: nothing here is shared with tests/test_dbt_project.py (each has
#: its own warehouses and dbt target folders), and as one group the two files ran one after
#: the other on one worker under `make test` (-n 2 --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt-incremental")]

MODELS = {
    "staging": ["stg_events"],
    "marts": [
        "fct_sessions",
        "fct_orders",
        "fct_funnel_daily",
        "fct_funnel_daily_by_category",
        "fct_funnel_daily_by_brand",
        "fct_sales_daily",
        "fct_sales_daily_by_category",
        "fct_sales_daily_by_brand",
        "customer_rfm",
        "dim_customers",
        "dim_products",
        "dim_date",
        "cohorts",
        "session_definition_comparison",
        "fct_product_daily",
    ],
}
BRIDGE_USER = 999_999_999


@pytest.fixture(scope="module")
def dbt_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one warehouse path and dbt target folder of every dbt invocation in this module.

    dbt runs in this process (no interpreter start, no import of dbt each time) and, the
    warehouse path and the target folder staying the same, parses the project once: every later
    invocation reads its saved parse. (A different warehouse path is a different profile to
    dbt, so each test's own path would cost a whole parse per invocation.) Each test starts
    from an empty warehouse at that path: see `fresh_warehouse`."""
    return tmp_path_factory.mktemp("dbt-incremental")


def fresh_warehouse(home: Path) -> Path:
    """The warehouse of `home`, removed if a previous test or example left one."""
    db = home / "warehouse.duckdb"
    for path in (db, home / "warehouse.duckdb.wal"):
        path.unlink(missing_ok=True)
    return db


def dbt(home: Path, *args: str) -> None:
    """`dbt ARGS` on the warehouse of `home`; fails the test with dbt's failures if it fails."""
    env = {**dbt_env(), "ECOM_DUCKDB_PATH": str(home / "warehouse.duckdb")}
    common = ["--target-path", str(home / "target"), "--log-path", str(home / "logs")]
    result = run_dbt_in_process([*args, *common], env=env, log_path=home / "dbt-output.log")
    assert result.success, f"dbt {' '.join(args)}: {result.failure_detail()}"


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_incremental_runs_with_late_data_equal_a_full_refresh(
    tmp_path: Path, dbt_home: Path
) -> None:
    # given a generated week split into one file per day
    generated = tmp_path / "generated"
    generate(
        GenerateConfig(
            out=generated,
            start=date(2021, 3, 1),
            end=date(2021, 3, 7),
            events_per_day=2_500,
            seed=5,
        )
    )
    with open(next(generated.glob("*.csv")), newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    by_day: dict[int, list[list[str]]] = {}
    for row in rows:
        by_day.setdefault(int(row[0][8:10]), []).append(row)
    assert sorted(by_day) == [1, 2, 3, 4, 5, 6, 7]

    late_5 = by_day[5][5::40]  # day-5 events that arrive two days late (inside the lookback)
    very_late_2 = by_day[2][5::40]  # day-2 events that arrive five days late (outside it)
    late_copies_1 = by_day[1][:20]  # duplicate deliveries of day-1 events
    on_time_5 = [r for i, r in enumerate(by_day[5]) if (i - 5) % 40 or i < 5]
    on_time_2 = [r for i, r in enumerate(by_day[2]) if (i - 5) % 40 or i < 5]
    # a user without user_session: events at 10:00 and 11:00 (two inactivity sessions) and a
    # late event at 10:30 that merges them into one
    template = by_day[5][0]

    def bridge(time: str) -> list[str]:
        return [f"2021-03-05 {time} UTC", "view", *template[2:7], str(BRIDGE_USER), ""]

    files = tmp_path / "arrivals"
    files.mkdir()
    arrivals = [
        [
            write(files / f"day-{d}.csv", header, on_time_2 if d == 2 else by_day[d])
            for d in (1, 2, 3, 4)
        ],
        [
            write(
                files / "day-5.csv", header, [*on_time_5, bridge("10:00:00"), bridge("11:00:00")]
            ),
            write(files / "day-6.csv", header, by_day[6]),
        ],
        [
            write(files / "day-7.csv", header, by_day[7]),
            write(files / "late-5.csv", header, [*late_5, bridge("10:30:00")]),
            write(files / "very-late-2.csv", header, very_late_2),
            write(files / "late-copies-1.csv", header, late_copies_1),
        ],
    ]
    db = fresh_warehouse(dbt_home)

    def arrive(batch: list[Path]) -> None:
        report = load_files(batch, db_path=db, quarantine_dir=tmp_path / "q")
        assert report.rejected == 0 and report.files == len(batch)

    # when the days arrive one batch after another, dbt running incrementally after each
    arrive(arrivals[0])
    dbt(dbt_home, "build")
    arrive(arrivals[1])
    dbt(dbt_home, "run")
    late_sessions = sorted({r[8] for r in late_5})
    before = dict(
        query(
            db,
            "select session_id, event_count from marts.fct_sessions where session_id in"
            f" ({', '.join(repr(s) for s in late_sessions)})",
        )
    )
    bridged_before = query(
        db, f"select count(*) from marts.fct_sessions where user_id = {BRIDGE_USER}"
    )[0][0]
    arrive(arrivals[2])
    dbt(dbt_home, "run")
    dbt(dbt_home, "build")  # nothing new: changes nothing, and every test passes

    # then late events reprocessed their whole sessions
    after = dict(
        query(
            db,
            "select session_id, event_count from marts.fct_sessions where session_id in"
            f" ({', '.join(repr(s) for s in late_sessions)})",
        )
    )
    grown = [s for s in before if after[s] > before[s]]
    assert before and grown, "no late event joined a session that already existed"
    assert set(after) == set(late_sessions)
    assert bridged_before == 2
    assert query(db, f"select count(*) from marts.fct_sessions where user_id = {BRIDGE_USER}") == [
        (1,)
    ]
    # very late events and late copies landed too
    staged, distinct, copies, raw = query(
        db,
        "select count(*), (select count(distinct event_id) from raw.events), sum(copies_delivered),"
        " (select count(*) from raw.events) from staging.stg_events",
    )[0]
    assert staged == distinct and copies == raw

    # and every model equals a full refresh over the same raw rows
    assert_models_equal_a_full_refresh(dbt_home)


def test_a_first_run_over_no_events_does_not_stall_later_runs(
    tmp_path: Path, dbt_home: Path
) -> None:
    # given a warehouse built while raw.events was still empty
    db = fresh_warehouse(dbt_home)
    connect_duckdb(db).close()
    dbt(dbt_home, "build")
    assert query(db, "select count(*) from staging.stg_events") == [(0,)]
    # when two days of events arrive and dbt runs incrementally
    generated = tmp_path / "generated"
    generate(
        GenerateConfig(
            out=generated,
            start=date(2021, 3, 1),
            end=date(2021, 3, 2),
            events_per_day=1_000,
            seed=7,
        )
    )
    report = load_files(sorted(generated.glob("*.csv")), db_path=db, quarantine_dir=tmp_path / "q")
    assert report.loaded > 0
    dbt(dbt_home, "run")
    # then the incremental models took every event (their watermarks were not stuck at null)
    assert query(db, "select count(*) from staging.stg_events") == query(
        db, "select count(distinct event_id) from raw.events"
    )
    assert query(db, "select sum(event_count) from marts.fct_sessions") == query(
        db, "select count(*) from staging.stg_events"
    )
    assert_models_equal_a_full_refresh(dbt_home)


def assert_models_equal_a_full_refresh(home: Path, command: str = "build") -> None:
    """Every mart of the warehouse of `home` as built incrementally equals a `--full-refresh`
    over the same raw rows (`command` "build" also runs the data tests on it, "run" does not)."""
    db = home / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema incremental_result")
        for schema, models in MODELS.items():
            for model in models:
                con.execute(
                    f"create table incremental_result.{model} as select * from {schema}.{model}"
                )
    dbt(home, command, "--full-refresh")
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, models in MODELS.items():
            for model in models:
                full = f"{schema}.{model}"
                incr = f"incremental_result.{model}"
                n_full = con.execute(f"select count(*) from {full}").fetchone()
                n_incr = con.execute(f"select count(*) from {incr}").fetchone()
                assert n_full == n_incr, model
                for a, b in ((full, incr), (incr, full)):
                    diff = con.execute(
                        f"select count(*) from (select * from {a} except select * from {b})"
                    ).fetchone()
                    assert diff == (0,), f"{model}: rows of {a} missing from {b}"


# -- property: any sequence of loads, late events and duplicate deliveries ----------------------

#: The generated week the property test cuts into loads: small, so that an example (a few dbt
#: runs over about 1,900 events) takes about a minute.
PROPERTY_DAYS = 7
#: The latest a late event arrives, in days after its own day: far beyond the lookback window
#: (`ecom__lookback_days` = 3) and past the end of the week, so a day-1 event can arrive with
#: the last load whatever the cuts. The days a run rebuilds come from the data
#: (int_run_limits: the day of every arrived event and of its session's start), not from the
#: lookback, so lateness has no bound.
MAX_DELAY_DAYS = 20


@dataclass(frozen=True)
class Delivery:
    """Every `stride`-th event of each day (from `offset`) arrives `delay` days after its day:
    moved there (a late event), or, with `copy`, a second copy of it (a duplicate delivery)."""

    stride: int
    offset: int
    delay: int
    copy: bool


@dataclass(frozen=True)
class Plan:
    """The week cut into consecutive daily loads (`cuts`: the first day of each load after the
    first) and the late events and duplicate copies that arrive with them."""

    cuts: tuple[int, ...]
    deliveries: tuple[Delivery, ...]

    def load_of(self, day: int) -> int:
        """The load (0, 1, ...) that delivers what arrives on `day` (after the week: the last)."""
        return sum(1 for cut in self.cuts if cut <= day)

    def loads(self, by_day: dict[int, list[list[str]]]) -> list[dict[str, list[list[str]]]]:
        """Per load, its files (a unique name -> rows)."""
        loads: list[dict[str, list[list[str]]]] = [{} for _ in range(len(self.cuts) + 1)]
        for day, rows in sorted(by_day.items()):
            delays: dict[int, int] = {}  # a late event's delay (the first delivery picking it)
            for n, d in enumerate(self.deliveries):
                picked = range(d.offset, len(rows), d.stride)
                if d.copy:
                    files = loads[self.load_of(day + d.delay)]
                    files[f"day-{day}-copies-{n}.csv"] = [rows[i] for i in picked]
                else:
                    for i in picked:
                        delays.setdefault(i, d.delay)
            for delay in sorted(set(delays.values())):
                files = loads[self.load_of(day + delay)]
                files[f"day-{day}-late-{delay}.csv"] = [
                    rows[i] for i, late in sorted(delays.items()) if late == delay
                ]
            loads[self.load_of(day)][f"day-{day}.csv"] = [
                r for i, r in enumerate(rows) if i not in delays
            ]
        return loads


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Two or three loads; late events inside and far beyond stg_events' lookback window
    (`ecom__lookback_days` = 3), duplicate copies in the same or a later load."""
    cuts = draw(
        st.lists(st.integers(2, PROPERTY_DAYS), min_size=1, max_size=2, unique=True).map(
            lambda c: tuple(sorted(c))
        )
    )
    deliveries = draw(
        st.lists(
            st.builds(
                Delivery,
                stride=st.integers(5, 60),
                offset=st.integers(0, 4),
                delay=st.integers(0, MAX_DELAY_DAYS),
                copy=st.booleans(),
            ).filter(lambda d: d.copy or d.delay > 0),
            min_size=1,
            max_size=4,
        )
    )
    return Plan(cuts, tuple(deliveries))


@dataclass(frozen=True, repr=False)
class Week:
    """A generated week: the CSV header and its rows by day of the month."""

    header: list[str]
    by_day: dict[int, list[list[str]]]

    def __repr__(self) -> str:  # hypothesis prints its arguments: not 2,000 rows
        return f"Week({sum(len(rows) for rows in self.by_day.values())} rows)"


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Week:
    """A small generated week (about 1,900 events)."""
    generated = tmp_path_factory.mktemp("property-week")
    generate(
        GenerateConfig(
            out=generated,
            start=date(2021, 3, 1),
            end=date(2021, 3, PROPERTY_DAYS),
            events_per_day=300,
            seed=13,
        )
    )
    with open(next(generated.glob("*.csv")), newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        by_day: dict[int, list[list[str]]] = {}
        for row in reader:
            by_day.setdefault(int(row[0][8:10]), []).append(row)
    assert sorted(by_day) == list(range(1, PROPERTY_DAYS + 1))
    return Week(header, by_day)


@settings(
    max_examples=2,  # and the explicit example: each is three or four dbt invocations
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: an example is several dbt runs
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(  # late inside (2 days) and beyond (5 days) the 3-day lookback, copies in a later load
    Plan(
        cuts=(4, 6),
        deliveries=(
            Delivery(stride=30, offset=1, delay=2, copy=False),
            Delivery(stride=25, offset=3, delay=5, copy=False),
            Delivery(stride=20, offset=0, delay=3, copy=True),
        ),
    )
)
@example(  # issue 18: an event 6 days late changed an old session, but the daily marts
    # (fct_funnel_daily_by_brand) rebuilt only the lookback window, not its day
    Plan(cuts=(7,), deliveries=(Delivery(stride=24, offset=4, delay=6, copy=False),))
)
@given(plan=plans())
def test_any_sequence_of_loads_equals_a_full_refresh(
    dbt_home: Path, week: Week, plan: Plan
) -> None:
    note(f"{plan}")
    with tempfile.TemporaryDirectory(prefix="ecom-incremental-") as tmp:
        run_plan(Path(tmp), dbt_home, week, plan)


def run_plan(workdir: Path, home: Path, week: Week, plan: Plan) -> None:
    """Deliver the plan's loads (files in `workdir`) into a new warehouse of `home`, dbt running
    after each, then check that every event landed once and every mart equals a full refresh."""
    header, by_day = week.header, week.by_day
    db = fresh_warehouse(home)
    delivered = 0
    # given the loads of the plan, dbt running incrementally after each
    for n, files in enumerate(plan.loads(by_day)):
        folder = workdir / f"load-{n}"
        folder.mkdir()
        paths = [write(folder / name, header, rows) for name, rows in files.items() if rows]
        report = load_files(paths, db_path=db, quarantine_dir=workdir / "q")
        assert report.rejected == 0 and report.files == len(paths)
        delivered += sum(len(rows) for rows in files.values())
        args = ["build", "--exclude", "resource_type:test"] if n == 0 else ["run"]
        dbt(home, *args)
    # then every event landed once (the generator repeats some rows exactly: one event),
    # with every copy delivered counted
    distinct = len({tuple(row) for rows in by_day.values() for row in rows})
    assert query(db, "select count(*) from raw.events") == [(delivered,)]
    assert query(db, "select count(*), sum(copies_delivered) from staging.stg_events") == [
        (distinct, delivered)
    ]
    # and every mart equals a full refresh over the same raw rows
    assert_models_equal_a_full_refresh(home, command="run")
