"""The generator: REES46 byte format, determinism, structure, and a ground truth that matches its files."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ecom.events import HEADER_LINE, ParseStats, read_csv_events
from ecom.generate import GROUND_TRUTH_FILE, GenerateConfig, generate
from ecom.profile import check_against_reference, profile_files

LINE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC,(view|cart|remove_from_cart|purchase),\d+,\d{19},[a-z._]*,[a-z.]*,"
    r"-?\d+\.\d{1,2},\d+,([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?"
)


def _csv(paths: list[Path]) -> str:
    files = ", ".join(f"'{p}'" for p in paths)
    return (
        f"read_csv([{files}], header=true, auto_detect=false, columns={{'event_time': 'VARCHAR', "
        "'event_type': 'VARCHAR', 'product_id': 'BIGINT', 'category_id': 'BIGINT', 'category_code': 'VARCHAR', "
        "'brand': 'VARCHAR', 'price': 'DECIMAL(12,2)', 'user_id': 'BIGINT', 'user_session': 'VARCHAR'})"
    )


@pytest.fixture(scope="module")
def csv_files(generated_dir: Path) -> list[Path]:
    return sorted(generated_dir.glob("*.csv"))


@pytest.fixture(scope="module")
def events(csv_files: list[Path]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        f"create table ev as select strptime(event_time, '%Y-%m-%d %H:%M:%S UTC') as ts, * from {_csv(csv_files)}"
    )
    return con


def test_profile_is_within_tolerance_of_the_real_data(generated_dir: Path) -> None:
    # event mix ±2 points, null rates ±1, duplicates ±1, price quartiles ±25%,
    # one-session users ±5 points, sessions with a purchase ±1 point
    profile = profile_files([generated_dir])
    assert check_against_reference(profile) == []


def test_files_are_named_by_month_and_byte_compatible(csv_files: list[Path]) -> None:
    assert [p.name for p in csv_files] == [
        "2019-Dec.csv",
        "2019-Nov.csv",
        "2019-Oct.csv",
        "2020-Feb.csv",
        "2020-Jan.csv",
    ]
    for path in csv_files:
        with open(path, "rb") as handle:
            assert handle.readline() == (HEADER_LINE + "\n").encode()
            previous = ""
            for i, raw in enumerate(handle):
                line = raw.decode("utf-8").rstrip("\n")
                assert LINE_RE.fullmatch(line), f"{path.name}:{i + 2}: {line}"
                assert line[:19] >= previous, f"{path.name}:{i + 2} is out of time order"
                previous = line[:19]
                assert line[:7].replace("-", "") == _month_key(path.name)


def _month_key(name: str) -> str:
    year, mon = name[:4], name[5:8]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{year}{months.index(mon) + 1:02d}"


def test_every_generated_row_passes_the_event_validator(csv_files: list[Path]) -> None:
    stats = ParseStats()
    for path in csv_files:
        for _ in read_csv_events(path, stats):
            pass
    assert stats.read > 250_000
    assert stats.rejected == 0, stats.rejected_by_reason


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def run(name: str, seed: int) -> dict[str, bytes]:
        out = tmp_path / name
        generate(
            GenerateConfig(
                out=out, events=5_000, seed=seed, start=date(2019, 11, 20), end=date(2019, 12, 5)
            )
        )
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}

    first, again, other = run("a", 7), run("b", 7), run("c", 8)
    assert first.keys() == {"2019-Nov.csv", "2019-Dec.csv", GROUND_TRUTH_FILE}
    assert first["2019-Nov.csv"] == again["2019-Nov.csv"]
    assert first["2019-Dec.csv"] == again["2019-Dec.csv"]
    assert first["2019-Nov.csv"] != other["2019-Nov.csv"]


def test_any_date_range_and_scale(tmp_path: Path) -> None:
    result = generate(
        GenerateConfig(
            out=tmp_path, events=20_000, seed=1, start=date(2021, 3, 30), end=date(2021, 4, 2)
        )
    )
    assert [f.name for f in result.files] == ["2021-Mar.csv", "2021-Apr.csv"]
    assert abs(result.rows - 20_000) / 20_000 < 0.05
    con = duckdb.connect()
    first, last = con.execute(
        f"select min(event_time), max(event_time) from {_csv([f.path for f in result.files])}"
    ).fetchone()  # type: ignore[misc]
    assert first >= "2021-03-30 00:00:00 UTC"
    assert last < "2021-04-03 00:00:00 UTC"


def test_events_per_day_option(tmp_path: Path) -> None:
    result = generate(
        GenerateConfig(
            out=tmp_path,
            events_per_day=3_000,
            seed=2,
            start=date(2020, 1, 1),
            end=date(2020, 1, 10),
        )
    )
    assert abs(result.rows - 30_000) / 30_000 < 0.05


def test_ground_truth_matches_the_files(
    generated_dir: Path, events: duckdb.DuckDBPyConnection
) -> None:
    truth = json.loads((generated_dir / GROUND_TRUTH_FILE).read_text())
    q = events.execute
    assert q("select count(*) from ev").fetchone()[0] == truth["rows"]  # type: ignore[index]
    distinct = q("select count(*) from (select distinct * exclude (ts) from ev)").fetchone()[0]  # type: ignore[index]
    assert distinct == truth["distinct_events"]
    assert truth["rows"] - distinct == truth["duplicate_rows"] == truth["duplicate_rows_injected"]
    by_type = dict(q("select event_type, count(*) from ev group by 1").fetchall())
    assert by_type == truth["rows_by_type"]
    users, sessions = q(
        "select count(distinct user_id), count(distinct user_session) from ev"
    ).fetchone()  # type: ignore[misc]
    assert (users, sessions) == (truth["users"], truth["sessions"])
    revenue, purchases = q(
        "select sum(price) filter (where price > 0), count(*) from (select distinct * exclude (ts) from ev) "
        "where event_type = 'purchase'"
    ).fetchone()  # type: ignore[misc]
    assert float(revenue) == pytest.approx(truth["revenue"], abs=0.005)
    assert purchases == truth["purchases"]
    daily = {d["date"]: d for d in truth["daily"]}
    for day, etype, n in q(
        "select ts::date::varchar, event_type, count(*) from ev group by all"
    ).fetchall():
        assert daily[day][f"rows_{etype}"] == n


def test_calendar_rhythm(events: duckdb.DuckDBPyConnection) -> None:
    q = events.execute
    busiest = q(
        "select ts::date::varchar from ev group by 1 order by count(*) desc limit 1"
    ).fetchone()[0]  # type: ignore[index]
    assert busiest == "2019-11-29"  # Black Friday
    hours = dict(q("select hour(ts), count(*) from ev group by 1").fetchall())
    assert max(hours, key=hours.__getitem__) == 19
    assert min(hours, key=hours.__getitem__) in (1, 2)
    weekday, weekend = q(
        "select avg(n) filter (where dow not in (0, 6)), avg(n) filter (where dow in (0, 6)) "
        "from (select ts::date as d, dayofweek(ts::date) as dow, count(*) as n from ev "
        "where ts < '2019-11-20' or ts >= '2020-01-10' group by all)"
    ).fetchone()  # type: ignore[misc]
    assert weekday > weekend * 1.05
    dec_last_week, dec_mid = q(
        "select avg(n) filter (where d between '2019-12-25' and '2019-12-31'), "
        "avg(n) filter (where d between '2019-12-09' and '2019-12-20') "
        "from (select ts::date as d, count(*) as n from ev group by 1)"
    ).fetchone()  # type: ignore[misc]
    assert dec_last_week < 0.8 * dec_mid  # post-Christmas dip


def test_sessions_are_coherent_journeys(events: duckdb.DuckDBPyConnection) -> None:
    q = events.execute
    # a session stays in one category and one user; purchases are mostly of carted products
    multi_user = q(
        "select count(*) from (select user_session from ev where user_session is not null "
        "group by 1 having count(distinct user_id) > 1)"
    ).fetchone()[0]  # type: ignore[index]
    assert multi_user == 0
    carted_share = q(
        """
        select avg((c.product_id is not null)::int) from
            (select distinct user_session, product_id from ev where event_type = 'purchase') p
            left join (select distinct user_session, product_id from ev where event_type = 'cart') c using (user_session, product_id)
        """
    ).fetchone()[0]  # type: ignore[index]
    assert 0.6 < carted_share < 0.95  # 19% of buying sessions have no cart event
    returning = q(
        "select avg((days > 1)::int) from (select user_id, count(distinct ts::date) as days from ev group by 1)"
    ).fetchone()[0]  # type: ignore[index]
    assert 0.2 < returning < 0.45


def test_quirks(events: duckdb.DuckDBPyConnection) -> None:
    q = events.execute
    dup_types = dict(q("select event_type, count(*) - count(distinct (ts, product_id, category_id, brand, price, user_id, user_session)) "
                       "from ev group by 1").fetchall())  # fmt: skip
    assert dup_types["remove_from_cart"] > 0.8 * sum(dup_types.values())
    zero_feb, zero_rest = q(
        "select avg((price = 0)::int) filter (where month(ts) = 2), avg((price = 0)::int) filter (where month(ts) <> 2) from ev"
    ).fetchone()  # type: ignore[misc]
    assert zero_feb > 3 * zero_rest
    negative = q(
        "select count(*), count(*) filter (where brand is null) from ev where price < 0"
    ).fetchone()
    assert negative[0] == negative[1]  # type: ignore[index]
    moved = q(
        "select count(distinct product_id) from (select product_id from ev group by 1 "
        "having count(distinct category_id) > 1 and max(category_id) filter (where ts >= '2019-12-01') > 2195000000000000000)"
    ).fetchone()[0]  # type: ignore[index]
    assert moved > 0


def test_rejects_nonsense_configuration(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before start"):
        generate(
            GenerateConfig(out=tmp_path, start=date(2020, 1, 2), end=date(2020, 1, 1), events=10)
        )


def test_duplicate_rows_are_found_by_content_not_by_hash() -> None:
    import numpy as np

    from ecom.generate.expand import EventChunk
    from ecom.generate.truth import _first_of_equal_rows

    def chunk(*rows: tuple[int, ...]) -> EventChunk:
        columns = list(zip(*rows, strict=True))
        return EventChunk(
            *(np.array(c, dtype=np.int64) for c in columns[:5]),
            *(np.array(c, dtype=bool) for c in columns[5:]),
        )

    a, b, c = (1, 0, 5, 9, 100, 0, 0, 0), (1, 0, 5, 9, 101, 0, 0, 0), (1, 0, 5, 9, 100, 1, 0, 0)
    # rows differing in one field (even a flag) are distinct; equal rows keep their first copy
    assert _first_of_equal_rows(chunk(a, b, a, c, b)).tolist() == [0, 1, 3]
