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
_TIME = {"type": "string", "format": "date-time", "examples": ["2019-10-01T08:15:00Z"]}
_DAY = {"type": "string", "format": "date", "examples": ["2019-10-01"]}
_MONEY_REF = {"$ref": "#/components/schemas/Money"}
_EVENTS_REF = {"$ref": "#/components/schemas/EventCounts"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema; every property required unless ``required`` names fewer."""
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


def _day_rows(head: str, head_enum: tuple[str, ...], rows: dict[str, Any]) -> dict[str, Any]:
    """A day's rows, grouped as ``head`` says (the breakdown's and the top's shape)."""
    return _object(
        {
            head: {"type": "string", "enum": list(head_enum)},
            "day": _DAY,
            "rows": {"type": "array", **rows},
        }
    )


_EVENTS = {
    **_object(dict.fromkeys(EVENT_TYPES, _COUNT)),
    "description": "Distinct events per type.",
}
_FIGURES = {
    "events": _EVENTS_REF,
    "units": {**_COUNT, "description": "Purchases at a price >= 0 (as the marts count units)."},
    "revenue": _MONEY_REF,
    "negative_price_purchases": {**_COUNT, "description": "Purchases at a negative price."},
}
_ACTIVE = [f"{w}_{n}m" for w in ("users", "sessions") for n in (1, 5, 30)]

SCHEMAS: dict[str, Any] = {
    "Money": _MONEY,
    "EventCounts": _EVENTS,
    "Totals": _object(
        {
            "grain": {"type": "string", "enum": list(GRAINS)},
            "from": _TIME,
            "to": _TIME,
            "buckets": {"type": "array", "items": _object({"bucket_start": _TIME, **_FIGURES})},
            "total": _object(_FIGURES),
        }
    ),
    "Breakdown": _day_rows(
        "dimension",
        DIMENSIONS,
        {
            "items": _object(
                {
                    "key": {
                        "type": "string",
                        "description": "category_code or brand; (none) when missing.",
                    },
                    "events": _EVENTS_REF,
                    "units": _COUNT,
                    "revenue": _MONEY_REF,
                }
            )
        },
    ),
    "Top": _day_rows(
        "kind",
        TOP_KINDS,
        {
            "maxItems": MAX_TOP,
            "items": _object(
                {
                    "key": {"type": "string"},
                    "revenue": _MONEY_REF,
                    "units": _COUNT,
                    "purchases": _COUNT,
                }
            ),
        },
    ),
    "Active": _object({"as_of": _TIME, **dict.fromkeys(_ACTIVE, _COUNT)}),
    "MetricsError": _object(
        {
            "request_id": {"type": "string"},
            "error": {"type": "string", "description": "Machine-readable code."},
            "reason": {"type": "string", "description": "Why, in words."},
            "detail": {"type": "string"},
        },
        required=["error", "reason"],
    ),
}


def _param(name: str, schema: dict[str, Any], description: str, required: bool) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _by_day(head: str, head_enum: tuple[str, ...], description: str) -> list[dict[str, Any]]:
    """The parameters of a day's rows (see :func:`_day_rows`): ``head`` and ``day``."""
    return [
        _param(head, {"type": "string", "enum": list(head_enum)}, description, True),
        _param("day", _DAY, "UTC event date.", True),
    ]


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
        _by_day("dimension", DIMENSIONS, "Group by."),
        "Breakdown",
    ),
    "/metrics/top": _get(
        "getMetricsTop",
        "A day's top products, categories or brands by revenue",
        [
            *_by_day("kind", TOP_KINDS, "What to rank."),
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
