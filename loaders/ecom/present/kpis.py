"""The headline figures, their names and how they are written (the app and the report alike)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any


def money(x: Any) -> str:
    """Exact to the cent: ``12,345.67`` (revenue is a decimal in the marts)."""
    return f"{Decimal(x):,.2f}"


def count(x: Any) -> str:
    return f"{int(x):,}"


def pct(x: Any) -> str:
    return f"{float(x) * 100:.2f}%"


#: key (as :func:`ecom.present.figures.headline` returns it), label, format
KPIS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("revenue", "Revenue", money),
    ("orders", "Orders", count),
    ("average_order_value", "Average order value", money),
    ("buyers", "Buying customers", count),
    ("sessions", "Sessions", count),
    ("session_conversion_rate", "Session conversion", pct),
    ("cart_abandonment_rate", "Cart abandonment", pct),
)

#: what a figure shows when no mart holds it under the filters (e.g. buyers by brand)
NOT_AVAILABLE = "n/a"


def formatted(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, label, text) of every headline figure."""
    return [
        (key, label, NOT_AVAILABLE if figures.get(key) is None else fmt(figures[key]))
        for key, label, fmt in KPIS
    ]
