"""GET /metrics/... through the real local server (ecom api serve's app) on a real moto server:
the shapes agreed in INTERFACES.md, figures equal to the events', 4xx with reasons."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from realtime_helpers import distinct_events, poller, processor, produce

from aws_fixtures import AwsStack
from ecom.api.handler import ApiConfig, IngestApp
from ecom.api.server import serving
from ecom.events import Event

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from api_helpers import API_KEY, get

TYPES = ("view", "cart", "remove_from_cart", "purchase")


@pytest.fixture
def served(aws_stack: AwsStack) -> Iterator[str]:
    """The API (the app of ecom api serve) on the stack, through the real local server."""
    app = IngestApp(
        aws_stack.client("kinesis"),
        aws_stack.client("s3"),
        ApiConfig(
            stream=aws_stack.stream,
            bucket=aws_stack.bucket,
            api_keys=frozenset({API_KEY}),
            metrics_table=aws_stack.outputs["MetricsTableName"],
        ),
        aws_stack.client("dynamodb"),
    )
    with serving(app) as url:
        yield url


@pytest.fixture
def live(aws_stack: AwsStack, served: str, few_days: list[Path]) -> tuple[str, dict[str, Event]]:
    """The few days processed into the metrics table, and the API serving them."""
    produce(aws_stack, few_days)
    poller(aws_stack, processor(aws_stack)).run()
    return served, distinct_events(few_days)


def _metrics(url: str, route: str, **params: Any) -> Any:
    status, body = get(f"{url}/metrics/{route}?{urlencode(params)}")
    assert status == 200, body
    return body


def _cents(text: str) -> int:
    assert text == f"{Decimal(text):.2f}"  # a decimal string with two decimals
    return int(Decimal(text) * 100)


def test_totals_at_every_grain_equal_the_events(live: tuple[str, dict[str, Event]]) -> None:
    url, events = live
    day = "2019-10-03"
    day_events = [e for e in events.values() if e.event_time.startswith(day)]
    hours = _metrics(
        url, "totals", **{"from": f"{day}T00:00:00Z", "to": "2019-10-04T00:00:00Z", "grain": "hour"}
    )
    minutes = _metrics(
        url,
        "totals",
        **{"from": f"{day}T00:00:00Z", "to": "2019-10-04T00:00:00Z", "grain": "minute"},
    )
    days = _metrics(url, "totals", **{"from": "2019-10-01", "to": "2019-10-11", "grain": "day"})
    # the agreed shape
    assert set(hours) == {"grain", "from", "to", "buckets", "total"}
    assert hours["from"] == f"{day}T00:00:00Z" and len(hours["buckets"]) == 24
    assert len(minutes["buckets"]) == 1440 and len(days["buckets"]) == 10
    bucket = hours["buckets"][8]
    assert bucket["bucket_start"] == f"{day}T08:00:00Z"
    assert set(bucket) == {"bucket_start", "events", "units", "revenue", "negative_price_purchases"}
    assert set(bucket["events"]) == set(TYPES)
    # the figures: every grain adds up to the same day, equal to the events'
    expected_events = {t: sum(e.event_type == t for e in day_events) for t in TYPES}
    purchases = [Decimal(e.price) for e in day_events if e.event_type == "purchase"]
    expected_revenue = sum((p for p in purchases if p > 0), Decimal("0.00"))
    for answer in (hours, minutes):
        assert answer["total"]["events"] == expected_events
        assert answer["total"]["units"] == sum(p >= 0 for p in purchases)
        assert _cents(answer["total"]["revenue"]) == int(expected_revenue * 100)
    assert days["buckets"][2]["events"] == expected_events
    assert days["buckets"][2]["revenue"] == hours["total"]["revenue"]
    # a minute bucket holds exactly that minute's events
    per_minute: dict[str, int] = defaultdict(int)
    for e in day_events:
        per_minute[e.event_time[11:16]] += 1
    got = {b["bucket_start"][11:16]: sum(b["events"].values()) for b in minutes["buckets"]}
    assert {k: v for k, v in got.items() if v} == dict(per_minute)


def test_breakdown_top_and_active(live: tuple[str, dict[str, Event]]) -> None:
    url, events = live
    day = "2019-10-05"
    day_events = [e for e in events.values() if e.event_time.startswith(day)]
    brands = _metrics(url, "breakdown", dimension="brand", day=day)
    assert brands["dimension"] == "brand" and brands["day"] == day
    expected: dict[str, int] = defaultdict(int)
    for e in day_events:
        expected[e.brand or "(none)"] += 1
    assert {r["key"]: sum(r["events"].values()) for r in brands["rows"]} == dict(expected)
    assert set(brands["rows"][0]) == {"key", "events", "units", "revenue"}
    revenues = [_cents(r["revenue"]) for r in brands["rows"]]
    assert revenues == sorted(revenues, reverse=True)
    categories = _metrics(url, "breakdown", dimension="category", day=day)
    assert sum(sum(r["events"].values()) for r in categories["rows"]) == len(day_events)

    top = _metrics(url, "top", kind="products", day=day, n=3)
    assert top["kind"] == "products" and len(top["rows"]) <= 3
    product_revenue: dict[str, int] = defaultdict(int)
    for e in day_events:
        if e.event_type == "purchase" and Decimal(e.price) > 0:
            product_revenue[str(e.product_id)] += int(Decimal(e.price) * 100)
    best = sorted(product_revenue.values(), reverse=True)[:3]
    assert [_cents(r["revenue"]) for r in top["rows"]] == best
    assert set(top["rows"][0]) == {"key", "revenue", "units", "purchases"}
    assert _metrics(url, "top", kind="brands", day=day)["rows"]

    as_of = max(e.event_time for e in events.values())
    active = _metrics(url, "active")
    assert active["as_of"] == as_of.replace(" ", "T") + "Z"  # the latest event time applied
    window = [e for e in events.values() if e.event_time[:16] == as_of[:16]]
    assert active["users_1m"] == len({e.user_id for e in window})
    assert active["users_1m"] <= active["users_5m"] <= active["users_30m"]
    assert set(active) == {
        "as_of", "users_1m", "users_5m", "users_30m", "sessions_1m", "sessions_5m", "sessions_30m"
    }  # fmt: skip


#: Requests the metrics routes must refuse: the status, the error named, the request.
BAD_REQUESTS = """
400  bad_range          totals?from=2019-10-02T00:00:00Z&to=2019-10-01T00:00:00Z
400  bad_grain          totals?from=2019-10-01&to=2019-10-02&grain=week
400  bad_time           totals?from=yesterday&to=2019-10-02
400  missing_parameter  totals?to=2019-10-02
400  range_too_large    totals?from=2019-10-01&to=2019-12-01&grain=minute
400  unknown_parameter  totals?from=2019-10-01&to=2019-10-02&colour=red
400  bad_dimension      breakdown?dimension=colour&day=2019-10-01
400  bad_day            breakdown?dimension=brand&day=2019-02-30
400  bad_n              top?kind=products&day=2019-10-01&n=0
400  bad_n              top?kind=products&day=2019-10-01&n=ten
400  bad_kind           top?kind=shops&day=2019-10-01
400  bad_time           active?as_of=never
404  not_found          nothing
"""


@pytest.mark.parametrize(
    ("status", "error", "query"),
    [
        (int(status), error, query)
        for status, error, query in map(str.split, BAD_REQUESTS.strip().splitlines())
    ],
)
def test_bad_requests_get_a_4xx_with_a_reason(
    served: str, status: int, error: str, query: str
) -> None:
    url = served
    got, body = get(f"{url}/metrics/{query}")
    assert (got, body["error"]) == (status, error), body
    assert body["reason"]


def test_the_metrics_need_the_api_key(served: str) -> None:
    url = served
    assert get(f"{url}/metrics/active", api_key=None)[0] == 401
    status, body = get(f"{url}/metrics/active", api_key="wrong")
    assert status == 403 and body["error"] == "invalid_api_key" and body["reason"]
