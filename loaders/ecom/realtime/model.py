"""The metrics table's key design, and events -> per-item deltas (aggregated in memory).

One DynamoDB table, keys ``pk`` (partition) and ``sk`` (sort), all UTC event time:

================  ==============  ==========================================================
pk                sk              holds
================  ==============  ==========================================================
``d#<day>``       ``h#<HH>#<n>``  the hour: ``ev``, one entry per event applied
                                  (string set of ``<id>`` (16 hex digits of the event_id)
                                  ``<MM>`` (minute) ``<t>`` (type letter) ``<cents>``
                                  (purchases)); ``act``, the users ``<MM>u<user_id>`` and
                                  sessions ``<MM>s<session>`` of each minute; a version
                                  ``ver``; ``expires_at`` (TTL)
``d#<day>``       ``total``       the day's counters, and per category ``c|<code>|<metric>``
``d#<day>``       ``b#<slot>``    per brand ``<brand>|<metric>`` (brands hashed to slots)
``d#<day>``       ``p#<slot>``    per product ``<product_id>|purchases|units|rev``
``pos#<stream>``  ``<shard id>``  ``seq``: the last sequence number applied from the shard
``latest``        ``latest``      ``t``: the latest event time applied
================  ==============  ==========================================================

The minute and hour figures are read from ``ev`` (a set: adding an entry twice changes
nothing), so an hour costs four update clauses however many events it holds; an hour item holds about
10,000 events (DynamoDB's 400 KB), and ``HOUR_SHARDS`` spreads a busier hour over more items.

Counters (``METRICS``): events per type, ``units`` (purchases at a price >= 0, as the marts
count them), ``rev`` (revenue in cents, purchases at a price > 0) and ``neg`` (purchases at a
negative price, counted apart). Categories are keyed by ``category_code`` and brands by
``brand``; events without one count under ``(none)``, as the brand marts do.

Everything of one day is one partition, so every query is a single ``Query`` on ``d#<day>``.
The hour item is the unit of the exactly-once scheme (see :mod:`ecom.realtime.store`).
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ecom.events import EVENT_TYPES, Event

#: Counters of the shop and of every bucket.
METRICS: tuple[str, ...] = (*EVENT_TYPES, "units", "rev", "neg")
#: Counters of a category or brand row (no ``neg``).
BREAKDOWN_METRICS: tuple[str, ...] = (*EVENT_TYPES, "units", "rev")
PRODUCT_METRICS: tuple[str, ...] = ("purchases", "units", "rev")
NONE_KEY = "(none)"
SEP = "|"
BRAND_SLOTS = 2
PRODUCT_SLOTS = 4
#: Hour items per hour (events hashed by event_id): one holds ~10,000 events.
HOUR_SHARDS = 1
#: Hex digits of the event_id kept in an hour's ``ev`` entries (64 bits).
SEEN_DIGITS = 16
#: One-letter event types of ``ev`` entries.
TYPE_LETTERS = {"view": "v", "cart": "c", "remove_from_cart": "r", "purchase": "p"}
LETTER_TYPES = {v: k for k, v in TYPE_LETTERS.items()}
#: Fine buckets (the hour items with their minutes) expire this long after their last write.
FINE_TTL_SECONDS = 35 * 86_400
TOTAL_SK = "total"
LATEST_KEY = ("latest", "latest")

Key = tuple[str, str]


def day_pk(day: str) -> str:
    return f"d#{day}"


def hour_sk(hour: str, shard: int = 0) -> str:
    return f"h#{hour}#{shard}"


def _slot(key: str, slots: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % slots


def brand_sk(brand: str) -> str:
    return f"b#{_slot(brand, BRAND_SLOTS)}"


def product_sk(product_id: int) -> str:
    return f"p#{_slot(str(product_id), PRODUCT_SLOTS)}"


def position_key(stream: str, shard_id: str) -> Key:
    return (f"pos#{stream}", shard_id)


def seen_id(event_id: str) -> str:
    return event_id[:SEEN_DIGITS]


def entry(event: Event) -> str:
    """The event's ``ev`` entry: id prefix, minute, type letter, price in cents (purchases)."""
    t = event.event_time
    price = str(cents(event.price)) if event.event_type == "purchase" else ""
    return f"{event.event_id[:SEEN_DIGITS]}{t[14:16]}{TYPE_LETTERS[event.event_type]}{price}"


def parse_entry(text: str) -> tuple[str, int, str, int]:
    """``(id prefix, minute, event type, cents)`` of an ``ev`` entry."""
    d = SEEN_DIGITS
    price = text[d + 3 :]
    return text[:d], int(text[d : d + 2]), LETTER_TYPES[text[d + 2]], int(price or 0)


def hour_key(event: Event) -> Key:
    t = event.event_time
    return day_pk(t[:10]), hour_sk(t[11:13], int(event.event_id[0], 16) % HOUR_SHARDS)


def cents(price: str) -> int:
    """``"-3.50"`` -> -350 (prices are canonical: exactly two decimals)."""
    return int(price.replace(".", ""))


@dataclass
class ItemDelta:
    """What one batch adds to one item: numbers (ADD) and set members (ADD to a set)."""

    numbers: Counter[str] = field(default_factory=Counter)
    string_sets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    hour: bool = False  # an hour item: versioned, expires

    @property
    def clauses(self) -> int:
        return len(self.numbers) + len(self.string_sets)


def _counters(event: Event) -> list[tuple[str, int]]:
    out = [(event.event_type, 1)]
    if event.event_type == "purchase":
        c = cents(event.price)
        if c >= 0:
            out.append(("units", 1))
        if c > 0:
            out.append(("rev", c))
        if c < 0:
            out.append(("neg", 1))
    return out


#: Most clauses one event adds to one item (types, units, rev, neg and a category's three).
EVENT_CLAUSES = 8


def touched(event: Event) -> list[Key]:
    """The items an event changes."""
    day = day_pk(event.event_time[:10])
    keys = [hour_key(event), (day, TOTAL_SK), (day, brand_sk(event.brand or NONE_KEY))]
    if event.event_type == "purchase":
        keys.append((day, product_sk(event.product_id)))
    return keys


def add_event(deltas: dict[Key, ItemDelta], event: Event) -> None:
    """Add one event's contribution to every item it touches."""
    t = event.event_time
    day = day_pk(t[:10])
    minute = t[14:16]
    counters = _counters(event)
    hour = deltas.setdefault(hour_key(event), ItemDelta())
    total = deltas.setdefault((day, TOTAL_SK), ItemDelta())
    brand = event.brand or NONE_KEY
    by_brand = deltas.setdefault((day, brand_sk(brand)), ItemDelta())
    category = f"c{SEP}{event.category_code or NONE_KEY}"
    for name, n in counters:
        total.numbers[name] += n
        if name != "neg":
            total.numbers[f"{category}{SEP}{name}"] += n
            by_brand.numbers[f"{brand}{SEP}{name}"] += n
    hour.hour = True
    hour.string_sets["ev"].add(entry(event))
    hour.string_sets["act"].add(f"{minute}u{event.user_id}")
    if event.user_session:
        hour.string_sets["act"].add(f"{minute}s{event.user_session}")
    if event.event_type == "purchase":
        product = deltas.setdefault((day, product_sk(event.product_id)), ItemDelta())
        product.numbers[f"{event.product_id}{SEP}purchases"] += 1
        for name, n in counters:
            if name in ("units", "rev"):
                product.numbers[f"{event.product_id}{SEP}{name}"] += n


def aggregate(events: Iterable[Event]) -> dict[Key, ItemDelta]:
    deltas: dict[Key, ItemDelta] = {}
    for event in events:
        add_event(deltas, event)
    return deltas
