"""Reconciliation: source rows -> stream -> landing -> raw -> staging -> marts, stage by stage.

Every check compares two counts measured independently (a stage's own report against what the
next place actually holds). The first failing check, in pipeline order, names the stage where
the counts diverged. ``docs/reconciliation.md`` lists the checks and why each must hold.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ecom.run.pipeline import RunState, StageFailed

#: Stages in pipeline order (the order divergences are looked for in).
STAGES = ("source", "produce", "sink", "load", "staging", "marts", "realtime")


@dataclass
class Check:
    stage: str
    name: str
    expected: float | int | None
    actual: float | int | None
    ok: bool
    detail: str = ""


@dataclass
class Reconciliation:
    checks: list[Check] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    compared_with_ground_truth: bool = False

    @property
    def balanced(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def diverged(self) -> Check | None:
        failing = [c for c in self.checks if not c.ok]
        if not failing:
            return None
        return min(failing, key=lambda c: STAGES.index(c.stage))

    def add(
        self,
        stage: str,
        name: str,
        expected: float | int | None,
        actual: float | int | None,
        *,
        tolerance: float = 0.0,
        detail: str = "",
    ) -> None:
        ok = (
            expected is not None
            and actual is not None
            and abs(float(expected) - float(actual)) <= tolerance
        )
        self.checks.append(Check(stage, name, expected, actual, ok, detail))

    def to_dict(self) -> dict[str, Any]:
        diverged = self.diverged
        return {
            "balanced": self.balanced,
            "diverged_stage": diverged.stage if diverged else None,
            "compared_with_ground_truth": self.compared_with_ground_truth,
            "counts": self.counts,
            "checks": [asdict(c) for c in self.checks],
            "marts": self.totals,
            "summary": self.summary,
        }


def _ids(buf: bytes | bytearray) -> np.ndarray:
    return np.frombuffer(bytes(buf), dtype="V16")


def landing_rows(s3: Any, bucket: str, keys: list[str]) -> tuple[dict[str, int], bytearray]:
    """Rows per landing object and the event ids of every row (copies included), read from S3."""
    rows: dict[str, int] = {}
    ids = bytearray()
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        reader = csv.reader(io.StringIO(gzip.decompress(body).decode("utf-8"), newline=""))
        next(reader, None)  # header
        n = 0
        for row in reader:
            ids += bytes.fromhex(row[0])
            n += 1
        rows[key] = n
    return rows, ids


def reconcile(state: RunState, s3: Any) -> Reconciliation:
    """Check every stage's counts against the next; compare the marts with the ground truth."""
    import duckdb

    rec = Reconciliation()
    inputs, aws, produced, sink, load, warehouse = (
        state.inputs,
        state.aws,
        state.produced,
        state.sink,
        state.load,
        state.warehouse,
    )
    if (
        inputs is None
        or aws is None
        or produced is None
        or sink is None
        or load is None
        or warehouse is None
    ):
        raise StageFailed("reconcile", "the stages up to the load have not all reported")
    truth = inputs.ground_truth
    produce = produced.report
    bucket = aws.bucket

    # -- source and produce ---------------------------------------------------------------------
    sent_ids = _ids(produced.sent_ids)
    distinct_sent = np.unique(sent_ids)
    if truth is not None:
        rec.add("source", "rows read = rows in the ground truth", truth["rows"], produce.read)
    rec.add(
        "produce",
        "rows read = sent + rejected + dead-lettered",
        produce.read,
        produce.sent + produce.rejected + produce.dead_lettered,
    )
    rec.add(
        "produce",
        "events dead-lettered after every retry",
        0,
        produce.dead_lettered,
        detail=", ".join(f"s3://{bucket}/{k}" for k in produce.deadletter_keys),
    )
    rec.add("produce", "events accepted = events sent", produce.sent, sent_ids.size)
    if truth is not None:
        rec.add(
            "produce",
            "distinct events sent = distinct events in the ground truth",
            truth["distinct_events"],
            distinct_sent.size,
        )

    # -- sink: stream -> landing ----------------------------------------------------------------
    keys = sink.keys
    rows_by_key, landed = landing_rows(s3, bucket, keys)
    landed_ids = _ids(landed)
    distinct_landed = np.unique(landed_ids)
    missing = np.setdiff1d(distinct_sent, distinct_landed, assume_unique=True).size
    foreign = np.setdiff1d(distinct_landed, distinct_sent, assume_unique=True).size
    rec.add(
        "sink",
        "distinct events landed = distinct events sent",
        distinct_sent.size,
        distinct_landed.size,
    )
    rec.add("sink", "events sent that never landed", 0, missing)
    rec.add("sink", "events landed that were not sent", 0, foreign)
    rec.add("sink", "events quarantined by the sink", 0, sink.quarantined)

    # -- load: landing -> raw.events ------------------------------------------------------------
    by_key = {o.obj.key: o for o in load.objects}
    loaded_rows = sum(by_key[k].rows_loaded for k in keys if k in by_key)
    rec.add("load", "landing objects of this run loaded", len(keys), sum(k in by_key for k in keys))
    rec.add("load", "rows loaded = rows landed", landed_ids.size, loaded_rows)
    rec.add(
        "load",
        "objects whose loaded rows differ from their landed rows",
        0,
        sum(1 for k, n in rows_by_key.items() if k in by_key and by_key[k].rows_loaded != n),
    )
    rec.add("load", "rows rejected by the loader", 0, load.rejected)
    rec.add("load", "loader: read = loaded + rejected", load.read, load.loaded + load.rejected)

    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    try:
        con.register("sent_ids", _arrow_ids(distinct_sent))
        _warehouse_checks(con, rec, bucket, truth, keys, landed_ids.size, distinct_sent.size)
        if state.realtime is not None:
            from ecom.aws import session
            from ecom.realtime.query import MetricsReader
            from ecom.run.realtime_check import check_realtime

            reader = MetricsReader(session.client("dynamodb"), aws.resources.metrics_table)
            check_realtime(rec, state.realtime, reader, con)
    finally:
        con.close()

    rec.counts = {
        "rows_read": produce.read,
        "rejected": produce.rejected,
        "rejected_by_reason": dict(sorted(produce.rejected_by_reason.items())),
        "accepted": int(sent_ids.size),
        "sent": produce.sent,
        "distinct_sent": int(distinct_sent.size),
        "retried": produce.retried,
        "throttled_or_failed_attempts": dict(sorted(Counter(produce.errors).items())),
        "dead_lettered": produce.dead_lettered,
        "stream_records_read": sink.records,
        "sink_restarts": sink.restarts,
        "sink_failures": sink.failures,
        "sink_quarantined": sink.quarantined,
        "landing_objects": len(keys),
        "landed": int(landed_ids.size),
        "distinct_landed": int(distinct_landed.size),
        "landed_copies": int(landed_ids.size - distinct_landed.size),
        "loaded": loaded_rows,
        "load_rejected": load.rejected,
        "load_rejected_by_reason": dict(sorted(load.rejected_by_reason.items())),
        "objects_loaded_from_earlier_runs": sum(1 for o in load.objects if o.obj.key not in keys),
        "rows_loaded_from_earlier_runs": sum(
            o.rows_loaded for o in load.objects if o.obj.key not in keys
        ),
        "drained_before_produce": sum(r.events for r in aws.drained.attempts),
        "fresh_objects_deleted": state.fresh.objects_deleted if state.fresh else 0,
        **rec.counts,
    }
    t = rec.totals
    rec.summary = {
        "events": rec.counts.get("staging_events"),
        "sessions": t.get("sessions"),
        "orders": t.get("orders"),
        "revenue": t.get("revenue"),
        "funnel": t.get("funnel"),
        "rfm_segments": t.get("rfm_segments"),
    }
    return rec


def _arrow_ids(ids: np.ndarray) -> Any:
    import pyarrow as pa

    column = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(ids), [None, pa.py_buffer(ids.tobytes())]
    )
    return pa.table({"id": column})


def _one(con: Any, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    if row is None:  # an aggregate always gives a row; say so if DuckDB ever does not
        raise StageFailed("reconcile", f"DuckDB returned no row for: {sql}")
    return row[0] if len(row) == 1 else row


def _warehouse_checks(
    con: Any,
    rec: Reconciliation,
    bucket: str,
    truth: dict[str, Any] | None,
    keys: list[str],
    landed: int,
    distinct_sent: int,
) -> None:
    urls = [f"s3://{bucket}/{k}" for k in keys]
    con.execute("create temp table run_objects (url varchar)")
    if urls:
        con.executemany("insert into run_objects values (?)", [[u] for u in urls])
    raw_run = _one(
        con, "select count(*) from raw.events where source_object in (select url from run_objects)"
    )
    rec.add("load", "rows in raw.events from this run's objects = rows landed", landed, raw_run)

    raw_rows, raw_distinct = _one(con, "select count(*), count(distinct event_id) from raw.events")
    staged, copies = _one(
        con, "select count(*), coalesce(sum(copies_delivered), 0) from staging.stg_events"
    )
    not_staged = _one(
        con,
        "select count(*) from sent_ids where not exists "
        "(select 1 from staging.stg_events e where unhex(e.event_id) = sent_ids.id)",
    )
    rec.add("staging", "events in staging = distinct events in raw.events", raw_distinct, staged)
    rec.add("staging", "copies delivered in staging = rows in raw.events", raw_rows, copies)
    rec.add("staging", "events sent that are not in staging", 0, not_staged)
    rec.counts.update(raw_rows=raw_rows, raw_distinct_events=raw_distinct, staging_events=staged)

    # -- marts against staging (always) ---------------------------------------------------------
    t = marts_totals(con)
    rec.totals = t
    rec.add("marts", "events in fct_sessions = events in staging", staged, t["session_events"])
    rec.add("marts", "orders = converted sessions", t["converted_sessions"], t["orders"])
    rec.add("marts", "orders in fct_sales_daily = orders", t["orders"], t["sales_orders"])
    rec.add("marts", "sessions in fct_funnel_daily = sessions", t["sessions"], t["funnel_sessions"])
    rec.add(
        "marts",
        "revenue in fct_sales_daily = positive-price purchases in staging",
        t["staging_revenue"],
        t["revenue"],
        tolerance=0.005,
    )
    rec.add("marts", "users in dim_customers = users in staging", t["staging_users"], t["users"])
    rec.add(
        "marts",
        "revenue in fct_product_daily = positive-price purchases in staging",
        t["staging_revenue"],
        t["product_revenue"],
        tolerance=0.005,
    )
    rec.add(
        "marts",
        "revenue in fct_product_daily = revenue in fct_sales_daily",
        t["revenue"],
        t["product_revenue"],
        tolerance=0.005,
    )
    rec.add(
        "marts",
        "units in fct_product_daily = non-negative-price purchases in staging",
        t["staging_units"],
        t["product_units"],
    )
    rec.add(
        "marts",
        "days whose fct_product_daily revenue or units differ from staging's purchases",
        0,
        _product_days_off(con),
    )

    # -- marts against the ground truth, when the warehouse holds exactly this input ------------
    if truth is None or not (staged == distinct_sent and not_staged == 0):
        return
    rec.compared_with_ground_truth = True
    rec.add("marts", "events = ground truth distinct events", truth["distinct_events"], staged)
    for etype, n in truth["distinct_by_type"].items():
        rec.add("marts", f"{etype} events = ground truth", n, t["events_by_type"].get(etype, 0))
    rec.add(
        "marts", "given sessions = ground truth sessions", truth["sessions"], t["given_sessions"]
    )
    rec.add(
        "marts",
        "converted given sessions = ground truth sessions with a purchase",
        truth["sessions_with_purchase"],
        t["converted_given_sessions"],
    )
    rec.add(
        "marts",
        "purchase events (units + negative-price) = ground truth purchases",
        truth["purchases"],
        t["units"] + t["negative_price_purchases"],
    )
    rec.add(
        "marts",
        "negative-price purchases = ground truth",
        truth["negative_price_purchases"],
        t["negative_price_purchases"],
    )
    rec.add(
        "marts", "revenue = ground truth revenue", truth["revenue"], t["revenue"], tolerance=0.005
    )
    rec.add("marts", "users = ground truth users", truth["users"], t["users"])


def _product_days_off(con: Any) -> int:
    """Event dates whose product revenue or units differ from the purchase events that day."""
    return int(
        _one(
            con,
            "with events as (select event_date,"
            " coalesce(sum(price) filter (where price > 0), 0) as revenue,"
            " count(*) filter (where price >= 0) as units"
            " from staging.stg_events where event_type = 'purchase' group by 1),"
            " products as (select event_date, sum(revenue) as revenue, sum(units) as units"
            " from marts.fct_product_daily where purchases > 0 group by 1)"
            " select count(*) from events full join products using (event_date)"
            " where events.revenue is distinct from products.revenue"
            " or events.units is distinct from products.units",
        )
    )


def marts_totals(con: Any) -> dict[str, Any]:
    sessions, given, converted, converted_given, session_events = _one(
        con,
        "select count(*), count(*) filter (where not is_session_inferred),"
        " count(*) filter (where is_converted),"
        " count(*) filter (where is_converted and not is_session_inferred),"
        " coalesce(sum(event_count), 0) from marts.fct_sessions",
    )
    orders = _one(con, "select count(*) from marts.fct_orders")
    sales_orders, units, revenue, negative, buyers = _one(
        con,
        "select coalesce(sum(orders), 0), coalesce(sum(units), 0), coalesce(sum(revenue), 0),"
        " coalesce(sum(negative_price_purchases), 0), (select count(distinct user_id)"
        " from marts.fct_orders) from marts.fct_sales_daily",
    )
    staging_revenue, staging_units, staging_users = _one(
        con,
        "select coalesce(sum(price) filter (where event_type = 'purchase' and price > 0), 0),"
        " count(*) filter (where event_type = 'purchase' and price >= 0),"
        " count(distinct user_id) from staging.stg_events",
    )
    product_revenue, product_units = _one(
        con,
        "select coalesce(sum(revenue), 0), coalesce(sum(units), 0) from marts.fct_product_daily",
    )
    by_type = dict(
        con.execute("select event_type, count(*) from staging.stg_events group by 1").fetchall()
    )
    funnel_sessions = _one(con, "select coalesce(sum(sessions), 0) from marts.fct_funnel_daily")
    # the whole period's funnel as the mart computes it (its rates are not recomputed here)
    f = _one(
        con,
        "select sessions, sessions_with_view, sessions_with_cart, sessions_with_purchase,"
        " view_to_cart_rate, cart_to_purchase_rate, session_conversion_rate,"
        " cart_abandonment_rate from marts.fct_funnel_overall",
    )
    segments = dict(
        con.execute(
            "select segment, count(*) from marts.customer_rfm group by 1 order by 2 desc, 1"
        ).fetchall()
    )
    users = _one(con, "select count(*) from marts.dim_customers")
    first, last = _one(con, "select min(event_at), max(event_at) from staging.stg_events")

    def rate(x: Any) -> float | None:
        return None if x is None else round(float(x), 4)

    return {
        "first_event_at": str(first) if first else None,
        "last_event_at": str(last) if last else None,
        "events_by_type": {str(k): int(v) for k, v in sorted(by_type.items())},
        "sessions": int(sessions),
        "given_sessions": int(given),
        "converted_sessions": int(converted),
        "converted_given_sessions": int(converted_given),
        "session_events": int(session_events),
        "orders": int(orders),
        "sales_orders": int(sales_orders),
        "units": int(units),
        "negative_price_purchases": int(negative),
        "revenue": float(revenue),
        "staging_revenue": float(staging_revenue),
        "staging_units": int(staging_units),
        "product_revenue": float(product_revenue),
        "product_units": int(product_units),
        "buyers": int(buyers),
        "users": int(users),
        "staging_users": int(staging_users),
        "funnel_sessions": int(funnel_sessions),
        "funnel": {
            "sessions": int(f[0]),
            "with_view": int(f[1]),
            "with_cart": int(f[2]),
            "with_purchase": int(f[3]),
            "view_to_cart_rate": rate(f[4]),
            "cart_to_purchase_rate": rate(f[5]),
            "session_conversion_rate": rate(f[6]),
            "cart_abandonment_rate": rate(f[7]),
        },
        "rfm_segments": {str(k): int(v) for k, v in segments.items()},
        "average_order_value": round(float(revenue) / orders, 2) if orders else None,
    }
