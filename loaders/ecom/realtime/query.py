"""Reading the live KPIs back: the functions behind ``GET /metrics/...`` (docs/realtime.md).

Every figure of one UTC day is in the segments of the partition ``d#<day>`` and in the day's
part of its week's segments (``w#<week>``, entries tagged by day; :mod:`ecom.realtime.model`),
so each answer is one ``Query`` per day and one per week touched, summing the day's segments
(projected on the attribute the answer needs). Money is a decimal string
(``"123.45"``) computed from integer cents, never a float. Bad input raises
:class:`QueryError` (the API answers it with a 400 and its reason).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ecom.events import EVENT_TYPES
from ecom.realtime.model import (
    LATEST_PK,
    METRICS,
    SEGMENT_PREFIX,
    SEP,
    day_pk,
    parse_entry,
    unpack,
    week_days,
    week_of,
)

GRAINS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
#: Most buckets one totals request may ask for (a day of minutes, a month of hours, a year of days).
MAX_BUCKETS = {"minute": 1440, "hour": 744, "day": 366}
DIMENSIONS = ("category", "brand")
TOP_KINDS = ("products", "categories", "brands")
MAX_TOP = 100


class QueryError(ValueError):
    """A request that cannot be answered: ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{frac:02d}"


def parse_time(text: str | None, name: str) -> datetime:
    """An ISO-8601 instant; a time without an offset is taken as UTC."""
    if not text:
        raise QueryError(
            "missing_parameter", f"{name} is required (ISO-8601, e.g. 2019-10-01T08:00:00Z)"
        )
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise QueryError(
            "bad_time", f"{name} {text[:60]!r} is not an ISO-8601 time like 2019-10-01T08:00:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if not 1970 <= value.year <= 9998:
        raise QueryError("bad_time", f"{name} {text[:60]!r} is outside 1970-9998")
    return value


def parse_day(text: str | None) -> str:
    if not text:
        raise QueryError("missing_parameter", "day is required (YYYY-MM-DD)")
    try:
        if len(text.strip()) == 10:
            return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        pass
    raise QueryError("bad_day", f"day {text[:60]!r} is not a date like 2019-10-01")


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _floor(t: datetime, grain: str) -> datetime:
    if grain == "minute":
        return t.replace(second=0, microsecond=0)
    if grain == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _figures(numbers: dict[str, int], prefix: str = "") -> dict[str, Any]:
    return {
        "events": {t: int(numbers.get(prefix + t, 0)) for t in EVENT_TYPES},
        "units": int(numbers.get(prefix + "units", 0)),
        "revenue": money(numbers.get(prefix + "rev", 0)),
        "negative_price_purchases": int(numbers.get(prefix + "neg", 0)),
    }


def _day_part(item: dict[str, Any], attribute: str, tag: str) -> dict[str, Any]:
    """A week's segment as one day's segment: the entries (``ev``, ``act``) or counters
    (``c``) whose names start with the day's tag, the tag removed."""
    n = len(tag)
    if attribute == "c":
        counters = json.loads(item.get("c", {}).get("S", "{}"))
        mine = {k[n:]: v for k, v in counters.items() if k.startswith(tag)}
        return {"sk": item["sk"], "c": {"S": json.dumps(mine)}}
    members = item.get(attribute, {}).get("SS", [])
    entries = [e[n:] for e in unpack(members) if e.startswith(tag)]
    return {"sk": item["sk"], attribute: {"SS": entries}}


class MetricsReader:
    """Queries over the metrics table (``dynamodb`` is a boto3 client)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self._weeks: dict[tuple[str, str], list[dict[str, Any]]] = {}  # read once per reader

    def _segments(self, day: str, attribute: str) -> list[dict[str, Any]]:
        """The day's segments (every shard's), each with ``sk`` and ``attribute`` only: those of
        its partition, and its part of its week's segments (entries and counter names of the
        day, without their day tag)."""
        week, tag = week_of(day)
        own = [_day_part(item, attribute, tag) for item in self._week(week, attribute)]
        return own + self._query(day_pk(day), attribute)

    def _week(self, week: str, attribute: str) -> list[dict[str, Any]]:
        """A week partition's segments, queried once per reader."""
        if (week, attribute) not in self._weeks:
            self._weeks[(week, attribute)] = self._query(week, attribute)
        return self._weeks[(week, attribute)]

    def _query(self, pk: str, attribute: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": SEGMENT_PREFIX}},
            "ProjectionExpression": "sk, #a",
            "ExpressionAttributeNames": {"#a": attribute},
        }
        items: list[dict[str, Any]] = []
        while True:
            resp = self.dynamodb.query(**kwargs)
            items.extend(resp.get("Items", []))
            if not resp.get("LastEvaluatedKey"):
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _get(self, pk: str, sk: str) -> dict[str, Any]:
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        item: dict[str, Any] = (
            self.dynamodb.get_item(TableName=self.table, Key=key).get("Item") or {}
        )
        return item

    def day_counters(self, day: str) -> dict[str, int]:
        """Every counter of the day (the sum of its segments' ``c``)."""
        out: dict[str, int] = defaultdict(int)
        for item in self._segments(day, "c"):
            for name, value in json.loads(item.get("c", {}).get("S", "{}")).items():
                out[name] += int(value)
        return out

    # -- totals ----------------------------------------------------------------------------------

    def totals(self, start: datetime, end: datetime, grain: str) -> dict[str, Any]:
        """The shop's figures per bucket of ``grain`` in ``[start, end)``, and their total."""
        if grain not in GRAINS:
            raise QueryError("bad_grain", f"grain {grain!r} is not one of {', '.join(GRAINS)}")
        if end <= start:
            raise QueryError("bad_range", f"to ({iso(end)}) must be after from ({iso(start)})")
        first = _floor(start, grain)
        n = -(-(end - first) // GRAINS[grain])
        if n > MAX_BUCKETS[grain]:
            raise QueryError(
                "range_too_large",
                f"{n:,} {grain} buckets asked for; at most {MAX_BUCKETS[grain]:,} per request "
                "(use a coarser grain or a shorter range)",
            )
        starts = [first + i * GRAINS[grain] for i in range(n)]
        sums: dict[datetime, dict[str, int]] = {s: defaultdict(int) for s in starts}
        days = sorted({s.date() for s in starts})
        for day in days:
            if grain == "day":
                for k, v in self.day_counters(day.isoformat()).items():
                    if SEP not in k:
                        sums[datetime(day.year, day.month, day.day, tzinfo=UTC)][k] += v
                continue
            for item in self._segments(day.isoformat(), "ev"):
                for text in unpack(item.get("ev", {}).get("SS", [])):
                    _, hour, minute, event_type, price = parse_entry(text)
                    at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
                    bucket = at.replace(minute=minute) if grain == "minute" else at
                    if bucket not in sums:
                        continue
                    figures = sums[bucket]
                    figures[event_type] += 1
                    if event_type == "purchase":
                        figures["units"] += price >= 0
                        figures["rev"] += max(price, 0)
                        figures["neg"] += price < 0
        total: dict[str, int] = defaultdict(int)
        buckets = []
        for s in starts:
            for metric in METRICS:
                total[metric] += sums[s][metric]
            buckets.append({"bucket_start": iso(s), **_figures(sums[s])})
        return {
            "grain": grain,
            "from": iso(start),
            "to": iso(end),
            "buckets": buckets,
            "total": _figures(total),
        }

    # -- breakdowns and top lists ----------------------------------------------------------------

    def _rows(
        self, kind: str, day: str, counters: dict[str, int] | None = None
    ) -> dict[str, dict[str, int]]:
        """Counters of one kind (``c`` category, ``b`` brand, ``p`` product) per key."""
        rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        prefix = f"{kind}{SEP}"
        for name, value in (counters if counters is not None else self.day_counters(day)).items():
            if name.startswith(prefix):
                key, _, metric = name[len(prefix) :].rpartition(SEP)
                rows[key][metric] += value
        return rows

    def breakdown(self, dimension: str, day_text: str | None) -> dict[str, Any]:
        if dimension not in DIMENSIONS:
            raise QueryError(
                "bad_dimension", f"dimension {dimension!r} is not one of {', '.join(DIMENSIONS)}"
            )
        day = parse_day(day_text)
        rows = self._rows(dimension[0], day)
        ordered = sorted(
            rows.items(), key=lambda kv: (-kv[1].get("rev", 0), -sum(kv[1].values()), kv[0])
        )
        out = []
        for key, numbers in ordered:
            figures = _figures(numbers)
            del figures["negative_price_purchases"]
            out.append({"key": key, **figures})
        return {"dimension": dimension, "day": day, "rows": out}

    def top(self, kind: str, day_text: str | None, n: int = 10) -> dict[str, Any]:
        if kind not in TOP_KINDS:
            raise QueryError("bad_kind", f"kind {kind!r} is not one of {', '.join(TOP_KINDS)}")
        if not 1 <= n <= MAX_TOP:
            raise QueryError("bad_n", f"n must be between 1 and {MAX_TOP}")
        day = parse_day(day_text)
        rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        if kind == "products":
            rows = self._rows("p", day)
        else:
            for key, numbers in self._rows(kind[0], day).items():
                rows[key] = numbers
                rows[key]["purchases"] = numbers.get("purchase", 0)
        ranked = sorted(
            ((k, v) for k, v in rows.items() if v.get("purchases", 0)),
            key=lambda kv: (-kv[1].get("rev", 0), -kv[1].get("units", 0), kv[0]),
        )[:n]
        return {
            "kind": kind,
            "day": day,
            "rows": [
                {
                    "key": k,
                    "revenue": money(v.get("rev", 0)),
                    "units": int(v.get("units", 0)),
                    "purchases": int(v.get("purchases", 0)),
                }
                for k, v in ranked
            ],
        }

    # -- active users and sessions ---------------------------------------------------------------

    def latest(self) -> datetime | None:
        """The latest event time any shard applied (one ``Query`` of the shards' items; a table
        written before they had their own holds one item for all, sort key ``latest``)."""
        resp = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": LATEST_PK}},
            ProjectionExpression="t",
        )
        times = [item["t"]["S"] for item in resp.get("Items", []) if "t" in item]
        if not times:
            return None
        return datetime.fromisoformat(max(times)).replace(tzinfo=UTC)

    def active(self, as_of: datetime | None = None) -> dict[str, Any]:
        """Distinct users and sessions in the minute of ``as_of`` and the 5 and 30 minutes to it.

        ``as_of`` defaults to the latest event time applied (event time, not the wall clock:
        a replay of old data has its own "now").
        """
        as_of = as_of or self.latest() or datetime.now(UTC)
        end = as_of.replace(second=0, microsecond=0)
        minutes = [end - timedelta(minutes=i) for i in range(30)]
        users: dict[datetime, set[str]] = defaultdict(set)
        sessions: dict[datetime, set[str]] = defaultdict(set)
        wanted = set(minutes)
        for day in sorted({m.date() for m in minutes}):
            for item in self._segments(day.isoformat(), "act"):
                for text in unpack(item.get("act", {}).get("SS", [])):
                    at = datetime(
                        day.year, day.month, day.day, int(text[:2]), int(text[2:4]), tzinfo=UTC
                    )
                    if at in wanted:
                        (users if text[4] == "u" else sessions)[at].add(text[5:])
        out: dict[str, Any] = {"as_of": iso(as_of)}
        for window in (1, 5, 30):
            span = minutes[:window]
            out[f"users_{window}m"] = len(set().union(*(users[m] for m in span)))
            out[f"sessions_{window}m"] = len(set().union(*(sessions[m] for m in span)))
        order = ("as_of", "users_1m", "users_5m", "users_30m")
        return {k: out[k] for k in (*order, "sessions_1m", "sessions_5m", "sessions_30m")}

    # -- the reconciliation's view ---------------------------------------------------------------

    def days(self) -> list[str]:
        """Every day with figures (a scan of the segments' keys; reconciliation only)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(sk, :s)",
            "ExpressionAttributeValues": {":s": {"S": SEGMENT_PREFIX}},
            "ProjectionExpression": "pk",
        }
        out: set[str] = set()
        weeks: set[str] = set()
        while True:
            resp = self.dynamodb.scan(**kwargs)
            for item in resp.get("Items", []):
                pk = item["pk"]["S"]
                (weeks if pk.startswith("w#") else out).add(pk)
            if not resp.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        days = {pk[2:] for pk in out}
        for week in weeks:  # the days with counters in a week's segments, by their tags
            tags = week_days(week)
            for item in self._week(week, "c"):
                days.update(tags[name[0]] for name in json.loads(item["c"]["S"]))
        return sorted(days)

    def day_figures(self, day: str) -> dict[str, Any]:
        """A day's raw figures: shop totals, and per category and brand (integers, cents)."""
        counters = self.day_counters(day)
        return {
            "total": {m: counters.get(m, 0) for m in METRICS},
            "category": {k: dict(v) for k, v in self._rows("c", day, counters).items()},
            "brand": {k: dict(v) for k, v in self._rows("b", day, counters).items()},
        }
