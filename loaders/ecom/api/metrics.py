"""``GET /metrics/...``: the live KPIs the stream processor keeps in DynamoDB.

=============================  ==============================================================
route                          parameters
=============================  ==============================================================
``/metrics/totals``            ``from``, ``to`` (ISO-8601, UTC), ``grain`` (minute|hour|day,
                               default hour)
``/metrics/breakdown``         ``dimension`` (category|brand), ``day`` (YYYY-MM-DD)
``/metrics/top``               ``kind`` (products|categories|brands), ``day``, ``n`` (1-100,
                               default 10)
``/metrics/active``            ``as_of`` (optional; default the latest event time applied)
=============================  ==============================================================

The answers are those of :class:`ecom.realtime.query.MetricsReader`; bad input gets a 400
with ``error`` (a stable code) and ``reason``; an unknown route a 404. Same API key as
``POST /events``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecom.realtime.query import MetricsReader, QueryError, parse_time

ROUTES: dict[str, tuple[str, ...]] = {
    "/metrics/totals": ("from", "to", "grain"),
    "/metrics/breakdown": ("dimension", "day"),
    "/metrics/top": ("kind", "day", "n"),
    "/metrics/active": ("as_of",),
}


class NotFound(LookupError):
    pass


def answer(reader: MetricsReader, path: str, params: dict[str, str]) -> dict[str, Any]:
    """The JSON body for ``path`` with query ``params``; :class:`QueryError` on bad input."""
    allowed = ROUTES.get(path)
    if allowed is None:
        raise NotFound(path)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise QueryError(
            "unknown_parameter",
            f"{path} takes {', '.join(allowed)}; not {', '.join(repr(u[:40]) for u in unknown)}",
        )
    handlers: dict[str, Callable[[], dict[str, Any]]] = {
        "/metrics/totals": lambda: reader.totals(
            parse_time(params.get("from"), "from"),
            parse_time(params.get("to"), "to"),
            params.get("grain") or "hour",
        ),
        "/metrics/breakdown": lambda: reader.breakdown(
            params.get("dimension") or "", params.get("day")
        ),
        "/metrics/top": lambda: reader.top(
            params.get("kind") or "", params.get("day"), _int(params.get("n"), 10)
        ),
        "/metrics/active": lambda: reader.active(
            parse_time(params["as_of"], "as_of") if params.get("as_of") else None
        ),
    }
    return handlers[path]()


def _int(text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.strip().isdigit() or len(text.strip()) > 6:
        raise QueryError("bad_n", f"n {text[:20]!r} is not a whole number between 1 and 100")
    return int(text)
