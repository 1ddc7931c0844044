"""The event contract, declared once, as data.

A REES46 row has nine fields. This module says, for each of them, what an accepted value
looks like (a pattern or bounds), what its canonical form is and which reason rejects it;
and, for the row as a whole, which rules come first. Every implementation of the contract
is built from these declarations or checked against them:

* the row validator :mod:`ecom.events` (its slow path and its one-regex fast path);
* the block reader's RE2 patterns (:mod:`ecom.blocks`);
* the HTTP path (:mod:`ecom.api.payload`) and the OpenAPI ``Event`` schema (:mod:`ecom.api.openapi`);
* the loaders' SQL checks (:mod:`ecom.load.checks`: DuckDB, Redshift, PostgreSQL);
* the Spark job (``spark/backfill.py``: it imports this module, which a cluster gets with
  ``spark-submit --py-files loaders/ecom/contract.py``; keep it standard library only).

``tests/test_contract.py`` runs every one of them on the shared case corpus
(``tests/contract_cases.py``) and requires the same decision, reason and ``event_id``.
``docs/contracts.md`` holds the table :func:`markdown_table` prints.

Rules are applied in this order, and a row gets the reason of the first it breaks:
the row rules (:data:`ROW_RULES`), then each field's rule in field order (:data:`FIELDS`).
Patterns are written in the regex subset every engine here reads the same way (Python
``re``, RE2, Java, ECMA-262, POSIX): ``[0-9]`` rather than ``\\d``, no look-around.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The nine fields of a REES46 row, in file order.
HEADER: tuple[str, ...] = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)
HEADER_LINE = ",".join(HEADER)
EVENT_TYPES: tuple[str, ...] = ("view", "cart", "remove_from_cart", "purchase")

#: Longest accepted field, in characters (not bytes). Real values are at most ~60.
MAX_FIELD_CHARS = 255
#: Ids are positive 64-bit integers: 1 ..= INT64_MAX, at most 19 digits (leading zeros allowed).
INT64_MAX = 2**63 - 1
ID_MAX_DIGITS = 19
#: Prices: at most 7 digits before the point and 2 after, so |price| < 10^7.
PRICE_WHOLE_DIGITS = 7
PRICE_DECIMALS = 2
#: Event times before this year are rejected (they are clock errors, not history).
MIN_YEAR = 1970
#: Code points no text field may hold: the C0 control characters U+0000..U+001F (NUL, tab,
#: line breaks, the unit separator the canonical key uses...). Redshift's COPY and
#: PostgreSQL refuse NUL, and a line break cannot live in a landing CSV line.
CONTROL_FIRST, CONTROL_LAST = 0x00, 0x1F
#: Field separator of the canonical key (a control character, so no field can hold it).
KEY_SEPARATOR = "\x1f"


class Reason:
    """Reasons a row is rejected. The values are stable: quarantine files and reports use them."""

    INVALID_UTF8 = "invalid_utf8"
    WRONG_FIELD_COUNT = "wrong_field_count"
    FIELD_TOO_LONG = "field_too_long"
    BAD_EVENT_TIME = "bad_event_time"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    BAD_PRODUCT_ID = "bad_product_id"
    BAD_CATEGORY_ID = "bad_category_id"
    CONTROL_CHARACTER = "control_character"
    BAD_PRICE = "bad_price"
    BAD_USER_ID = "bad_user_id"

    #: Every reason (the constants above, as declared: keep them in the order the rules are
    #: applied, row rules then fields in order; tests/test_contract.py checks that order).
    ALL: tuple[str, ...] = tuple(v for k, v in locals().items() if k.isupper())


# -- patterns (portable regex subset; anchor them yourself) -----------------------------------

TIME_PATTERN = "([0-9]{4})-([0-9]{2})-([0-9]{2}) (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] UTC"
ID_PATTERN = f"[0-9]{{1,{ID_MAX_DIGITS}}}"
#: An id in canonical form (no leading zero); with 19 digits it must also be <= INT64_MAX.
CANONICAL_ID_PATTERN = f"[1-9][0-9]{{0,{ID_MAX_DIGITS - 1}}}"
#: The canonical time (landing rows): the time pattern without the `` UTC`` suffix.
CANONICAL_TIME_PATTERN = TIME_PATTERN.removesuffix(" UTC")
PRICE_PATTERN = f"-?([0-9]{{1,{PRICE_WHOLE_DIGITS}}})(?:\\.([0-9]{{1,{PRICE_DECIMALS}}}))?"
#: The canonical price (landing rows): exactly two decimals.
CANONICAL_PRICE_PATTERN = f"-?[0-9]{{1,{PRICE_WHOLE_DIGITS}}}[.][0-9]{{{PRICE_DECIMALS}}}"
#: ``event_id``: MD5 as lowercase hex.
EVENT_ID_PATTERN = "[0-9a-f]{32}"
#: One control character, as a regex class (Python, RE2 and Java read ``\\xHH``).
CONTROL_CLASS = f"[\\x{CONTROL_FIRST:02x}-\\x{CONTROL_LAST:02x}]"
#: The same for ECMA-262 (JSON Schema patterns).
CONTROL_CLASS_ECMA = f"[\\u{CONTROL_FIRST:04x}-\\u{CONTROL_LAST:04x}]"


@dataclass(frozen=True)
class Field:
    """One field's rule: its type, what an accepted value looks like, its canonical form and
    the reason that rejects it."""

    name: str
    kind: str  # "timestamp", "enum", "id", "text" or "price"
    required: bool  # False: an empty value is accepted (and stored as NULL)
    reason: str
    rule: str  # the rule, in words (docs and rejection details)
    canonical: str  # the canonical form, in words
    pattern: str | None = None  # an accepted spelling (full match), where a regex says it
    sql_type: str = "varchar"  # the warehouse column type (raw.events)


_TEXT_RULE = "no control character (U+0000 to U+001F); empty means missing"

FIELDS: tuple[Field, ...] = (
    Field(
        "event_time",
        "timestamp",
        True,
        Reason.BAD_EVENT_TIME,
        f"'YYYY-MM-DD HH:MM:SS UTC', a real date, year >= {MIN_YEAR}",
        "'YYYY-MM-DD HH:MM:SS' (the ' UTC' suffix dropped)",
        TIME_PATTERN,
        "timestamp",
    ),
    Field(
        "event_type",
        "enum",
        True,
        Reason.UNKNOWN_EVENT_TYPE,
        "one of " + ", ".join(EVENT_TYPES),
        "as given",
        "(?:" + "|".join(EVENT_TYPES) + ")",
    ),
    Field(
        "product_id",
        "id",
        True,
        Reason.BAD_PRODUCT_ID,
        "a positive 64-bit integer",
        "decimal digits, no leading zeros",
        ID_PATTERN,
        "bigint",
    ),
    Field(
        "category_id",
        "id",
        True,
        Reason.BAD_CATEGORY_ID,
        "a positive 64-bit integer",
        "decimal digits, no leading zeros",
        ID_PATTERN,
        "bigint",
    ),
    Field("category_code", "text", False, Reason.CONTROL_CHARACTER, _TEXT_RULE, "as given"),
    Field("brand", "text", False, Reason.CONTROL_CHARACTER, _TEXT_RULE, "as given"),
    Field(
        "price",
        "price",
        True,
        Reason.BAD_PRICE,
        f"a decimal with at most {PRICE_DECIMALS} decimals, absolute value below 10^{PRICE_WHOLE_DIGITS}",
        "two decimals, no leading zeros, '-' only when non-zero: 3 -> 3.00, -0.0 -> 0.00",
        PRICE_PATTERN,
        "decimal(10,2)",
    ),
    Field(
        "user_id",
        "id",
        True,
        Reason.BAD_USER_ID,
        "a positive 64-bit integer",
        "decimal digits, no leading zeros",
        ID_PATTERN,
        "bigint",
    ),
    Field("user_session", "text", False, Reason.CONTROL_CHARACTER, _TEXT_RULE, "as given"),
)
FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
TEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "text")
ID_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "id")

#: Rules on the whole row, applied before any field's rule: (reason, rule in words).
ROW_RULES: tuple[tuple[str, str], ...] = (
    (Reason.INVALID_UTF8, "the line is UTF-8"),
    (Reason.WRONG_FIELD_COUNT, "nine comma-separated fields (CSV quoting as Python's csv module)"),
    (Reason.FIELD_TOO_LONG, f"no field longer than {MAX_FIELD_CHARS} characters"),
)


def reasons_in_order() -> tuple[str, ...]:
    """Every reason, in the order rules are applied (derived from the declarations)."""
    out: list[str] = [r for r, _ in ROW_RULES]
    for f in FIELDS:
        if f.reason not in out:
            out.append(f.reason)
    return tuple(out)


def control_detail(name: str) -> str:
    """The rejection detail of a text field holding a control character (every path says this)."""
    return f"{name} contains a control character (U+0000 to U+001F)"


def markdown_table() -> str:
    """The contract as a Markdown table (docs/contracts.md embeds it; a test keeps it current)."""
    lines = [
        "| # | field | type | accepted | canonical form | rejected as |",
        "|---|---|---|---|---|---|",
    ]
    for i, (reason, rule) in enumerate(ROW_RULES, start=1):
        lines.append(f"| {i} | (row) | | {rule} | | `{reason}` |")
    for i, f in enumerate(FIELDS, start=len(ROW_RULES) + 1):
        optional = "" if f.required else " (optional)"
        lines.append(
            f"| {i} | `{f.name}`{optional} | {f.sql_type} | {f.rule} | {f.canonical} | `{f.reason}` |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
