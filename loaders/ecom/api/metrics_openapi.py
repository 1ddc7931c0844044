"""The OpenAPI paths and schemas of ``GET /metrics/...`` (merged into ecom.api.openapi)."""

from __future__ import annotations

from typing import Any

from ecom.events import EVENT_TYPES
from ecom.realtime.query import DIMENSIONS, GRAINS, MAX_BUCKETS, MAX_TOP, TOP_KINDS

_COUNT = {"type": "integer", "minimum": 0}
_MONEY = {
    "type": "string",
    "pattern": "^-?[0-9]+\\.[0-9]{2}$",
    "description": "Decimal amount as a string (exact; never a float).",
    "examples": ["123.45"],
}
_EVENTS = {
    "type": "object",
    "required": list(EVENT_TYPES),
    "properties": dict.fromkeys(EVENT_TYPES, _COUNT),
    "description": "Distinct events per type.",
}
_FIGURES = {
    "events": {"$ref": "#/components/schemas/EventCounts"},
    "units": {**_COUNT, "description": "Purchases at a price >= 0 (as the marts count units)."},
    "revenue": {"$ref": "#/components/schemas/Money"},
    "negative_price_purchases": {**_COUNT, "description": "Purchases at a negative price."},
}
_TIME = {"type": "string", "format": "date-time", "examples": ["2019-10-01T08:15:00Z"]}
_DAY = {"type": "string", "format": "date", "examples": ["2019-10-01"]}

SCHEMAS: dict[str, Any] = {
    "Money": _MONEY,
    "EventCounts": _EVENTS,
    "Totals": {
        "type": "object",
        "required": ["grain", "from", "to", "buckets", "total"],
        "properties": {
            "grain": {"type": "string", "enum": list(GRAINS)},
            "from": _TIME,
            "to": _TIME,
            "buckets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["bucket_start", *_FIGURES],
                    "properties": {"bucket_start": _TIME, **_FIGURES},
                },
            },
            "total": {"type": "object", "required": list(_FIGURES), "properties": _FIGURES},
        },
    },
    "Breakdown": {
        "type": "object",
        "required": ["dimension", "day", "rows"],
        "properties": {
            "dimension": {"type": "string", "enum": list(DIMENSIONS)},
            "day": _DAY,
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "events", "units", "revenue"],
                    "properties": {
                        "key": {
                            "type": "string",
                            "description": "category_code or brand; (none) when missing.",
                        },
                        "events": {"$ref": "#/components/schemas/EventCounts"},
                        "units": _COUNT,
                        "revenue": {"$ref": "#/components/schemas/Money"},
                    },
                },
            },
        },
    },
    "Top": {
        "type": "object",
        "required": ["kind", "day", "rows"],
        "properties": {
            "kind": {"type": "string", "enum": list(TOP_KINDS)},
            "day": _DAY,
            "rows": {
                "type": "array",
                "maxItems": MAX_TOP,
                "items": {
                    "type": "object",
                    "required": ["key", "revenue", "units", "purchases"],
                    "properties": {
                        "key": {"type": "string"},
                        "revenue": {"$ref": "#/components/schemas/Money"},
                        "units": _COUNT,
                        "purchases": _COUNT,
                    },
                },
            },
        },
    },
    "Active": {
        "type": "object",
        "required": [
            "as_of",
            *(f"{w}_{n}m" for w in ("users", "sessions") for n in (1, 5, 30)),
        ],
        "properties": {
            "as_of": _TIME,
            **{f"{w}_{n}m": _COUNT for w in ("users", "sessions") for n in (1, 5, 30)},
        },
    },
    "MetricsError": {
        "type": "object",
        "required": ["error", "reason"],
        "properties": {
            "request_id": {"type": "string"},
            "error": {"type": "string", "description": "Machine-readable code."},
            "reason": {"type": "string", "description": "Why, in words."},
            "detail": {"type": "string"},
        },
    },
}


def _param(name: str, schema: dict[str, Any], description: str, required: bool) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _get(op: str, summary: str, params: list[dict[str, Any]], schema: str) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/MetricsError"}}}
    ok = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {
        "get": {
            "operationId": op,
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "The live figures.", "content": ok},
                "400": {"description": "A bad parameter, with the reason.", "content": error},
                "401": {"description": "No x-api-key header.", "content": error},
                "403": {"description": "The x-api-key is not valid.", "content": error},
                "503": {"description": "No metrics table configured.", "content": error},
            },
        }
    }


PATHS: dict[str, Any] = {
    "/metrics/totals": _get(
        "getMetricsTotals",
        "The shop's live KPIs per UTC time bucket in [from, to)",
        [
            _param("from", _TIME, "Start (inclusive), ISO-8601; no offset means UTC.", True),
            _param("to", _TIME, "End (exclusive), after from.", True),
            _param(
                "grain",
                {"type": "string", "enum": list(GRAINS), "default": "hour"},
                "Bucket size. At most "
                + ", ".join(f"{n:,} {g} buckets" for g, n in MAX_BUCKETS.items())
                + " per request.",
                False,
            ),
        ],
        "Totals",
    ),
    "/metrics/breakdown": _get(
        "getMetricsBreakdown",
        "A day's live KPIs per category_code or brand",
        [
            _param("dimension", {"type": "string", "enum": list(DIMENSIONS)}, "Group by.", True),
            _param("day", _DAY, "UTC event date.", True),
        ],
        "Breakdown",
    ),
    "/metrics/top": _get(
        "getMetricsTop",
        "A day's top products, categories or brands by revenue",
        [
            _param("kind", {"type": "string", "enum": list(TOP_KINDS)}, "What to rank.", True),
            _param("day", _DAY, "UTC event date.", True),
            _param(
                "n",
                {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": 10},
                "Rows.",
                False,
            ),
        ],
        "Top",
    ),
    "/metrics/active": _get(
        "getMetricsActive",
        "Distinct users and sessions in the last 1, 5 and 30 minutes",
        [
            _param(
                "as_of",
                _TIME,
                "The moment (event time); default the latest event applied.",
                False,
            )
        ],
        "Active",
    ),
}
