"""Rows that exercise every rule of the event contract and its edges.

``tests/test_contract.py`` runs every implementation of the contract (``ecom.contract``) on
these and requires the same decisions; the producer's block-reader tests mix them into
ordinary rows.
"""

from __future__ import annotations

from ecom.events import HEADER_LINE

GOOD = "2019-10-01 00:00:00 UTC,view,5802432,1487580005092295511,,,0.32,463240011,a6b1-4c"


def row(**changes: str) -> str:
    """The GOOD row with some fields replaced."""
    fields = dict(zip(HEADER_LINE.split(","), GOOD.split(","), strict=True))
    fields.update(changes)
    return ",".join(fields.values())


#: One line per case: accepted and rejected rows, every rule and its edges.
CASES: list[str] = [
    GOOD,
    row(category_code="appliances.environment.vacuum", brand="runail"),
    # prices
    row(price="3"),
    row(price="03.00"),
    row(price="-0.0"),
    row(price="-5"),
    row(price="9999999.99"),
    row(price="0"),
    row(price="1.555"),
    row(price=".5"),
    row(price="5."),
    row(price="+5"),
    row(price="12345678"),
    row(price="1e3"),
    row(price=" 5"),
    row(price=""),
    row(price="1,5"),
    # timestamps
    row(event_time="2019-02-30 00:00:00 UTC"),
    row(event_time="2019-02-29 10:00:00 UTC"),
    row(event_time="2020-02-29 10:00:00 UTC"),
    row(event_time="2000-02-29 10:00:00 UTC"),
    row(event_time="2100-02-29 10:00:00 UTC"),
    row(event_time="2019-04-31 10:00:00 UTC"),
    row(event_time="2019-12-31 23:59:59 UTC"),
    row(event_time="1969-12-31 23:59:59 UTC"),
    row(event_time="1970-01-01 00:00:00 UTC"),
    row(event_time="2019-13-01 00:00:00 UTC"),
    row(event_time="2019-00-10 00:00:00 UTC"),
    row(event_time="2019-10-00 00:00:00 UTC"),
    row(event_time="2019-10-01T00:00:00 UTC"),
    row(event_time="2019-10-01 24:00:00 UTC"),
    row(event_time="2019-10-01 00:60:00 UTC"),
    row(event_time="2019-10-01 00:00:60 UTC"),
    row(event_time="2019-10-01 00:00:00"),
    row(event_time="2019-10-01 00:00:00 UTC "),
    row(event_time="2019-10-01 00:00:00 utc"),
    row(event_time="2019-10-1 00:00:00 UTC"),
    row(event_time=""),
    # event types
    row(event_type="VIEW"),
    row(event_type="click"),
    row(event_type=""),
    row(event_type="purchase"),
    row(event_type="remove_from_cart"),
    # ids
    row(product_id="0"),
    row(product_id="-1"),
    row(product_id="007"),
    row(product_id="9223372036854775807"),
    row(product_id="9223372036854775808"),
    row(product_id="99999999999999999999"),
    row(product_id="00000000000000000001"),
    row(product_id="0000000000000000001"),
    row(product_id="1.0"),
    row(product_id=" 1"),
    row(product_id=""),
    row(product_id="１"),
    row(category_id="abc"),
    row(category_id="18446744073709551616"),
    row(user_id="0"),
    row(user_id="x1"),
    row(user_id="9223372036854775807"),
    # field counts
    GOOD.rsplit(",", 1)[0],
    GOOD + ",extra",
    GOOD + ",",
    "just text",
    ",,,,,,,,",
    ",,,,,,,,,",
    # lengths, in characters not bytes
    row(brand="b" * 255),
    row(brand="b" * 256),
    row(brand="é" * 200),
    row(brand="é" * 256),
    row(user_session="s" * 300),
    row(event_time="x" * 300),
    # free text as given: unicode, separators
    row(brand="l'oréal", category_code="kids.toys"),
    "\u00a0",
    row(brand="a\u007fb", category_code="\u00a0x", user_session="\u2028"),  # not C0: accepted
    # control characters (U+0000..U+001F) in text fields are rejected, in every field order
    row(brand="\x00"),
    row(category_code="a\x00b"),
    row(user_session="\x1f"),
    row(brand="tab\there"),
    row(brand="cr\rhere"),
    row(category_code="\x1b[31m"),
    row(user_session="s\x01"),
    row(brand="\x00", price="x"),  # control_character comes before bad_price
    row(user_session="\x00", user_id="0"),  # bad_user_id comes before user_session's rule
    row(brand="\x00", product_id="0"),  # bad_product_id comes before brand's rule
    row(brand="\x00" * 256),  # field_too_long comes first
    row(event_type="vi\x00ew"),  # not a text field: its own rule
    row(price="3\x00"),
    # quoted fields, split exactly as the csv module does
    row(category_code='"a,b"'),
    row(brand='"a""b"'),
    row(brand='"ab"c'),
    row(brand='b"c'),
    row(brand='"a,b'),
    row(user_session='"abc'),
    row(user_session='"a,b,c"'),
    row(price='"3.5"'),
    row(category_code='"a,b",x'),
    '"' + GOOD + '"',
    # a header line that is not line 1 is data
    HEADER_LINE,
    # blank and whitespace-only lines are skipped, not counted
    "",
    "   ",
    "\t",
    # duplicates stay duplicates (de-duplication by event_id happens in the warehouse)
    GOOD,
]
