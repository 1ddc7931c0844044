"""The live page: today's figures from the stream processor, through GET /metrics of `ecom api serve`.

It refreshes itself every second (a Streamlit fragment with ``run_every``), reading the
API the app was started with (``--api-url``, key from ``$ECOM_API_KEY``). Money arrives as
decimal strings and is summed as :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pandas as pd
import streamlit as st

from ecom import settings
from ecom.present import charts as C
from ecom.present.filters import Filters
from ecom.present.kpis import count, money

REFRESH_SECONDS = 1.0
NA = "n/a"
EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")


class MetricsUnavailable(Exception):
    pass


def api_get(base: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET one /metrics route; the API key from $ECOM_API_KEY (as POST /events takes it)."""
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    keys = settings.get().api_keys
    key = keys.get_secret_value().split(",")[0].strip() if keys else ""
    request = urllib.request.Request(url, headers={"x-api-key": key})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as exc:
        try:
            body = json.load(exc)
            why = f"{body.get('error')}: {body.get('reason')}"
        except ValueError:
            why = exc.reason
        raise MetricsUnavailable(f"{url} answered {exc.code} ({why})") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise MetricsUnavailable(f"cannot reach {base}: {exc}") from exc


def scope_of(filters: Filters | None) -> tuple[str, str] | None:
    """The live breakdown a filter narrows to: ("brand", name) or ("category", code); None = all.

    Raises :class:`MetricsUnavailable` for filters the live metrics are not split by.
    """
    if filters is None:
        return None
    if filters.segment:
        raise MetricsUnavailable("the live metrics are not split by RFM segment: clear that filter")
    if filters.brand and filters.category:
        raise MetricsUnavailable(
            "the live metrics are split by brand or by category, not both: clear one of them"
        )
    if filters.brand:
        return ("brand", filters.brand)
    if filters.category:
        return ("category", filters.category)
    return None


def snapshot(
    base: str, scope: tuple[str, str] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the page shows, read from the API at one moment."""
    now = now or datetime.now(UTC)
    day = now.date().isoformat()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    totals = api_get(
        base,
        "/metrics/totals",
        {
            "from": midnight.strftime(iso),
            "to": (now + timedelta(minutes=1)).strftime(iso),
            "grain": "minute",
        },
    )
    snap: dict[str, Any] = {
        "now": now,
        "scope": scope,
        "totals": totals,
        "categories": api_get(base, "/metrics/top", {"kind": "categories", "day": day, "n": 10}),
        "brands": api_get(base, "/metrics/top", {"kind": "brands", "day": day, "n": 10}),
        "active": api_get(base, "/metrics/active"),
    }
    if scope:
        dimension, key = scope
        rows = api_get(base, "/metrics/breakdown", {"dimension": dimension, "day": day})["rows"]
        row = next((r for r in rows if r["key"] == key), None)
        empty = {"events": dict.fromkeys(EVENT_TYPES, 0), "units": 0, "revenue": "0.00"}
        snap["totals"] = {"buckets": [], "total": row or empty}
        kind = "brands" if dimension == "brand" else "categories"
        snap[kind] = {"rows": [r for r in snap[kind]["rows"] if r["key"] == key]}
        snap["categories" if kind == "brands" else "brands"] = None
        snap["active"] = None
    return snap


def minutes_frame(totals: dict[str, Any], last: int = 30) -> pd.DataFrame:
    rows = [
        {
            "bucket_start": b["bucket_start"],
            "event_type": kind,
            "events": int(b["events"].get(kind, 0)),
        }
        for b in totals.get("buckets", [])[-last:]
        for kind in EVENT_TYPES
    ]
    return pd.DataFrame(rows, columns=["bucket_start", "event_type", "events"])


def top_frame(top: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "key": r["key"],
            "revenue": float(Decimal(r["revenue"])),
            "units": r["units"],
            "purchases": r["purchases"],
        }
        for r in top.get("rows", [])
    ]
    return pd.DataFrame(rows, columns=["key", "revenue", "units", "purchases"])


def _draw(snap: dict[str, Any]) -> None:
    total = snap["totals"].get("total", {})
    events = total.get("events", {})
    active = snap["active"]
    scope = snap["scope"]
    with st.container(key="live-headline"):
        cols = st.columns(5)
        for col, key, label, text in (
            (cols[0], "revenue", "Revenue today", money(Decimal(total.get("revenue", "0")))),
            (cols[1], "purchases", "Purchases today", count(events.get("purchase", 0))),
            (cols[2], "events", "Events today", count(sum(int(v) for v in events.values()))),
            (
                cols[3],
                "users_5m",
                "Active users (5 min)",
                count(active["users_5m"]) if active else NA,
            ),
            (
                cols[4],
                "users_30m",
                "Active users (30 min)",
                count(active["users_30m"]) if active else NA,
            ),
        ):
            with col.container(key=f"live-kpi-{key}"):
                st.metric(label, text)
    with st.container(key="chart-live-minutes", border=True):
        minutes = minutes_frame(snap["totals"])
        if scope:
            st.info(f"Events per minute are not split by {scope[0]} in the live metrics.")
        elif minutes.empty:
            st.info("No event today yet: post some to POST /events and run the processor.")
        else:
            st.altair_chart(cast(Any, C.live_minutes(minutes)), width="stretch")
    left, right = st.columns(2)
    for column, kind in ((left, "categories"), (right, "brands")):
        with column.container(key=f"chart-live-{kind}", border=True):
            if snap[kind] is None:
                st.info(f"The live top {kind} are not split by {scope[0] if scope else ''}.")
                continue
            frame = top_frame(snap[kind])
            if frame.empty:
                st.info(f"No {kind} with sales today yet.")
            else:
                st.altair_chart(cast(Any, C.live_top(frame, kind)), width="stretch")
    st.caption(f"as of {snap['now']:%H:%M:%S} UTC; refreshes every {REFRESH_SECONDS:g} s")


@st.fragment(run_every=REFRESH_SECONDS)
def _live(base: str, scope: tuple[str, str] | None) -> None:
    try:
        snap = snapshot(base, scope)
    except MetricsUnavailable as exc:
        st.warning(f"The live metrics are unavailable: {exc}. Is `ecom api serve` running?")
        return
    _draw(snap)


def page() -> None:
    st.title("Live")
    base = settings.get().dashboard_api_url or ""
    if not base:
        st.info(
            "No metrics API configured: start `ecom api serve`, then "
            "`ecom dashboard serve --api-url http://127.0.0.1:PORT` (with $ECOM_API_KEY set)."
        )
        return
    filters = st.session_state.get("_filters")
    try:
        scope = scope_of(filters)
    except MetricsUnavailable as exc:
        st.info(str(exc))
        return
    narrowed = f" for {scope[0]} {scope[1]}" if scope else ""
    st.markdown(
        f"Today's figures (UTC){narrowed} from the stream processor, read from `{base}/metrics`. "
        "Live figures are always today's: the date range applies to the warehouse pages."
    )
    _live(base, scope)
