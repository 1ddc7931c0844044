"""Data profile of REES46-format CSV files, computed with DuckDB.

``profile_files`` returns a :class:`Profile` (event mix, null rates, duplicates,
price quartiles, users and sessions, session funnel, hourly shape) so generated
and real data can be compared side by side; ``check_against_reference`` says
which figures fall outside the tolerances agreed for the generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ecom.errors import EcomError
from ecom.events import EVENT_TYPES

#: Figures of the full real data set (Oct 2019 - Feb 2020), from shared/data/REES46.md.
REFERENCE: dict[str, Any] = {
    "event_mix": {"view": 0.467, "cart": 0.279, "remove_from_cart": 0.192, "purchase": 0.062},
    "null_rate": {"category_code": 0.983, "brand": 0.423, "user_session": 4_598 / 20_692_840},
    "duplicate_rate": 1_109_098 / 20_692_840,
    "price_quartiles": (2.06, 4.05, 7.06),
    "one_session_user_share": 0.68,
    "purchase_session_share": 155_617 / 4_535_941,
    "events_per_session": 4.56,
    "sessions_per_user": 2.77,
    "peak_hour": 19,
    "low_hour": 1,
}

#: Tolerances of issue #2: absolute points for shares, relative for price quartiles.
TOLERANCE: dict[str, float] = {
    "event_mix": 0.02,
    "null_rate": 0.01,
    "duplicate_rate": 0.01,
    "price_quartiles": 0.25,
    "one_session_user_share": 0.05,
    "purchase_session_share": 0.01,
}


@dataclass
class Profile:
    files: list[str]
    rows: int
    event_mix: dict[str, float]
    null_rate: dict[str, float]
    duplicate_rows: int
    duplicate_rate: float
    duplicate_rate_by_type: dict[str, float]
    price_quartiles: tuple[float, float, float]
    price_mean: float
    price_min: float
    price_max: float
    negative_prices: int
    zero_price_share: float
    users: int
    sessions: int
    events_per_session: float
    sessions_per_user: float
    one_session_user_share: float
    view_session_share: float
    view_to_cart_session_share: float
    purchase_session_share: float
    purchase_sessions_without_cart: float
    cart_sessions_without_view: float
    buyers: int
    revenue: float
    hourly_share: list[float]
    peak_hour: int
    low_hour: int
    weekday_share: list[float]
    busiest_day: str
    first_event: str
    last_event: str
    months: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _csv_source(paths: Sequence[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return (
        f"read_csv([{files}], header = true, auto_detect = false, delim = ',', quote = '\"', "
        "columns = {'event_time': 'VARCHAR', 'event_type': 'VARCHAR', 'product_id': 'BIGINT', "
        "'category_id': 'BIGINT', 'category_code': 'VARCHAR', 'brand': 'VARCHAR', "
        "'price': 'DECIMAL(12,2)', 'user_id': 'BIGINT', 'user_session': 'VARCHAR'})"
    )


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; directories become their ``*.csv`` files, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(x for x in p.glob("*.csv")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or directory: {p}")
    if not out:
        raise FileNotFoundError("no CSV files found in " + ", ".join(map(str, paths)))
    return out


def profile_files(paths: Sequence[str | Path]) -> Profile:
    import duckdb

    files = expand_paths(paths)
    con = duckdb.connect()
    try:
        con.execute(
            f"""
            create temp table ev as
            select strptime(event_time, '%Y-%m-%d %H:%M:%S UTC') as ts, * exclude (event_time), event_time
            from {_csv_source(files)}
            """
        )

        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            if row is None:  # an aggregate always gives a row; say so if DuckDB ever does not
                raise EcomError(f"DuckDB returned no row for: {sql}")
            return row

        (rows,) = one("select count(*) from ev")
        if rows == 0:
            raise ValueError("the files hold no events")
        mix = dict(con.execute("select event_type, count(*) from ev group by 1").fetchall())
        nulls = one(
            "select avg((category_code is null)::int), avg((brand is null)::int), avg((user_session is null)::int) from ev"
        )
        (distinct,) = one("select count(*) from (select distinct * from ev)")
        dup_by_type = dict(
            con.execute(
                "select event_type, (count(*) - count(distinct (event_time, product_id, category_id, category_code, "
                "brand, price, user_id, user_session))) / count(*) from ev group by 1"
            ).fetchall()
        )
        q = one(
            "select quantile_cont(price, 0.25), quantile_cont(price, 0.5), quantile_cont(price, 0.75), "
            "avg(price), min(price), max(price), count(*) filter (where price < 0), avg((price = 0)::int) from ev"
        )
        sessions = one(
            """
            with s as (
                select user_session, any_value(user_id) as user_id,
                       bool_or(event_type = 'view') as v, bool_or(event_type = 'cart') as c,
                       bool_or(event_type = 'purchase') as p, count(*) as n
                from ev where user_session is not null group by 1
            )
            select count(*), avg(n), avg(v::int),
                   sum((v and c)::int) / nullif(sum(v::int), 0),
                   avg(p::int),
                   sum((p and not c)::int) / nullif(sum(p::int), 0),
                   sum((c and not v)::int) / nullif(sum(c::int), 0)
            from s
            """
        )
        users = one(
            """
            with u as (select user_id, count(distinct user_session) as k from ev group by 1)
            select count(*), avg(k), avg((k = 1)::int) from u
            """
        )
        buyers, revenue = one(
            "select count(distinct user_id), coalesce(sum(price), 0) from ev where event_type = 'purchase' and price > 0"
        )
        hourly = dict(con.execute("select hour(ts), count(*) from ev group by 1").fetchall())
        weekday = dict(con.execute("select isodow(ts), count(*) from ev group by 1").fetchall())
        busiest = one("select ts::date, count(*) from ev group by 1 order by 2 desc, 1 limit 1")
        first, last = one("select min(ts), max(ts) from ev")
        months = dict(
            con.execute(
                "select strftime(ts, '%Y-%m'), count(*) from ev group by 1 order by 1"
            ).fetchall()
        )
    finally:
        con.close()

    hourly_share = [hourly.get(h, 0) / rows for h in range(24)]
    return Profile(
        files=[str(f) for f in files],
        rows=int(rows),
        event_mix={t: mix.get(t, 0) / rows for t in EVENT_TYPES},
        null_rate={
            "category_code": float(nulls[0]),
            "brand": float(nulls[1]),
            "user_session": float(nulls[2]),
        },
        duplicate_rows=int(rows - distinct),
        duplicate_rate=(rows - distinct) / rows,
        duplicate_rate_by_type={t: float(dup_by_type.get(t, 0.0)) for t in EVENT_TYPES},
        price_quartiles=(float(q[0]), float(q[1]), float(q[2])),
        price_mean=float(q[3]),
        price_min=float(q[4]),
        price_max=float(q[5]),
        negative_prices=int(q[6]),
        zero_price_share=float(q[7]),
        users=int(users[0]),
        sessions=int(sessions[0]),
        events_per_session=float(sessions[1] or 0),
        sessions_per_user=float(users[1] or 0),
        one_session_user_share=float(users[2] or 0),
        view_session_share=float(sessions[2] or 0),
        view_to_cart_session_share=float(sessions[3] or 0),
        purchase_session_share=float(sessions[4] or 0),
        purchase_sessions_without_cart=float(sessions[5] or 0),
        cart_sessions_without_view=float(sessions[6] or 0),
        buyers=int(buyers),
        revenue=float(revenue),
        hourly_share=hourly_share,
        peak_hour=max(range(24), key=lambda h: hourly_share[h]),
        low_hour=min(range(24), key=lambda h: hourly_share[h]),
        weekday_share=[weekday.get(d, 0) / rows for d in range(1, 8)],
        busiest_day=str(busiest[0]),
        first_event=str(first),
        last_event=str(last),
        months={str(k): int(v) for k, v in months.items()},
    )


def check_against_reference(profile: Profile) -> list[str]:
    """Every figure outside the agreed tolerance of the real data, as readable messages."""
    problems: list[str] = []

    def points(name: str, got: float, want: float, tol: float) -> None:
        if abs(got - want) > tol:
            problems.append(
                f"{name}: {got:.2%} vs real {want:.2%} (tolerance ±{tol * 100:.0f} points)"
            )

    for t, want in REFERENCE["event_mix"].items():
        points(f"event mix {t}", profile.event_mix[t], want, TOLERANCE["event_mix"])
    for col, want in REFERENCE["null_rate"].items():
        points(f"null rate {col}", profile.null_rate[col], want, TOLERANCE["null_rate"])
    points(
        "duplicate rate",
        profile.duplicate_rate,
        REFERENCE["duplicate_rate"],
        TOLERANCE["duplicate_rate"],
    )
    for label, got, want in zip(
        ("Q1", "median", "Q3"), profile.price_quartiles, REFERENCE["price_quartiles"], strict=True
    ):
        if abs(got - want) > TOLERANCE["price_quartiles"] * want:
            problems.append(f"price {label}: {got:.2f} vs real {want:.2f} (tolerance ±25%)")
    points(
        "one-session users",
        profile.one_session_user_share,
        REFERENCE["one_session_user_share"],
        TOLERANCE["one_session_user_share"],
    )
    points(
        "sessions with a purchase",
        profile.purchase_session_share,
        REFERENCE["purchase_session_share"],
        TOLERANCE["purchase_session_share"],
    )
    return problems
