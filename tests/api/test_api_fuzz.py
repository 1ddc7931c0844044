"""Fuzz POST /events with bodies generated from the OpenAPI document's Event schema (hypothesis).

Through the real local server and a real moto server: whatever the body, the answer is
never a 5xx, every rejection carries a reason and a detail, and every event the server
accepted (including the valid events of a mixed batch) reaches the landing zone.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from api_helpers import post, run_sink
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_api_handler import landing_rows

from aws_fixtures import AwsStack
from ecom.api.openapi import openapi_document

#: Both fuzz tests: 150 examples, the same ones on every run, nothing kept between runs, no
#: per-example deadline (each example is HTTP round trips to the emulator).
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

DOC = openapi_document()
EVENT_SCHEMA = DOC["components"]["schemas"]["Event"]
REASONS = set(DOC["components"]["schemas"]["EventResult"]["properties"]["reason"]["enum"])
FIELDS = list(EVENT_SCHEMA["properties"])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for the JSON Schema subset the Event schema uses (type, enum, pattern, bounds)."""
    if "oneOf" in schema:
        return st.one_of([from_schema(s) for s in schema["oneOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    options: list[st.SearchStrategy[Any]] = []
    for t in types:
        if t == "null":
            options.append(st.none())
        elif t == "string" and "pattern" in schema:
            options.append(st.from_regex(schema["pattern"], fullmatch=True))
        elif t == "string":
            options.append(st.text(max_size=min(schema.get("maxLength", 50), 50)))
        elif t == "integer":
            options.append(st.integers(schema.get("minimum"), schema.get("maximum")))
        elif t == "number":
            low, high = schema["exclusiveMinimum"], schema["exclusiveMaximum"]
            options.append(st.floats(low, high, exclude_min=True, exclude_max=True))
        elif t == "object":
            props = schema["properties"]
            required = {k: from_schema(props[k]) for k in schema["required"]}
            optional = {k: from_schema(v) for k, v in props.items() if k not in required}
            options.append(st.fixed_dictionaries(required, optional=optional))
        else:
            raise AssertionError(f"schema type {t!r} not covered by the fuzz test")
    return st.one_of(options)


#: Times of real dates in every spelling the schema allows (its pattern alone allows 2019-13-45).
real_times = st.builds(
    lambda t, spelling: t.strftime(spelling),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00"]),
)
schema_events = st.builds(
    lambda event, time: {**event, "event_time": time},
    from_schema(EVENT_SCHEMA),
    st.one_of(real_times, from_schema(EVENT_SCHEMA["properties"]["event_time"])),
)


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    event = dict(draw(schema_events))
    action = draw(st.sampled_from(["set", "drop", "extra", "text"]))
    name = draw(st.sampled_from(FIELDS))
    if action == "set":
        event[name] = draw(json_values)
    elif action == "drop":
        event.pop(name, None)
    elif action == "extra":
        event[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    else:
        event[name] = draw(st.text(max_size=300))
    return event


items = st.one_of(schema_events, schema_events, mutated_events(), json_values)

#: A valid event and a mixed batch: explicit examples, so every kind of answer (200, 207,
#: 400, 415) is exercised whatever the generated bodies happen to be.
VALID_EVENT = {
    "event_time": "2019-10-01 00:00:00 UTC",
    "event_type": "cart",
    "product_id": 5773203,
    "category_id": "1487580005134238553",
    "brand": "runail",
    "price": 2.62,
    "user_id": 463240011,
    "user_session": "26dd6e6e-4dac-4778-8d2c-92e149dab885",
}
MIXED_BATCH = json.dumps([VALID_EVENT, {**VALID_EVENT, "price": "free"}]).encode()


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["object", "array", "ndjson", "bytes", "truncated", "mediatype"]))
    if kind == "object":
        return json.dumps(draw(items)).encode(), "application/json"
    if kind == "array":
        return json.dumps(
            draw(st.lists(items, min_size=1, max_size=8))
        ).encode(), "application/json"
    if kind == "ndjson":
        lines = [json.dumps(x) for x in draw(st.lists(items, min_size=1, max_size=6))]
        return "\n".join(lines).encode(), "application/x-ndjson"
    if kind == "bytes":
        return draw(st.binary(max_size=200)), draw(
            st.sampled_from(["application/json", "application/x-ndjson"])
        )
    if kind == "truncated":
        text = json.dumps(draw(st.lists(schema_events, min_size=1, max_size=3))).encode()
        return text[: draw(st.integers(0, len(text) - 1))], "application/json"
    return json.dumps(draw(schema_events)).encode(), draw(
        st.sampled_from(["text/plain", "application/xml"])
    )


def test_fuzzed_bodies_get_reasons_never_5xx_and_accepted_events_land(
    api_url: str, aws_stack: AwsStack
) -> None:
    accepted: set[str] = set()
    statuses: dict[int, int] = {}

    @settings(FUZZ, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(bodies())
    @example((MIXED_BATCH, "application/json"))
    @example((json.dumps(VALID_EVENT).encode(), "application/json"))
    @example((b"[", "application/json"))
    @example((json.dumps(VALID_EVENT).encode(), "text/plain"))
    def check(body_and_type: tuple[bytes, str]) -> None:
        body, content_type = body_and_type
        status, answer = post(f"{api_url}/events", body, content_type=content_type)
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, answer
        assert status in (200, 207, 400, 413, 415), answer
        results = answer.get("results") or []
        if not results:
            assert status >= 400 and answer["error"] and answer["detail"], answer
        for r in results:
            if r["status"] == "accepted":
                assert len(r["event_id"]) == 32
                accepted.add(r["event_id"])
            else:
                assert r["status"] == "rejected"
                assert r["reason"] in REASONS and r["detail"], r
        n_ok = sum(r["status"] == "accepted" for r in results)
        assert answer.get("accepted", 0) == n_ok
        assert status == (200 if results and n_ok == len(results) else 207 if n_ok else status)
        if status == 207:
            assert 0 < n_ok < len(results)

    check()
    print(f"answers by status: {dict(sorted(statuses.items()))}; accepted events: {len(accepted)}")
    # the generator reached every kind of answer, including mixed batches
    assert {200, 207, 400, 415} <= set(statuses), statuses
    assert len(accepted) >= 5
    run_sink(aws_stack)
    assert {r["event_id"] for r in landing_rows(aws_stack)} == accepted


METRIC_ROUTES = {
    "totals": ("from", "to", "grain"),
    "breakdown": ("dimension", "day"),
    "top": ("kind", "day", "n"),
    "active": ("as_of",),
}
query_values = st.one_of(
    st.text(max_size=40),
    real_times,
    st.datetimes(min_value=datetime(1, 1, 1)).map(lambda t: t.isoformat()),
    st.dates().map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["minute", "hour", "day", "week", "category", "brand", "products", "brands",
                     "categories", "", "2019-10-01", "2019-10-01T00:00:00Z", "2019-10-02T00:00:00Z"]),
)  # fmt: skip


@st.composite
def metric_queries(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    route = draw(st.sampled_from([*METRIC_ROUTES, "nothing", ""]))
    names = [*METRIC_ROUTES.get(route, ()), "junk"]
    params = draw(st.dictionaries(st.sampled_from(names), query_values, max_size=4))
    return route, params


def test_fuzzed_metrics_queries_get_the_agreed_shape_or_a_reason_never_5xx(
    api_url: str, aws_stack: AwsStack
) -> None:
    from urllib.parse import urlencode

    from api_helpers import get

    statuses: dict[int, int] = {}

    @FUZZ
    @given(metric_queries())
    @example(("totals", {"from": "2019-10-01", "to": "2019-10-02", "grain": "hour"}))
    @example(("breakdown", {"dimension": "brand", "day": "2019-10-01"}))
    @example(("top", {"kind": "products", "day": "2019-10-01", "n": "5"}))
    @example(("active", {}))
    def check(route_and_params: tuple[str, dict[str, str]]) -> None:
        route, params = route_and_params
        status, answer = get(f"{api_url}/metrics/{route}?{urlencode(params)}")
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, answer
        if status == 200:
            expected = {
                "totals": {"grain", "from", "to", "buckets", "total"},
                "breakdown": {"dimension", "day", "rows"},
                "top": {"kind", "day", "rows"},
            }.get(route)
            if expected is not None:
                assert set(answer) == expected
            else:
                assert answer["users_30m"] >= answer["users_5m"] >= answer["users_1m"] >= 0
        else:
            assert status in (400, 404), answer
            assert answer["error"] and answer["reason"], answer

    check()
    print(f"metrics answers by status: {dict(sorted(statuses.items()))}")
    assert {200, 400, 404} <= set(statuses), statuses
