"""The event contract: the parser/validator every stage uses."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ecom.events import (
    HEADER_LINE,
    Event,
    ParseStats,
    Reason,
    Rejection,
    canonical_price,
    compute_event_id,
    parse_line,
    read_csv_events,
)

GOOD = "2019-10-01 00:03:44 UTC,view,18082,1487580005411062629,,cnd,16.03,552006247,2d8f304b-de45-4e59-8f40-50c603843fe5"


def test_reads_every_real_sample_row_with_zero_rejects(sample_files: list[Path]) -> None:
    # given the 10,000 real rows; when read; then all are accepted
    stats = ParseStats()
    outcomes = [o for f in sample_files for o in read_csv_events(f, stats)]
    assert stats.read == 10_000
    assert stats.rejected == 0, stats.rejected_by_reason
    assert all(isinstance(o, Event) for o in outcomes)
    # 19-digit category ids survive as int64
    assert max(o.category_id for o in outcomes if isinstance(o, Event)) > 2 * 10**18


def test_a_good_row_becomes_a_canonical_event() -> None:
    event = parse_line(GOOD)
    assert isinstance(event, Event)
    assert event.event_time == "2019-10-01 00:03:44"
    assert (event.product_id, event.category_id, event.user_id) == (
        18082,
        1487580005411062629,
        552006247,
    )
    assert event.category_code is None
    assert event.brand == "cnd"
    assert event.price == "16.03"
    assert len(event.event_id) == 32


def test_event_id_is_the_md5_of_the_canonical_fields() -> None:
    event = parse_line(GOOD)
    assert isinstance(event, Event)
    expected = compute_event_id(
        ["2019-10-01 00:03:44", "view", "18082", "1487580005411062629", "", "cnd", "16.03", "552006247",
         "2d8f304b-de45-4e59-8f40-50c603843fe5"]
    )  # fmt: skip
    assert event.event_id == expected


def test_equivalent_spellings_share_one_event_id() -> None:
    # "3", "3.0" and "3.00" are the same price; leading zeros do not make a new product
    a = parse_line("2019-10-01 00:00:00 UTC,cart,5,1487580005411062629,,,3,7,s")
    b = parse_line("2019-10-01 00:00:00 UTC,cart,05,1487580005411062629,,,3.00,7,s")
    c = parse_line("2019-10-01 00:00:00 UTC,cart,5,1487580005411062629,,,3.01,7,s")
    assert isinstance(a, Event) and isinstance(b, Event) and isinstance(c, Event)
    assert a.event_id == b.event_id != c.event_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", "3.00"), ("3.0", "3.00"), ("0.4", "0.40"), ("-79.37", "-79.37"), ("-0.0", "0.00"), ("007.5", "7.50"),
     ("1.234", None), ("abc", None), ("", None), ("1e3", None), ("--1", None)],
)  # fmt: skip
def test_canonical_price(text: str, expected: str | None) -> None:
    assert canonical_price(text) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2019-10-01 00:03:44 UTC,view,18082", Reason.WRONG_FIELD_COUNT),
        (GOOD + ",extra", Reason.WRONG_FIELD_COUNT),
        (GOOD.replace("2019-10-01 00:03:44 UTC", "2019-10-01T00:03:44Z"), Reason.BAD_EVENT_TIME),
        (GOOD.replace("2019-10-01", "2019-02-30"), Reason.BAD_EVENT_TIME),
        (GOOD.replace("00:03:44", "24:03:44"), Reason.BAD_EVENT_TIME),
        (GOOD.replace(",view,", ",click,"), Reason.UNKNOWN_EVENT_TYPE),
        (GOOD.replace(",18082,", ",18o82,"), Reason.BAD_PRODUCT_ID),
        (GOOD.replace(",18082,", ",,"), Reason.BAD_PRODUCT_ID),
        (GOOD.replace("1487580005411062629", "99999999999999999999"), Reason.BAD_CATEGORY_ID),
        (GOOD.replace(",16.03,", ",16.0.3,"), Reason.BAD_PRICE),
        (GOOD.replace(",16.03,", ",free,"), Reason.BAD_PRICE),
        (GOOD.replace(",552006247,", ",-5,"), Reason.BAD_USER_ID),
        (GOOD.replace(",cnd,", "," + "x" * 300 + ","), Reason.FIELD_TOO_LONG),
    ],
)
def test_malformed_rows_are_rejected_with_a_reason(line: str, reason: str) -> None:
    outcome = parse_line(line, line_no=7)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == reason
    assert outcome.detail
    assert outcome.line_no == 7
    assert outcome.raw == line


def test_invalid_utf8_is_rejected_and_the_raw_bytes_kept() -> None:
    outcome = parse_line(GOOD.replace("cnd", "c\xffd").encode("latin-1"))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == Reason.INVALID_UTF8
    assert "\\xff" in outcome.raw


def test_a_file_with_bom_crlf_no_header_and_bad_rows_is_read_to_the_end() -> None:
    # given a file with a BOM, CRLF line ends, no header, a blank line and two bad rows
    body = "\r\n".join(
        [GOOD, "garbage", "", GOOD.replace(",view,", ",purchase,"), GOOD.replace("16.03", "x")]
    )
    data = b"\xef\xbb\xbf" + body.encode() + b"\r\n"
    stats = ParseStats()
    outcomes = list(read_csv_events(io.BytesIO(data), stats))
    # then every non-blank row is accounted for and the run went on past the bad ones
    assert stats.header_missing
    assert stats.read == 4 == stats.accepted + stats.rejected
    assert (stats.accepted, stats.rejected) == (2, 2)
    assert dict(stats.rejected_by_reason) == {Reason.WRONG_FIELD_COUNT: 1, Reason.BAD_PRICE: 1}
    assert [o.line_no for o in outcomes if isinstance(o, Rejection)] == [2, 5]


def test_header_is_skipped_and_an_empty_file_is_reported() -> None:
    stats = ParseStats()
    assert (
        len(list(read_csv_events(io.BytesIO((HEADER_LINE + "\n" + GOOD + "\n").encode()), stats)))
        == 1
    )
    assert not stats.header_missing
    empty = ParseStats()
    assert list(read_csv_events(io.BytesIO(b""), empty)) == []
    assert empty.empty and empty.read == 0


def test_quoted_fields_are_understood() -> None:
    line = '2019-10-01 00:00:00 UTC,view,5,1487580005411062629,"a.b",brand,1.00,7,s'
    event = parse_line(line)
    assert isinstance(event, Event)
    assert event.category_code == "a.b"
