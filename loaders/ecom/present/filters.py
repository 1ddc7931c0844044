"""The dashboard's filters: a date range, a category, a brand and an RFM segment.

They travel in the app's URL (``?from=2019-10-01&to=2019-10-31&brand=apple``), so a
filtered view can be shared by copying the address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date

#: Query parameter of each filter field.
PARAMS = {
    "start": "from",
    "end": "to",
    "category": "category",
    "brand": "brand",
    "segment": "segment",
}


class FilterError(ValueError):
    """A filter value in the URL that cannot be read (e.g. a date that is not YYYY-MM-DD)."""


@dataclass(frozen=True)
class Filters:
    """What every panel is narrowed to; ``None`` means "all"."""

    start: date | None = None
    end: date | None = None
    #: a category_code (``electronics.smartphone``) or a category_id
    category: str | None = None
    brand: str | None = None
    segment: str | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise FilterError(f"the range starts ({self.start}) after it ends ({self.end})")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Filters:
        """Read the filters from URL query parameters; unknown parameters are ignored."""
        values: dict[str, object] = {}
        for name, param in PARAMS.items():
            raw = (params.get(param) or "").strip()
            if not raw:
                continue
            if name in ("start", "end"):
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError as exc:
                    raise FilterError(f"{param}={raw!r} is not a date (YYYY-MM-DD)") from exc
            else:
                values[name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def to_params(self) -> dict[str, str]:
        """The URL query parameters of the filters that are set."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[PARAMS[f.name]] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def without(self, *names: str) -> Filters:
        return replace(self, **dict.fromkeys(names))

    @property
    def product_filters(self) -> list[str]:
        """The set filters that narrow to products (category, brand)."""
        return [n for n in ("category", "brand") if getattr(self, n) is not None]

    def describe(self) -> str:
        parts = []
        if self.start or self.end:
            parts.append(f"{self.start or '…'} to {self.end or '…'}")
        parts += [
            f"{n} {getattr(self, n)}" for n in ("category", "brand", "segment") if getattr(self, n)
        ]
        return ", ".join(parts) or "everything"
