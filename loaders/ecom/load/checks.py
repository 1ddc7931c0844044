"""The event contract as SQL, for the loaders: generated from :mod:`ecom.contract`.

A loader stages landing rows as text and checks that every field is in the contract's
canonical form (:data:`ecom.contract.CANONICAL_TIME_PATTERN` and friends) before it casts
them into ``raw.events``; a database's own casts are more lenient than the contract (DuckDB
reads ``24:00:00`` and ``2019-10-01T00:00:00`` as timestamps, `` 1`` as a bigint). The rows
reached the landing zone through a validator, so these checks are a second line: they catch
objects written by something else (an older job, a hand-made file) before they reach
``raw.events``. Rules apply in the contract's order, after one rule of the landing zone
itself (``bad_event_id``), and give the contract's reasons.

The same expressions serve DuckDB, Redshift and PostgreSQL; the dialects differ only in how
a regex is matched (:func:`reason_sql`).
"""

from __future__ import annotations

from typing import Literal

from ecom import contract
from ecom.contract import Reason

Dialect = Literal["duckdb", "redshift", "postgres"]

#: The landing zone's own rule: ``event_id`` is 32 lowercase hex characters.
BAD_EVENT_ID = "bad_event_id"

#: Staged columns, in landing order (``ingested_at`` is not staged).
STAGE_COLUMNS: tuple[str, ...] = ("event_id", *contract.HEADER, "source")


def _matches(column: str, pattern: str, dialect: Dialect) -> str:
    """``column`` fully matches ``pattern`` (NULL when the column is NULL)."""
    pattern = pattern.replace("(?:", "(")  # POSIX groups (Redshift)
    if dialect == "duckdb":
        return f"regexp_full_match({column}, '{pattern}')"
    return f"{column} ~ '^{pattern}$'"


def _has_control(column: str, dialect: Dialect) -> str:
    """``column`` holds a control character (NULL when the column is NULL)."""
    if dialect == "duckdb":
        return f"regexp_matches({column}, '{contract.CONTROL_CLASS}')"
    # PostgreSQL refuses NUL in text, so U+0001..U+001F is every control character it can hold.
    first = max(contract.CONTROL_FIRST, 1)
    return f"{column} ~ ('[' || chr({first}) || '-' || chr({contract.CONTROL_LAST}) || ']')"


def _int(text: str, dialect: Dialect) -> str:
    return f"try_cast({text} as integer)" if dialect == "duckdb" else f"cast({text} as integer)"


def _real_date(column: str, dialect: Dialect) -> str:
    """The ``YYYY-MM-DD`` at the start of ``column`` (digits already checked) is a real date
    from MIN_YEAR on: integer arithmetic, the same in every dialect."""
    year, month, day = (
        _int(f"substring({column}, {start}, {n})", dialect) for start, n in ((1, 4), (6, 2), (9, 2))
    )
    leap = f"(({year} % 4 = 0 and {year} % 100 <> 0) or {year} % 400 = 0)"
    days = (
        f"case when {month} = 2 then case when {leap} then 29 else 28 end"
        f" when {month} in (4, 6, 9, 11) then 30 else 31 end"
    )
    return (
        f"({year} >= {contract.MIN_YEAR} and {month} between 1 and 12"
        f" and {day} between 1 and {days})"
    )


def _field_check(field: contract.Field, dialect: Dialect) -> str:
    """True when the staged text of ``field`` breaks its rule (canonical form expected)."""
    name = field.name
    if field.kind == "timestamp":
        shape = _matches(name, contract.CANONICAL_TIME_PATTERN, dialect)
        # CASE: the date's digits are read only once the shape is known (PostgreSQL's OR
        # does not promise an order)
        real = _real_date(name, dialect)
        return f"{name} is null or (case when {shape} then not {real} else true end)"
    if field.kind == "enum":
        types = ", ".join(f"'{t}'" for t in contract.EVENT_TYPES)
        return f"{name} is null or {name} not in ({types})"
    if field.kind == "id":
        shape = _matches(name, contract.CANONICAL_ID_PATTERN, dialect)
        top = str(contract.INT64_MAX)
        return (
            f"{name} is null or not {shape} or (length({name}) = {len(top)} and {name} > '{top}')"
        )
    if field.kind == "price":
        return f"{name} is null or not {_matches(name, contract.CANONICAL_PRICE_PATTERN, dialect)}"
    return f"coalesce({_has_control(name, dialect)}, false)"


#: The staged text columns cast to ``raw.events``' types (after the checks passed).
TYPED_SELECT = ", ".join(
    f"cast({f.name} as {f.sql_type})" if f.sql_type != "varchar" else f.name
    for f in contract.FIELDS
)


def reason_sql(dialect: Dialect) -> str:
    """A CASE giving the first rule a staged row breaks, or NULL: the contract's reasons."""
    lengths = ", ".join(f"length(coalesce({n}, ''))" for n in contract.HEADER)
    event_id = _matches("event_id", contract.EVENT_ID_PATTERN, dialect)
    whens = [
        f"when event_id is null or not {event_id} then '{BAD_EVENT_ID}'",
        f"when greatest({lengths}) > {contract.MAX_FIELD_CHARS} then '{Reason.FIELD_TOO_LONG}'",
    ]
    whens += [f"when {_field_check(f, dialect)} then '{f.reason}'" for f in contract.FIELDS]
    return "case\n    " + "\n    ".join(whens) + "\nend"


def _quoted(column: str) -> str:
    return f"coalesce('''' || {column} || '''', 'missing')"


def detail_sql() -> str:
    """A CASE giving the human detail of the row's ``reason`` column (every dialect)."""
    whens = [
        f"when '{BAD_EVENT_ID}' then 'event_id ' || {_quoted('event_id')}"
        " || ' is not 32 lowercase hex characters'",
        f"when '{Reason.FIELD_TOO_LONG}' then 'a field is longer than"
        f" {contract.MAX_FIELD_CHARS} characters'",
        f"when '{Reason.BAD_EVENT_TIME}' then 'event_time ' || {_quoted('event_time')}"
        f" || ' is not ''YYYY-MM-DD HH:MM:SS'', a real date from {contract.MIN_YEAR}'",
        f"when '{Reason.UNKNOWN_EVENT_TYPE}' then 'event_type ' || {_quoted('event_type')}"
        " || ' is not a known event type'",
        f"when '{Reason.BAD_PRICE}' then 'price ' || {_quoted('price')}"
        " || ' is not a decimal with two decimals'",
        f"when '{Reason.CONTROL_CHARACTER}' then 'a text field contains a control character"
        " (U+0000 to U+001F)'",
    ]
    for name in contract.ID_FIELDS:
        reason = contract.FIELD_BY_NAME[name].reason
        whens.append(
            f"when '{reason}' then '{name} ' || {_quoted(name)}"
            " || ' is not a positive 64-bit integer without leading zeros'"
        )
    return "case reason\n    " + "\n    ".join(whens) + "\nend"


def raw_sql() -> str:
    """The staged row as one comma-separated text (the quarantine's ``raw``), every dialect."""
    parts = [f"coalesce(cast({c} as varchar(1024)), '')" for c in STAGE_COLUMNS]
    return " || ',' || ".join(parts)
