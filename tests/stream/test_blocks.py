"""The producer's block reader (``ecom.blocks``) decides every row as ``read_csv_events`` does.

Each comparison reads the same file both ways and requires the same landing lines and
partition keys in the same order, the same rejections (line, reason, detail, raw text) and
the same counts. The files mix the contract's edge cases (the Spark parity cases) into
ordinary rows, so blocks take both the vectorised path and the row-by-row one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aws_fixtures import AwsStack, deploy_test_stack
from contract_cases import CASES, GOOD, row
from ecom.blocks import BlockReader
from ecom.events import HEADER_LINE, Event, ParseStats, Rejection, read_csv_events
from ecom.stream.produce import produce_files
from ecom.stream.producer import Producer
from ecom.stream.records import encode_event, partition_key

Outcome = tuple[list[tuple[bytes, str]], list[tuple[Any, ...]], ParseStats]


def _rejection(r: Rejection) -> tuple[Any, ...]:
    return (r.line_no, r.reason, r.detail, r.raw)


def row_by_row(path: Path) -> Outcome:
    stats = ParseStats()
    events: list[tuple[bytes, str]] = []
    rejections: list[tuple[Any, ...]] = []
    for outcome in read_csv_events(path, stats):
        if isinstance(outcome, Event):
            events.append((encode_event(outcome), partition_key(outcome)))
        else:
            rejections.append(_rejection(outcome))
    return events, rejections, stats


def by_blocks(path: Path, block_bytes: int) -> tuple[Outcome, int]:
    """The same through BlockReader, and how many events took the vectorised path."""
    reader = BlockReader(block_bytes)
    stats = ParseStats()
    events: list[tuple[bytes, str]] = []
    rejections: list[tuple[Any, ...]] = []
    vectorised = 0
    with open(path, "rb") as handle:
        for block in reader.read(handle, stats):
            for outcome in block.rows or []:
                if isinstance(outcome, Event):
                    events.append((encode_event(outcome), partition_key(outcome)))
                else:
                    rejections.append(_rejection(outcome))
            if block.rows is None:
                rejections.extend(_rejection(r) for r in block.rejections)
            if block.lines is not None:
                assert block.partition_keys is not None and block.partition_key_md5 is not None
                lines = block.lines.to_pylist()
                keys = block.partition_keys.to_pylist()
                digests = block.partition_key_md5.to_pylist()
                for line, key, digest in zip(lines, keys, digests, strict=True):
                    assert digest == hashlib.md5(key.encode()).hexdigest()
                    events.append((line.encode(), key))
                vectorised += len(lines)
    reader.close()
    rejections.sort(key=lambda r: r[0])
    return (events, rejections, stats), vectorised


def assert_same(path: Path, block_bytes: int = 4 * 2**20) -> int:
    expected = row_by_row(path)
    got, vectorised = by_blocks(path, block_bytes)
    assert got[0] == expected[0], "landing lines or partition keys differ"
    assert got[1] == expected[1], "rejections differ"
    assert got[2] == expected[2], "counts differ"
    return vectorised


def _write(path: Path, lines: list[bytes], eol: bytes = b"\n", final_eol: bool = True) -> Path:
    path.write_bytes(eol.join(lines) + (eol if final_eol else b""))
    return path


ORDINARY = [
    row(user_id=str(100 + i), price=price, user_session=session)
    for i, (price, session) in enumerate(
        [("5.24", "s-1"), ("4.7", "s-1"), ("12", ""), ("0.00", "s-2"), ("-3.10", "s-3")]
    )
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_each_edge_case_among_ordinary_rows(case: int, tmp_path: Path) -> None:
    lines = [HEADER_LINE, *ORDINARY, CASES[case], *ORDINARY]
    path = _write(tmp_path / "case.csv", [line.encode() for line in lines])
    assert_same(path)


@pytest.mark.parametrize("block_bytes", [1, 97, 4096])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_all_cases_in_one_file_across_block_boundaries(
    block_bytes: int, eol: bytes, tmp_path: Path
) -> None:
    lines = [HEADER_LINE.encode()] + [c.encode() for c in CASES + ORDINARY * 20]
    assert_same(_write(tmp_path / "all.csv", lines, eol, final_eol=False), block_bytes)


def test_ordinary_rows_take_the_vectorised_path(tmp_path: Path) -> None:
    lines = [HEADER_LINE.encode()] + [r.encode() for r in ORDINARY * 50]
    # a rejected row keeps its block vectorised; an unusual valid one sends it row by row
    lines.insert(100, row(price="1e3").encode())
    lines.insert(200, row(product_id="007").encode())
    path = _write(tmp_path / "ordinary.csv", lines)
    vectorised = assert_same(path, block_bytes=3000)
    assert 0 < vectorised < 250


def test_utf8_bom_header_and_empty_files(tmp_path: Path) -> None:
    good = GOOD.encode()
    bom = b"\xef\xbb\xbf"
    files = [
        [HEADER_LINE.encode(), good, good.replace(b"a6b1", b"a6\xffb1"), good + b"\xe2\x82"],
        [bom + HEADER_LINE.encode(), good, bom + good, HEADER_LINE.encode(), good],
        [bom + good, good.replace(b"view", b"cart")],
        [b"  " + HEADER_LINE.encode() + b" \r", b"", b" \r", good],
        [HEADER_LINE.encode()],
        [],
        [b"", b"  ", b""],
    ]
    for i, lines in enumerate(files):
        for final_eol in (True, False):
            assert_same(_write(tmp_path / f"{i}-{final_eol}.csv", lines, final_eol=final_eol), 64)


def test_the_real_sample(sample_files: list[Path]) -> None:
    for path in sample_files:
        vectorised = assert_same(path)
        assert vectorised == 2_000, f"{path.name}: every real row is ordinary"


def test_a_generated_month(small_month: list[Path]) -> None:
    assert sum(assert_same(path, block_bytes=50_000) for path in small_month) > 3_000


_digits = st.text("0123456789", min_size=0, max_size=21)
_field = st.one_of(
    _digits,
    st.sampled_from(["", "a", "runail", "l'oréal", "a,b", '"q"', "\r", "x" * 255, "y" * 256]),
    st.text(min_size=0, max_size=8),
)


@st.composite
def _rows(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from(["1969", "1970", "2019", "2020", "2100", "0999"]))
    month = draw(st.sampled_from(["01", "02", "04", "12", "13", "00"]))
    day = draw(st.sampled_from(["01", "28", "29", "30", "31", "32"]))
    time_text = (
        f"{year}-{month}-{day} {draw(st.sampled_from(['00:00:00', '23:59:59', '24:00:00']))}"
    )
    price = draw(
        st.one_of(
            st.from_regex(r"\A-?\d{1,8}(\.\d{0,3})?\Z"),
            st.sampled_from(["0", "-0", "-0.0", "-0.00", "-0.5", "0.05", "-0.05", "10"]),
        )
    )
    fields = [
        time_text + draw(st.sampled_from([" UTC", "", " utc"])),
        draw(st.sampled_from(["view", "cart", "remove_from_cart", "purchase", "VIEW"])),
        draw(_digits),
        draw(st.one_of(_digits, st.just("9223372036854775807"), st.just("9223372036854775808"))),
        draw(_field),
        draw(_field),
        price,
        draw(_digits),
        draw(_field),
    ]
    return ",".join(fields)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_rows(), min_size=1, max_size=30))
def test_generated_rows(tmp_path: Path, rows: list[str]) -> None:
    lines = [HEADER_LINE] + [r for rr in rows for r in (rr, *ORDINARY[:2])]
    assert_same(_write(tmp_path / "h.csv", [line.encode() for line in lines]), 700)


# -- the producer: the same Kinesis records either way, on a real moto server ------------------


def _records(stack: AwsStack) -> list[list[tuple[bytes, str]]]:
    """Every record of every shard of the stack's stream, in order: (data, partition key)."""
    kinesis = stack.client("kinesis")
    shards = sorted(
        kinesis.list_shards(StreamName=stack.stream)["Shards"],
        key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]),
    )
    out = []
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=stack.stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        got: list[tuple[bytes, str]] = []
        while True:
            resp = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            got.extend((r["Data"], r["PartitionKey"]) for r in resp["Records"])
            if not resp["Records"]:
                break
            iterator = resp["NextShardIterator"]
        out.append(got)
    return out


@pytest.mark.parametrize("pack_bytes", [0, 700, 64 * 1024])
def test_producer_sends_the_same_records_either_way(
    pack_bytes: int,
    small_month: list[Path],
    moto_server: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    extra = _write(
        tmp_path / "extra.csv",
        [HEADER_LINE.encode()] + [c.encode() for c in CASES[:40] + ORDINARY * 30],
    )
    files = [*small_month, extra]
    streams = []
    for rate in (None, 1e12):  # the block path, then row by row (pacing on, never waiting)
        stack = deploy_test_stack(moto_server, monkeypatch, shards=3)
        s3 = stack.client("s3")
        producer = Producer(
            stack.client("kinesis"), stack.stream, s3=s3, bucket=stack.bucket, pack_bytes=pack_bytes
        )
        report = produce_files(files, producer, s3=s3, bucket=stack.bucket, rate=rate)
        assert report.read == report.sent + report.rejected and report.dead_lettered == 0
        streams.append((report, _records(stack)))
    (blocks, by_block), (rows, by_row) = streams
    assert (blocks.read, blocks.sent, blocks.rejected, blocks.records) == (
        rows.read,
        rows.sent,
        rows.rejected,
        rows.records,
    )
    assert blocks.rejected_by_reason == rows.rejected_by_reason
    assert by_block == by_row
    assert all(by_block), "every shard got records"
