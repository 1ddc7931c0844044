"""The metrics table's key design: segments of event time, each owned by one shard.

One DynamoDB table, keys ``pk`` (partition) and ``sk`` (sort), all UTC event time:

=================  ===========================  ===============================================
pk                 sk                           holds
=================  ===========================  ===============================================
``w#<week>``       ``s#<shard id>#W``           a week's segment: as below, each entry and
                                                counter name starting with the day's tag (ISO
                                                weekday, ``1`` = Monday)
``d#<day>``        ``s#<shard id>#<cell>``      a segment: the figures of the events one shard
                                                applied to it (below)
``pos#<stream>``   ``<shard id>``               ``seq``: a sequence number the shard's events
                                                are applied up to (a guard, see store.py)
``latest``         ``<shard id>``               ``t``: the latest event time the shard applied
=================  ===========================  ===============================================

A **segment** holds, for the events applied to it: ``ev``, one entry per event (a string set
whose members each hold the entries of one write, one a line, :func:`pack`:
16 hex digits of the event_id, the minute ``HHMM``, a type letter and, for purchases, the
price in cents), from which the minute and hour figures are read; ``act``, the users
``<HHMM>u<user_id>`` and sessions ``<HHMM>s<session>`` active in each minute; ``c``, every
counter of those events as one JSON object (the shop's per type, ``units``, ``rev``, ``neg``;
per category ``c|<code>|<metric>``, brand ``b|<brand>|<metric>`` and product
``p|<product_id>|<metric>``); ``ver`` (its version), ``size`` (an upper bound of its bytes)
and ``expires_at`` (TTL).

Which segment an event goes to depends on how busy its time is. The **cells** of an event
time, coarse to fine, are the ISO week ``W`` (in the week's partition), the day ``D``, the
hour ``H<HH>``, the ten minutes ``T<HH><M>`` and the minute ``M<HHMM>.<k>`` (``k`` = 0, 1, ...
when one minute outgrows an item). An event goes to the coarsest of its cells whose segment
is not full (``SEGMENT_BYTES``): a quiet week is one item per shard, a busy day spreads over
hours, ten minutes and minutes by itself. A day's figures are the sum of its segments and of
its part of its week's: one ``Query`` on ``d#<day>`` and one on ``w#<week>``.

Counters (``METRICS``): events per type, ``units`` (purchases at a price >= 0, as the marts
count them), ``rev`` (revenue in cents, purchases at a price > 0) and ``neg`` (purchases at a
negative price, counted apart). Categories are keyed by ``category_code`` and brands by
``brand``; events without one count under ``(none)``, as the brand marts do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache

from ecom.events import EVENT_TYPES, Event

#: Counters of the shop and of every bucket.
METRICS: tuple[str, ...] = (*EVENT_TYPES, "units", "rev", "neg")
NONE_KEY = "(none)"
SEP = "|"
#: Hex digits of the event_id kept in a segment's ``ev`` entries (64 bits).
SEEN_DIGITS = 16
#: One-letter event types of ``ev`` entries.
TYPE_LETTERS = {"view": "v", "cart": "c", "remove_from_cart": "r", "purchase": "p"}
LETTER_TYPES = {v: k for k, v in TYPE_LETTERS.items()}
#: A segment is full past this many bytes. DynamoDB's item limit is 400 KB, and ``size`` is an
#: upper bound of the item's bytes, so a full segment still has room for its last batch; kept
#: well under the limit because every write of an item costs a write unit per KB of the item.
SEGMENT_BYTES = 64_000
#: Segments expire this long after their last write (the table is a live window; the marts
#: keep the history).
RETENTION_SECONDS = 35 * 86_400
LATEST_PK = "latest"
SEGMENT_PREFIX = "s#"
#: Between the entries of one member of ``ev`` or ``act`` (see :func:`pack`).
PACK = "\n"
#: The coarsest cell: a week, in a partition of its own (``w#<ISO year>-W<week>``).
WEEK_CELL = "W"
WEEK_SUFFIX = f"#{WEEK_CELL}"

Key = tuple[str, str]


def day_pk(day: str) -> str:
    return f"d#{day}"


@lru_cache(maxsize=4096)
def week_of(day: str) -> tuple[str, str]:
    """``(partition of the day's week, the day's tag)``: ``("w#2019-W40", "2")`` for
    2019-10-01, a Tuesday (ISO weeks, Monday = 1)."""
    year, week, weekday = date.fromisoformat(day).isocalendar()
    return f"w#{year}-W{week:02d}", str(weekday)


def week_days(pk: str) -> dict[str, str]:
    """The days of a week partition by their tags: ``{"1": "2019-09-30", ...}``."""
    year, week = pk[2:].split("-W")
    return {str(d): date.fromisocalendar(int(year), int(week), d).isoformat() for d in range(1, 8)}


def pack(entries: Iterable[str]) -> str:
    """The entries one write adds to a segment's ``ev`` or ``act``, as one member of the set:
    one entry a line (no entry holds a line break: the contract refuses control characters)."""
    return PACK.join(sorted(entries))


def unpack(members: Iterable[str]) -> Iterator[str]:
    """Every entry of a set's members (each written by :func:`pack`)."""
    for member in members:
        yield from member.split(PACK)


def position_key(stream: str, shard_id: str) -> Key:
    return (f"pos#{stream}", shard_id)


def latest_key(shard_id: str) -> Key:
    """The shard's latest event time applied (its own item: written in its transactions)."""
    return (LATEST_PK, shard_id)


def cells(event_time: str) -> tuple[str, str, str, str, str]:
    """The cells of an event time, coarse to fine; the minute's is its first part (``.0``)."""
    hh, mm = event_time[11:13], event_time[14:16]
    return (WEEK_CELL, "D", f"H{hh}", f"T{hh}{mm[0]}", f"M{hh}{mm}.0")


def next_part(cell: str) -> str:
    """``M1005.0`` -> ``M1005.1``: the minute's next part, once a part is full."""
    stem, _, k = cell.rpartition(".")
    return f"{stem}.{int(k) + 1}"


def segment_key(day: str, shard_id: str, cell: str) -> Key:
    pk = week_of(day)[0] if cell == WEEK_CELL else day_pk(day)
    return (pk, f"{SEGMENT_PREFIX}{shard_id}#{cell}")


def is_week(key: Key) -> bool:
    """Whether a segment is a week's (its entries and counter names carry a day tag)."""
    return key[1].endswith(WEEK_SUFFIX)


def whole_day(key: Key) -> bool:
    """Whether a chain that ends at this segment (its week's or its day's) ends there for
    every minute of the day."""
    return is_week(key) or key[1].endswith("#D")


def seen_id(event_id: str) -> str:
    return event_id[:SEEN_DIGITS]


def entry(event: Event) -> str:
    """The event's ``ev`` entry: id prefix, ``HHMM``, type letter, price in cents (purchases)."""
    t = event.event_time
    price = str(cents(event.price)) if event.event_type == "purchase" else ""
    letter = TYPE_LETTERS[event.event_type]
    return f"{event.event_id[:SEEN_DIGITS]}{t[11:13]}{t[14:16]}{letter}{price}"


def parse_entry(text: str) -> tuple[str, int, int, str, int]:
    """``(id prefix, hour, minute, event type, cents)`` of an ``ev`` entry."""
    d = SEEN_DIGITS
    price = text[d + 5 :]
    hour, minute = int(text[d : d + 2]), int(text[d + 2 : d + 4])
    return text[:d], hour, minute, LETTER_TYPES[text[d + 4]], int(price or 0)


def activity(event: Event) -> list[str]:
    """The event's ``act`` entries: its user and (when it has one) its session, per minute."""
    t = event.event_time
    minute = f"{t[11:13]}{t[14:16]}"
    out = [f"{minute}u{event.user_id}"]
    if event.user_session:
        out.append(f"{minute}s{event.user_session}")
    return out


def cents(price: str) -> int:
    """``"-3.50"`` -> -350 (prices are canonical: exactly two decimals)."""
    return int(price.replace(".", ""))


#: What an event adds to the counters, apart from how many such events there are: its type,
#: category, brand and, for a purchase, its product and the sign of its price. Events of one
#: signature add the same counters, so a batch adds them up once per signature, not per event.
Signature = tuple[str, str, str, int | None, int]


def signature(event: Event) -> Signature:
    category, brand = event.category_code or NONE_KEY, event.brand or NONE_KEY
    if event.event_type != "purchase":
        return (event.event_type, category, brand, None, 0)
    c = cents(event.price)
    return ("purchase", category, brand, event.product_id, (c > 0) - (c < 0))


def counters_of(
    sig: Signature, events: int, cents_sum: int, tag: str = ""
) -> list[tuple[str, int]]:
    """The counters ``events`` events of one signature add (``cents_sum``: their prices).

    The shop, its category and its brand count the type, ``units`` (a purchase at a price >=
    0) and ``rev`` (the cents of purchases at a price > 0); ``neg`` (a purchase at a negative
    price) is the shop's alone; the product counts ``purchases``, ``units`` and ``rev``. In a
    week's segment every name starts with the day's ``tag``."""
    event_type, category, brand, product, sign = sig
    shop = [(event_type, events)]
    if event_type == "purchase" and sign >= 0:
        shop.append(("units", events))
    if sign > 0:
        shop.append(("rev", cents_sum))
    out: list[tuple[str, int]] = []
    c, b = f"{tag}c{SEP}{category}{SEP}", f"{tag}b{SEP}{brand}{SEP}"
    for name, n in shop:
        out += [(tag + name, n), (c + name, n), (b + name, n)]
    if product is not None:
        if sign < 0:
            out.append((tag + "neg", events))
        p = f"{tag}p{SEP}{product}{SEP}"
        out.append((p + "purchases", events))
        out += [(p + name, n) for name, n in shop[1:]]
    return out
