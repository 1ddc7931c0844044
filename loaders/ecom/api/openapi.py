"""The OpenAPI 3.1 document of the ingestion endpoint (served at ``GET /openapi.json``).

The ``Event`` schema describes what a client should send; the handler's validator
(:mod:`ecom.api.payload` + :mod:`ecom.events`) is the authority and also rejects what a
schema cannot express (dates that do not exist, line breaks in fields, ...), always with
a reason. The fuzz test generates bodies from this document.
"""

from __future__ import annotations

import copy
from typing import Any

from ecom import __version__, contract
from ecom.api import metrics_openapi
from ecom.api.payload import MAX_BODY_BYTES, MAX_EVENTS, REQUIRED, JsonReason
from ecom.contract import Reason

_ID = {
    "oneOf": [
        {"type": "integer", "minimum": 1, "maximum": contract.INT64_MAX},
        {"type": "string", "pattern": f"^{contract.ID_PATTERN}$"},
    ],
    "description": "A positive 64-bit integer; send ids above 2^53 as strings from JavaScript.",
}
_TEXT = {
    "type": ["string", "null"],
    "maxLength": contract.MAX_FIELD_CHARS,
    "pattern": f"^[^{contract.CONTROL_CLASS_ECMA[1:-1]}]*$",
}
_LIMIT = float(10**contract.PRICE_WHOLE_DIGITS)


def _field_schema(field: contract.Field) -> dict[str, Any]:
    """The JSON Schema of one field, from its declaration in :mod:`ecom.contract`."""
    described = {"description": f"{field.rule}; rejected as {field.reason}."}
    if field.kind == "timestamp":
        return {
            "type": "string",
            # the contract's spelling, or ISO 8601 in UTC
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2} UTC|[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|\\+00:00))$",
            "examples": ["2019-10-01 00:00:00 UTC", "2019-10-01T00:00:00Z"],
            **described,
        }
    if field.kind == "enum":
        return {"type": "string", "enum": list(contract.EVENT_TYPES), **described}
    if field.kind == "id":
        return {**_ID, **described}
    if field.kind == "price":
        return {
            "oneOf": [
                {"type": "number", "exclusiveMinimum": -_LIMIT, "exclusiveMaximum": _LIMIT},
                {"type": "string", "pattern": f"^{contract.PRICE_PATTERN}$"},
            ],
            "description": 'At most two decimals; 3.5 and "3.50" are the same price.',
        }
    return {**_TEXT, "examples": [_EXAMPLES[field.name]], **described}


_EXAMPLES = {
    "category_code": "appliances.environment.vacuum",
    "brand": "runail",
    "user_session": "26dd6e6e-4dac-4778-8d2c-92e149dab885",
}

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One REES46 event. event_id is computed by the server from the content.",
    "required": list(REQUIRED),
    "additionalProperties": False,
    "properties": {f.name: _field_schema(f) for f in contract.FIELDS},
}

_RESULT = {
    "type": "object",
    "required": ["index", "status"],
    "properties": {
        "index": {"type": "integer", "description": "Position in the request (0-based)."},
        "status": {"type": "string", "enum": ["accepted", "rejected", "failed"]},
        "event_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "reason": {
            "type": "string",
            "description": "Why the event was not accepted (stable string).",
            "enum": [*Reason.ALL, *JsonReason.ALL, "kinesis_put_failed"],
        },
        "detail": {"type": "string"},
    },
}
_REPORT = {
    "type": "object",
    "required": ["request_id", "accepted", "rejected", "results"],
    "properties": {
        "request_id": {"type": "string"},
        "accepted": {"type": "integer"},
        "rejected": {"type": "integer"},
        "failed": {"type": "integer"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/EventResult"}},
        "quarantine": {"type": "string", "description": "S3 key of the rejected events."},
        "error": {"type": "string"},
        "detail": {"type": "string"},
    },
}
_ERROR = {
    "type": "object",
    "required": ["request_id", "error", "detail"],
    "properties": {
        "request_id": {"type": "string"},
        "error": {"type": "string", "description": "Machine-readable reason."},
        "detail": {"type": "string"},
    },
}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "ecom event ingestion",
        "version": __version__,
        "description": (
            "Posts REES46 clickstream events into the Kinesis stream. Every event is validated "
            "with the same contract as the CSV path and gets the same event_id; rejected events "
            "are answered with a reason and kept in quarantine/api/ of the landing bucket. "
            "GET /metrics/... answers the live KPIs the stream processor keeps in DynamoDB "
            "(each distinct event counted once; money as decimal strings)."
        ),
    },
    "servers": [{"url": "http://127.0.0.1:8080", "description": "ecom api serve"}],
    "security": [{"apiKey": []}],
    "paths": {
        "/events": {
            "post": {
                "operationId": "postEvents",
                "summary": "Put one event, a JSON array of events, or NDJSON into the stream",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/Event"},
                                    {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": MAX_EVENTS,
                                        "items": {"$ref": "#/components/schemas/Event"},
                                    },
                                ]
                            }
                        },
                        "application/x-ndjson": {
                            "schema": {
                                "type": "string",
                                "description": f"One Event object per line, at most {MAX_EVENTS} lines.",
                            }
                        },
                    },
                    "description": f"At most {MAX_BODY_BYTES:,} bytes and {MAX_EVENTS} events.",
                },
                "responses": {
                    "200": {
                        "description": "Every event is in the stream.",
                        "content": _json("IngestReport"),
                    },
                    "207": {
                        "description": "Some events accepted; the others rejected or failed, each with a reason.",
                        "content": _json("IngestReport"),
                    },
                    "400": {
                        "description": "No event accepted: a reason per rejected event, or one for the body.",
                        "content": _json("IngestReport"),
                    },
                    "401": {"description": "No x-api-key header.", "content": _json("Error")},
                    "403": {
                        "description": "The x-api-key is not valid.",
                        "content": _json("Error"),
                    },
                    "413": {"description": "Body or batch too large.", "content": _json("Error")},
                    "415": {"description": "Neither JSON nor NDJSON.", "content": _json("Error")},
                    "503": {
                        "description": "The stream refused the events after every retry (kept as dead letters).",
                        "content": _json("IngestReport"),
                    },
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document."}},
            }
        },
    },
    "components": {
        "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        "schemas": {
            "Event": EVENT_SCHEMA,
            "EventResult": _RESULT,
            "IngestReport": _REPORT,
            "Error": _ERROR,
        },
    },
}


_DOCUMENT["paths"].update(metrics_openapi.PATHS)
_DOCUMENT["components"]["schemas"].update(metrics_openapi.SCHEMAS)


def openapi_document() -> dict[str, Any]:
    """A copy of the OpenAPI document."""
    return copy.deepcopy(_DOCUMENT)
