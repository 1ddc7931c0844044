"""Reading the live KPIs back: the functions behind ``GET /metrics/...`` (docs/realtime.md).

Every figure of one UTC day is in the partition ``d#<day>`` (:mod:`ecom.realtime.model`), so
each answer is one ``Query`` (or ``GetItem``) per day touched. Money is a decimal string
(``"123.45"``) computed from integer cents, never a float. Bad input raises
:class:`QueryError` (the API answers it with a 400 and its reason).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ecom.events import EVENT_TYPES
from ecom.realtime.model import (
    BRAND_SLOTS,
    LATEST_KEY,
    METRICS,
    PRODUCT_SLOTS,
    SEP,
    TOTAL_SK,
    day_pk,
    parse_entry,
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


def _numbers(item: dict[str, Any]) -> dict[str, int]:
    return {k: int(v["N"]) for k, v in item.items() if "N" in v}


class MetricsReader:
    """Queries over the metrics table (``dynamodb`` is a boto3 client)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def _query(self, pk: str, prefix: str | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        if prefix is not None:
            kwargs["KeyConditionExpression"] += " AND begins_with(sk, :p)"
            kwargs["ExpressionAttributeValues"][":p"] = {"S": prefix}
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

    def _get_many(self, pk: str, sks: list[str]) -> list[dict[str, Any]]:
        """Items of one partition by sort key (BatchGetItem: the slots of a day are known)."""
        keys = [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in sks]
        request: dict[str, Any] = {self.table: {"Keys": keys}}
        items: list[dict[str, Any]] = []
        while request:
            resp = self.dynamodb.batch_get_item(RequestItems=request)
            items.extend(resp.get("Responses", {}).get(self.table, []))
            request = resp.get("UnprocessedKeys") or {}
        return items

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
            pk = day_pk(day.isoformat())
            if grain == "day":
                for k, v in _numbers(self._get(pk, TOTAL_SK)).items():
                    sums[datetime(day.year, day.month, day.day, tzinfo=UTC)][k] += v
                continue
            for item in self._query(pk, "h#"):
                hour = int(item["sk"]["S"].split("#")[1])
                at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
                for text in item.get("ev", {}).get("SS", []):
                    _, minute, event_type, price = parse_entry(text)
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

    def _dimension_rows(
        self, dimension: str, day: str, total: dict[str, Any] | None = None
    ) -> dict[str, dict[str, int]]:
        rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        if dimension == "category":
            items = [total if total is not None else self._get(day_pk(day), TOTAL_SK)]
            prefix = f"c{SEP}"
        else:
            items = self._get_many(day_pk(day), [f"b#{i}" for i in range(BRAND_SLOTS)])
            prefix = ""
        for item in items:
            for name, value in _numbers(item).items():
                if not name.startswith(prefix) or SEP not in name[len(prefix) :]:
                    continue
                key, _, metric = name[len(prefix) :].rpartition(SEP)
                rows[key][metric] += value
        return rows

    def breakdown(self, dimension: str, day_text: str | None) -> dict[str, Any]:
        if dimension not in DIMENSIONS:
            raise QueryError(
                "bad_dimension", f"dimension {dimension!r} is not one of {', '.join(DIMENSIONS)}"
            )
        day = parse_day(day_text)
        rows = self._dimension_rows(dimension, day)
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
            for item in self._get_many(day_pk(day), [f"p#{i}" for i in range(PRODUCT_SLOTS)]):
                for name, value in _numbers(item).items():
                    key, _, metric = name.rpartition(SEP)
                    rows[key][metric] += value
        else:
            dimension = {"categories": "category", "brands": "brand"}[kind]
            for key, numbers in self._dimension_rows(dimension, day).items():
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
        item = self._get(*LATEST_KEY)
        if "t" not in item:
            return None
        return datetime.fromisoformat(item["t"]["S"]).replace(tzinfo=UTC)

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
        for day, hour in sorted({(m.date(), m.hour) for m in minutes}):
            for item in self._query(day_pk(day.isoformat()), f"h#{hour:02d}#"):
                for text in item.get("act", {}).get("SS", []):
                    at = datetime(day.year, day.month, day.day, hour, int(text[:2]), tzinfo=UTC)
                    (users if text[2] == "u" else sessions)[at].add(text[3:])
        out: dict[str, Any] = {"as_of": iso(as_of)}
        for window in (1, 5, 30):
            span = minutes[:window]
            out[f"users_{window}m"] = len(set().union(*(users[m] for m in span)))
            out[f"sessions_{window}m"] = len(set().union(*(sessions[m] for m in span)))
        order = ("as_of", "users_1m", "users_5m", "users_30m")
        return {k: out[k] for k in (*order, "sessions_1m", "sessions_5m", "sessions_30m")}

    # -- the reconciliation's view ---------------------------------------------------------------

    def days(self) -> list[str]:
        """Every day with figures (a scan of the ``total`` items; reconciliation only)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "sk = :t",
            "ExpressionAttributeValues": {":t": {"S": TOTAL_SK}},
            "ProjectionExpression": "pk",
        }
        out: list[str] = []
        while True:
            resp = self.dynamodb.scan(**kwargs)
            out.extend(i["pk"]["S"][2:] for i in resp.get("Items", []))
            if not resp.get("LastEvaluatedKey"):
                return sorted(out)
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def day_figures(self, day: str) -> dict[str, Any]:
        """A day's raw figures: shop totals, and per category and brand (integers, cents)."""
        item = self._get(day_pk(day), TOTAL_SK)
        total = _numbers(item)
        return {
            "total": {m: total.get(m, 0) for m in METRICS},
            "category": {
                k: dict(v) for k, v in self._dimension_rows("category", day, item).items()
            },
            "brand": {k: dict(v) for k, v in self._dimension_rows("brand", day).items()},
        }
