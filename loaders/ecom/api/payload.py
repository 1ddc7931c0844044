"""Request bodies of ``POST /events`` -> events and rejections, through the one event validator.

A body is one JSON object, a JSON array of objects, or NDJSON (one object per line).
Each object carries the nine REES46 fields. JSON values are first turned into the
strings a REES46 CSV row would hold, then :func:`ecom.events.parse_fields` validates
them, so an event posted over HTTP gets the same ``event_id`` as the same event read
from a CSV file:

* ids (``product_id``, ``category_id``, ``user_id``): a JSON integer or a string of
  digits (large ids such as ``category_id`` are safer as strings in JavaScript);
* ``price``: a JSON number or a decimal string (``3.5`` and ``"3.50"`` are the same price);
* ``event_time``: ``"YYYY-MM-DD HH:MM:SS UTC"`` or ISO 8601 in UTC
  (``"YYYY-MM-DDTHH:MM:SSZ"``, ``+00:00``);
* ``category_code``, ``brand``, ``user_session``: strings, or ``null`` / absent.

Problems the CSV validator cannot see in JSON get their own stable reasons (see
:class:`JsonReason`); a control character (a line break, NUL...) in a text field is the
contract's ``control_character``, as in a CSV row; body-level problems raise :class:`BodyError` with an HTTP status.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ecom import contract
from ecom.events import HEADER, Event, Reason, Rejection, parse_fields

#: Largest accepted body (bytes). API Gateway allows 10 MB and Lambda 6 MB; a storefront batch
#: of 500 events is ~150 KB.
MAX_BODY_BYTES = 1 * 2**20
#: Most events in one request (the PutRecords limit, so a request is at most one call unpacked).
MAX_EVENTS = 500

NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
JSON_TYPES = frozenset({"application/json", "text/json", ""})

#: The fields an object must carry, and those it may leave out or set to null (the contract's).
REQUIRED = tuple(f.name for f in contract.FIELDS if f.required)
NULLABLE = tuple(f.name for f in contract.FIELDS if not f.required)
#: Fields posted as JSON strings (ids and the price may also be JSON numbers).
_STRING_FIELDS = frozenset(
    f.name for f in contract.FIELDS if f.kind in ("timestamp", "enum", "text")
)
_ID_FIELDS = frozenset(contract.ID_FIELDS)
_FIELDS = frozenset(HEADER)
#: ISO 8601 in UTC; the contract's own spelling (`` UTC`` suffix) goes to the validator as it is.
_ISO_UTC = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:Z|z|\+00:00)\Z")


class JsonReason:
    """Rejection reasons of the JSON path, beside :class:`ecom.events.Reason`. Stable strings."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    WRONG_TYPE = "wrong_type"

    #: Every reason above, as declared.
    ALL: tuple[str, ...] = tuple(v for k, v in locals().items() if k.isupper())


class BodyError(Exception):
    """The body as a whole cannot be read: answered with ``status`` and one reason."""

    def __init__(self, status: int, reason: str, detail: str, raw: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.raw = raw


class _Int(str):
    """A JSON integer literal, kept as its text."""

    __slots__ = ()


class _Float(str):
    """A JSON number literal with a fraction or exponent (or NaN/Infinity), kept as its text."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Item:
    """One posted event: its position in the request and what the validator made of it."""

    index: int
    outcome: Event | Rejection


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_body(
    body: bytes, content_type: str | None, *, max_events: int = MAX_EVENTS
) -> list[Item]:
    """Validate every event of a request body. Raises :class:`BodyError` for body-level problems."""
    kind = media_type(content_type)
    if kind in NDJSON_TYPES:
        return _parse_ndjson(body, max_events)
    if kind not in JSON_TYPES:
        raise BodyError(
            415,
            "unsupported_media_type",
            f"Content-Type {kind!r} is not application/json or application/x-ndjson",
        )
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    if not body.strip():
        raise BodyError(400, "empty_body", "the request body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            400,
            Reason.INVALID_UTF8,
            f"the body is not UTF-8 at byte {exc.start}",
            body.decode("utf-8", errors="backslashreplace"),
        ) from None
    try:
        doc = _loads(text)
    except ValueError as exc:
        raise BodyError(
            400, JsonReason.INVALID_JSON, f"the body is not JSON: {exc}", text
        ) from None
    if isinstance(doc, dict):
        return [Item(0, to_event(doc, 0))]
    if isinstance(doc, list):
        if not doc:
            raise BodyError(400, "empty_batch", "the JSON array holds no events", text)
        if len(doc) > max_events:
            raise BodyError(
                413,
                "too_many_events",
                f"{len(doc)} events in one request (limit {max_events}); split the batch",
            )
        return [Item(i, to_event(obj, i)) for i, obj in enumerate(doc)]
    raise BodyError(
        400,
        JsonReason.NOT_AN_OBJECT,
        f"the body is a JSON {_json_type(doc)}, not an event object or an array of them",
        text,
    )


def _parse_ndjson(body: bytes, max_events: int) -> list[Item]:
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    lines = [line for line in body.split(b"\n") if line.strip()]
    if not lines:
        raise BodyError(400, "empty_body", "the request body holds no NDJSON lines")
    if len(lines) > max_events:
        raise BodyError(
            413,
            "too_many_events",
            f"{len(lines)} events in one request (limit {max_events}); split the batch",
        )
    items: list[Item] = []
    for index, line in enumerate(lines):
        line = line.rstrip(b"\r")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = line.decode("utf-8", errors="backslashreplace")
            items.append(
                Item(
                    index,
                    Rejection(
                        Reason.INVALID_UTF8, f"line is not UTF-8 at byte {exc.start}", raw, index
                    ),
                )
            )
            continue
        try:
            obj = _loads(text)
        except ValueError as exc:
            items.append(
                Item(
                    index,
                    Rejection(JsonReason.INVALID_JSON, f"line is not JSON: {exc}", text, index),
                )
            )
            continue
        items.append(Item(index, to_event(obj, index, raw=text)))
    return items


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_int=_Int, parse_float=_Float, parse_constant=_Float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


# -- one event ---------------------------------------------------------------------------------


def to_event(obj: Any, index: int, *, raw: str | None = None) -> Event | Rejection:
    """Validate one decoded JSON value as an event (never raises on bad data)."""
    raw_text = raw if raw is not None else to_json(obj)

    def reject(reason: str, detail: str) -> Rejection:
        return Rejection(reason, detail, raw_text, index)

    if not isinstance(obj, dict):
        return reject(
            JsonReason.NOT_AN_OBJECT, f"expected an event object, got a {_json_type(obj)}"
        )
    unknown = sorted(str(k) for k in obj if k not in _FIELDS)
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        return reject(
            JsonReason.UNKNOWN_FIELD, f"unknown field(s) {shown}; allowed: {', '.join(HEADER)}"
        )
    fields: list[str] = []
    for name in HEADER:
        value = obj.get(name)
        if value is None:
            if name in REQUIRED:
                return reject(JsonReason.MISSING_FIELD, f"{name} is required")
            fields.append("")
            continue
        text = _field_text(name, value)
        if text is None:
            return reject(
                JsonReason.WRONG_TYPE,
                f"{name} must be {_EXPECTED[name]}, got a {_json_type(value)}",
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return reject(
                Reason.INVALID_UTF8, f"{name} holds a lone surrogate (not encodable as UTF-8)"
            )
        fields.append(text)
    return parse_fields(fields, line_no=index, raw=raw_text)


_EXPECTED = {
    "event_time": "a string 'YYYY-MM-DD HH:MM:SS UTC'",
    "event_type": "a string",
    "product_id": "an integer or a string of digits",
    "category_id": "an integer or a string of digits",
    "category_code": "a string or null",
    "brand": "a string or null",
    "price": "a number or a decimal string",
    "user_id": "an integer or a string of digits",
    "user_session": "a string or null",
}


def _field_text(name: str, value: Any) -> str | None:
    """The CSV text of one JSON value, or ``None`` when its JSON type is wrong for ``name``."""
    if name in _STRING_FIELDS:
        if type(value) is not str:
            return None
        if name == "event_time":
            match = _ISO_UTC.match(value)
            if match is not None:
                return f"{match.group(1)} {match.group(2)} UTC"
        return value
    if name in _ID_FIELDS:
        if type(value) is str or isinstance(value, _Int | _Float):
            return str(value)  # a float literal such as 1.0 fails the validator as not an id
        return None
    # price
    if type(value) is str or isinstance(value, _Int):
        return str(value)
    if isinstance(value, _Float):
        return _number_text(value)
    return None


def _number_text(literal: str) -> str:
    """``3.5`` -> ``3.5``, ``1e2`` -> ``100``; absurd literals are returned as they are (and fail)."""
    if len(literal) > 40:
        return literal
    try:
        number = Decimal(literal)
    except InvalidOperation:
        return literal
    if not number.is_finite() or not -12 <= number.adjusted() <= 12:
        return literal
    return format(number, "f")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _Int | _Float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def to_json(value: Any, depth: int = 0) -> str:
    """JSON text of a decoded value, number literals as they were posted (for quarantine)."""
    if isinstance(value, _Int | _Float):
        return str(value)
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return json.dumps(value, ensure_ascii=False)
    if depth > 32:
        return '"…"'
    if isinstance(value, list):
        return "[" + ",".join(to_json(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(str(k), ensure_ascii=False)}:{to_json(v, depth + 1)}"
                for k, v in value.items()
            )
            + "}"
        )
    return json.dumps(str(value), ensure_ascii=False)
