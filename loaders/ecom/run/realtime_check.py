"""The real-time stage of the reconciliation: live KPIs in DynamoDB against ``stg_events``.

Per UTC event date, the live events per type, units, revenue and negative-price purchases,
and per category_code and brand the events per type, units and revenue, must equal what
``staging.stg_events`` gives for the same events (one row per distinct ``event_id``). A
difference is reported with the date and the metric (``2019-10-03 brand runail purchase:
live 4, stg_events 5``); the first few are named in the check's detail.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ecom.realtime.model import METRICS, NONE_KEY
from ecom.realtime.query import MetricsReader, money

_SQL = """
select
    strftime(event_date, '%Y-%m-%d') as day,
    {key} as key,
    event_type,
    count(*) as events,
    count(*) filter (where event_type = 'purchase' and price >= 0) as units,
    coalesce(sum(price * 100) filter (where event_type = 'purchase' and price > 0), 0) as rev,
    count(*) filter (where event_type = 'purchase' and price < 0) as neg
from staging.stg_events
group by all
"""


def _warehouse(con: Any) -> dict[str, dict[str, Any]]:
    days: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "total": dict.fromkeys(METRICS, 0),
            "category": defaultdict(lambda: defaultdict(int)),
            "brand": defaultdict(lambda: defaultdict(int)),
        }
    )
    for dimension, key in (
        ("total", "''"),
        ("category", f"coalesce(category_code, '{NONE_KEY}')"),
        ("brand", f"coalesce(brand, '{NONE_KEY}')"),
    ):
        for day, k, etype, events, units, rev, neg in con.execute(_SQL.format(key=key)).fetchall():
            target = days[day]["total"] if dimension == "total" else days[day][dimension][k]
            target[etype] += int(events)
            target["units"] += int(units)
            target["rev"] += int(rev)
            if dimension == "total":
                target["neg"] += int(neg)
    return days


def _differences(day: str, live: dict[str, Any], staged: dict[str, Any]) -> list[str]:
    out = []

    def show(metric: str, n: int) -> str:
        return money(n) if metric == "rev" else f"{n:,}"

    for metric in METRICS:
        a, b = int(live["total"].get(metric, 0)), int(staged["total"].get(metric, 0))
        if a != b:
            name = "revenue" if metric == "rev" else metric
            out.append(f"{day} {name}: live {show(metric, a)}, stg_events {show(metric, b)}")
    for dimension in ("category", "brand"):
        keys = set(live[dimension]) | set(staged[dimension])
        for key in sorted(keys):
            x, y = live[dimension].get(key, {}), staged[dimension].get(key, {})
            for metric in sorted(set(x) | set(y)):
                a, b = int(x.get(metric, 0)), int(y.get(metric, 0))
                if a != b:
                    name = "revenue" if metric == "rev" else metric
                    out.append(
                        f"{day} {dimension} {key} {name}: live {show(metric, a)}, "
                        f"stg_events {show(metric, b)}"
                    )
    return out


def check_realtime(rec: Any, realtime: Any, reader: MetricsReader, con: Any) -> None:
    """Add the real-time checks to ``rec`` (an ``ecom.run.reconcile.Reconciliation``)."""
    r, p = realtime.processor.report, realtime.poller.report
    rec.add(
        "realtime",
        "event lines read = applied + duplicates + quarantined",
        r.lines,
        r.applied + r.duplicates + r.quarantined,
    )
    rec.add("realtime", "events quarantined by the processor", 0, r.quarantined)
    rec.add(
        "realtime",
        "records sent to the on-failure destination",
        0,
        p.discarded,
        detail=", ".join(p.deadletter_keys),
    )
    staged = _warehouse(con)
    # the days this run's processor applied events to, and those staging holds (a scan of the
    # table would read every segment; days only earlier runs wrote to are not compared)
    live_days = sorted(r.days | set(staged))
    empty: dict[str, Any] = {"total": {}, "category": {}, "brand": {}}
    differences: list[str] = []
    live_revenue = 0
    for day in sorted(set(live_days) | set(staged)):
        live = reader.day_figures(day)
        live_revenue += int(live["total"].get("rev", 0))
        differences.extend(_differences(day, live, staged.get(day, empty)))
    detail = "; ".join(differences[:5])
    if len(differences) > 5:
        detail += f"; ... {len(differences)} differences in all"
    rec.add(
        "realtime",
        "days whose live KPIs (totals, per category and brand) differ from stg_events",
        0,
        len({d.split(" ", 1)[0] for d in differences}),
        detail=detail,
    )
    rec.counts.update(
        realtime_days=len(live_days),
        realtime_applied=r.applied,
        realtime_duplicates=r.duplicates,
        realtime_quarantined=r.quarantined,
        realtime_records=p.records,
        realtime_batches=p.invocations,
        realtime_dynamodb_writes=r.writes,
        realtime_transactions=r.transactions,
        realtime_revenue=money(live_revenue),
        realtime_differences=len(differences),
    )
