"""The row validator: the event contract of :mod:`ecom.contract`, applied in Python.

A REES46 row has nine fields::

    event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session

``parse_fields`` turns the nine raw strings of one row into an :class:`Event`
or a :class:`Rejection` carrying a machine-readable reason and a human detail.
``read_csv_events`` does the same for a whole file, line by line in constant
memory, and never raises on a bad row.

Every accepted event gets an ``event_id``: the MD5 of its canonical content
(see :func:`canonical_key`). The stream, the Spark backfill and the HTTP
endpoint all compute it the same way, so at-least-once transport becomes
exactly-once downstream by de-duplicating on ``event_id``.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ecom import contract
from ecom.contract import (
    EVENT_TYPES,
    HEADER,
    HEADER_LINE,
    INT64_MAX,
    KEY_SEPARATOR,
    MAX_FIELD_CHARS,
    Reason,
)

__all__ = [
    "EVENT_TYPES",
    "HEADER",
    "HEADER_LINE",
    "INT64_MAX",
    "KEY_SEPARATOR",
    "MAX_FIELD_CHARS",
    "Event",
    "ParseStats",
    "Reason",
    "Rejection",
    "parse_fields",
    "parse_line",
    "parse_line_bytes",
    "read_csv_events",
]

#: Prices: the contract's pattern, its groups the whole and the decimal digits.
_PRICE_RE = re.compile(contract.PRICE_PATTERN + r"\Z", re.ASCII)
_TIME_RE = re.compile(contract.TIME_PATTERN + r"\Z", re.ASCII)
_CONTROL_RE = re.compile(contract.CONTROL_CLASS)
_EVENT_TYPE_SET = frozenset(EVENT_TYPES)


class Event(NamedTuple):
    """One valid event, in canonical form (an immutable named tuple: cheap to build).

    ``event_time`` is ``YYYY-MM-DD HH:MM:SS`` in UTC (the ``UTC`` suffix of the
    source dropped); ``price`` is a decimal string with exactly two decimals.
    Empty source fields are ``None``.
    """

    event_id: str
    event_time: str
    event_type: str
    product_id: int
    category_id: int
    category_code: str | None
    brand: str | None
    price: str
    user_id: int
    user_session: str | None

    def to_row(self) -> tuple[str, ...]:
        """The event as the 10 strings of a landing-zone CSV row (``event_id`` first)."""
        return (
            self.event_id,
            self.event_time,
            self.event_type,
            str(self.product_id),
            str(self.category_id),
            self.category_code or "",
            self.brand or "",
            self.price,
            str(self.user_id),
            self.user_session or "",
        )

    def to_source_fields(self) -> tuple[str, ...]:
        """The event as the nine REES46 fields, as they would appear in a source file."""
        return (
            self.event_time + " UTC",
            self.event_type,
            str(self.product_id),
            str(self.category_id),
            self.category_code or "",
            self.brand or "",
            self.price,
            str(self.user_id),
            self.user_session or "",
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that broke the contract, with why, and the raw text to quarantine."""

    reason: str
    detail: str
    raw: str
    line_no: int | None = None


@dataclass
class ParseStats:
    """Counts of one reader. ``read == accepted + rejected`` always holds."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    header_missing: bool = False
    empty: bool = False

    def add(self, outcome: Event | Rejection) -> None:
        self.read += 1
        if isinstance(outcome, Event):
            self.accepted += 1
        else:
            self.rejected += 1
            self.rejected_by_reason[outcome.reason] += 1


# -- canonical forms --------------------------------------------------------------------------

_valid_dates: dict[str, bool] = {}


def _date_is_real(date_part: str, year: int, month: int, day: int) -> bool:
    known = _valid_dates.get(date_part)
    if known is None:
        known = (
            1 <= month <= 12
            and 1 <= day <= calendar.monthrange(year, month)[1]
            and year >= contract.MIN_YEAR
        )
        if len(_valid_dates) < 100_000:
            _valid_dates[date_part] = known
    return known


def canonical_price(text: str) -> str | None:
    """``"3"``, ``"3.0"``, ``"03.00"`` all become ``"3.00"``; ``None`` if not a price."""
    match = _PRICE_RE.match(text)
    if match is None:
        return None
    whole, frac = match.group(1), match.group(2) or ""
    cents = frac.ljust(2, "0")
    whole = whole.lstrip("0") or "0"
    negative = text.startswith("-") and (whole != "0" or cents != "00")
    return f"{'-' if negative else ''}{whole}.{cents}"


def canonical_key(fields: Sequence[str]) -> str:
    """The string ``event_id`` hashes: nine canonical fields joined by U+001F.

    ``fields`` are already canonical: time without `` UTC``, ids as plain
    integers, price with two decimals, empty strings for missing values.
    """
    return KEY_SEPARATOR.join(fields)


def compute_event_id(fields: Sequence[str]) -> str:
    """MD5 hex digest (32 chars) of :func:`canonical_key`. Spark and SQL use ``md5`` too."""
    return hashlib.md5(canonical_key(fields).encode("utf-8"), usedforsecurity=False).hexdigest()


def _parse_id(text: str) -> int | None:
    if not text or len(text) > contract.ID_MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    if value <= 0 or value > INT64_MAX:
        return None
    return value


# -- the validator ----------------------------------------------------------------------------


def parse_fields(
    fields: Sequence[str], *, line_no: int | None = None, raw: str | None = None
) -> Event | Rejection:
    """Validate the nine fields of one REES46 row.

    Returns an :class:`Event` or a :class:`Rejection`; never raises on bad data.
    """

    def reject(reason: str, detail: str) -> Rejection:
        return Rejection(reason, detail, raw if raw is not None else ",".join(fields), line_no)

    if len(fields) != 9:
        return reject(Reason.WRONG_FIELD_COUNT, f"expected 9 fields, got {len(fields)}")
    for name, value in zip(HEADER, fields, strict=True):
        if len(value) > MAX_FIELD_CHARS:
            return reject(
                Reason.FIELD_TOO_LONG,
                f"{name} has {len(value)} characters (limit {MAX_FIELD_CHARS})",
            )
    (
        event_time,
        event_type,
        product_id,
        category_id,
        category_code,
        brand,
        price,
        user_id,
        user_session,
    ) = fields

    match = _TIME_RE.match(event_time)
    if match is None:
        return reject(
            Reason.BAD_EVENT_TIME, f"event_time {event_time!r} is not 'YYYY-MM-DD HH:MM:SS UTC'"
        )
    date_part = event_time[:10]
    if not _date_is_real(date_part, int(match.group(1)), int(match.group(2)), int(match.group(3))):
        return reject(Reason.BAD_EVENT_TIME, f"event_time {event_time!r} is not a real date")
    if event_type not in _EVENT_TYPE_SET:
        return reject(
            Reason.UNKNOWN_EVENT_TYPE,
            f"event_type {event_type!r} is not one of {', '.join(EVENT_TYPES)}",
        )
    product = _parse_id(product_id)
    if product is None:
        return reject(
            Reason.BAD_PRODUCT_ID, f"product_id {product_id!r} is not a positive 64-bit integer"
        )
    category = _parse_id(category_id)
    if category is None:
        return reject(
            Reason.BAD_CATEGORY_ID, f"category_id {category_id!r} is not a positive 64-bit integer"
        )
    for name, text in (("category_code", category_code), ("brand", brand)):
        if text and _CONTROL_RE.search(text):
            return reject(Reason.CONTROL_CHARACTER, contract.control_detail(name))
    price_text = canonical_price(price)
    if price_text is None:
        return reject(Reason.BAD_PRICE, f"price {price!r} is not a decimal with at most 2 decimals")
    user = _parse_id(user_id)
    if user is None:
        return reject(Reason.BAD_USER_ID, f"user_id {user_id!r} is not a positive 64-bit integer")
    if user_session and _CONTROL_RE.search(user_session):
        return reject(Reason.CONTROL_CHARACTER, contract.control_detail("user_session"))

    time_text = event_time[:19]
    product_text = str(product)
    category_text = str(category)
    user_text = str(user)
    event_id = compute_event_id(
        (
            time_text,
            event_type,
            product_text,
            category_text,
            category_code,
            brand,
            price_text,
            user_text,
            user_session,
        )
    )
    return Event(
        event_id,
        time_text,
        event_type,
        product,
        category,
        category_code or None,
        brand or None,
        price_text,
        user,
        user_session or None,
    )


#: The shape of an ordinary valid row, checked in one regex pass. A row that does not match
#: goes through :func:`parse_fields`, which finds the exact reason (or accepts an unusual but
#: valid spelling such as ids with leading zeros). Every group here is within the field limit.
_ID_FAST = f"([1-9][0-9]{{0,{contract.ID_MAX_DIGITS - 1}}})"
_TEXT_FAST = f"([^,{contract.CONTROL_CLASS[1:-1]}]{{0,{MAX_FIELD_CHARS}}})"
_FAST_ROW_RE = re.compile(
    "(" + contract.TIME_PATTERN.replace(" UTC", "") + ") UTC,"
    "(" + "|".join(EVENT_TYPES) + "),"
    + _ID_FAST + "," + _ID_FAST + "," + _TEXT_FAST + "," + _TEXT_FAST + ","
    + f"(-?)([1-9][0-9]{{0,{contract.PRICE_WHOLE_DIGITS - 1}}}|0)(?:\\.([0-9]{{1,{contract.PRICE_DECIMALS}}}))?,"
    + _ID_FAST + "," + _TEXT_FAST + r"\Z",
    re.ASCII,
)  # fmt: skip
_INT64_MAX_TEXT = str(INT64_MAX)
_tuple_new = tuple.__new__


def _fast_parse(text: str) -> Event | None:
    """Parse an ordinary valid row, or return ``None`` to let :func:`parse_fields` decide."""
    m = _FAST_ROW_RE.match(text)
    if m is None:
        return None
    (time_text, year, month, day, event_type, product, category, code, brand, sign, whole, frac,
     user, session) = m.groups()  # fmt: skip
    date_part = time_text[:10]
    known = _valid_dates.get(date_part)
    if known is None:
        known = _date_is_real(date_part, int(year), int(month), int(day))
    if not known:
        return None
    if (
        (len(product) == 19 and product > _INT64_MAX_TEXT)
        or (len(category) == 19 and category > _INT64_MAX_TEXT)
        or (len(user) == 19 and user > _INT64_MAX_TEXT)
    ):
        return None
    cents = "00" if frac is None else (frac if len(frac) == 2 else frac + "0")
    if sign and whole == "0" and cents == "00":
        sign = ""
    price = sign + whole + "." + cents
    key = "\x1f".join((time_text, event_type, product, category, code, brand, price, user, session))
    event_id = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return _tuple_new(
        Event,
        (event_id, time_text, event_type, int(product), int(category), code or None, brand or None,
         price, int(user), session or None)
    )  # fmt: skip


def split_line(line: str) -> list[str]:
    """Split one CSV line. Unquoted lines (all real REES46 rows) take a fast path."""
    if '"' not in line:
        return line.split(",")
    import csv

    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        # Broken quoting (e.g. a bare CR outside quotes): one unsplittable field, so the row
        # is rejected as wrong_field_count instead of stopping the run.
        return [line]


def parse_line(line: bytes | str, *, line_no: int | None = None) -> Event | Rejection:
    """Validate one CSV line (without its line ending)."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = line.decode("utf-8", errors="backslashreplace")
            return Rejection(
                Reason.INVALID_UTF8, f"invalid UTF-8 at byte {exc.start}", raw, line_no
            )
    else:
        text = line
    if '"' not in text:
        event = _fast_parse(text)
        if event is not None:
            return event
    return parse_fields(split_line(text), line_no=line_no, raw=text)


def _parse_nonblank(line: bytes, line_no: int) -> Event | Rejection:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return parse_line(line, line_no=line_no)
    return (_fast_parse(text) if '"' not in text else None) or parse_fields(
        split_line(text), line_no=line_no, raw=text
    )


def parse_line_bytes(line: bytes, line_no: int) -> Event | Rejection | None:
    """One line of a file (line ending removed) as :func:`read_csv_events` reads it: ``None``
    for a blank line, which is skipped and not counted."""
    if not line or line.isspace():
        return None
    return _parse_nonblank(line, line_no)


def strip_eol(line: bytes) -> bytes:
    """``line`` without its ``\\n``, ``\\r\\n`` or final ``\\r``."""
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line


def read_csv_events(
    source: str | Path | BinaryIO, stats: ParseStats | None = None
) -> Iterator[Event | Rejection]:
    """Stream a REES46 CSV file as events and rejections, in constant memory.

    The header is optional: a first line equal to the REES46 header is skipped,
    any other first line is read as data and ``stats.header_missing`` is set.
    Blank lines are skipped and not counted. ``stats`` (if given) is updated as
    rows are yielded.
    """
    stats = stats if stats is not None else ParseStats()
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            yield from read_csv_events(handle, stats)
        return
    saw_any = False
    header = HEADER_LINE.encode()
    add = stats.add
    for line_no, line in enumerate(source, start=1):
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        elif line.endswith(b"\r"):
            line = line[:-1]
        if line_no == 1:
            if line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if line.strip() == header:
                saw_any = True
                continue
            stats.header_missing = bool(line.strip())
        if not line or line.isspace():
            continue
        saw_any = True
        outcome = _parse_nonblank(line, line_no)
        add(outcome)
        yield outcome
    stats.empty = not saw_any
