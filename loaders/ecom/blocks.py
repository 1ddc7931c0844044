"""Validate a CSV file a block of rows at a time: the producer's fast path.

:func:`ecom.events.read_csv_events` is the contract: one row at a time, an :class:`Event` or a
:class:`Rejection` with its reason. Python spends most of a row's time there on bookkeeping,
so the producer reads blocks of a few MB instead and lets Arrow's RE2 and DuckDB do the
common case in bulk:

1. every line of the block is matched against one anchored regex describing an ordinary
   valid row whose fields are already in canonical form (or whose price lacks trailing zeros,
   which two regex rewrites fix);
2. the lines that match become landing lines (``event_id`` = MD5 of the canonical key,
   computed by DuckDB, joined to the line by Arrow) with their partition key and its MD5
   (computed once per distinct key);
3. every other line goes through :func:`ecom.events.parse_line_bytes`, the row validator, so
   its rejection reason is the contract's. If any of them turns out to be valid (an unusual
   spelling: leading zeros, ``-0``, a quoted field, CRLF), the whole block is
   handed back row by row instead, so the order of events is kept exactly.

The regex only ever *accepts* what the row validator accepts with the same canonical fields;
``tests/stream/test_blocks.py`` checks that on real, generated and malformed rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecom import contract
from ecom.events import HEADER_LINE, Event, ParseStats, Rejection, parse_line_bytes, strip_eol

#: Bytes read per block (whole lines are added to reach the next line break).
DEFAULT_BLOCK_BYTES = 4 * 2**20

# canonical and always <= 2^63-1 (19 digits only from 1 to 8: rows with 9... go row by row)
_ID = f"(?:[1-9][0-9]{{0,{contract.ID_MAX_DIGITS - 2}}}|[1-8][0-9]{{{contract.ID_MAX_DIGITS - 1}}})"
# no separator, quote or control character (line breaks included); the field limit in characters
_TEXT = f'[^,"{contract.CONTROL_CLASS[1:-1]}]{{0,{contract.MAX_FIELD_CHARS}}}'
# Years from contract.MIN_YEAR (1970; test_contract checks the two agree). Days 01-28 of any month, 29-30 of months but February, 31 of the long months, and 29
# February of leap years (every fourth year, centuries only when divisible by 400): real dates.
_LEAP_YEAR = r"(?:19(?:7[26]|8[048]|9[26])|[2-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)"
_DATE = (
    r"(?:(?:19[7-9]\d|[2-9]\d{3})-"
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    r"|" + _LEAP_YEAR + r"-02-29)"
)
_HEAD = (
    _DATE
    + r" (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d UTC,"
    + "(?:"
    + "|".join(contract.EVENT_TYPES)
    + ")"
    + ","
    + _ID
    + ","
    + _ID
    + ","
    + _TEXT
    + ","
    + _TEXT
    + ","
)
_TAIL = "," + _ID + "," + _TEXT + r"\n$"
# Canonical prices: two decimals, no leading zero, no negative zero.
_WHOLE = f"[1-9][0-9]{{0,{contract.PRICE_WHOLE_DIGITS - 1}}}"
_PRICE_CANONICAL = r"(?:(?:W|0)\.\d\d|-(?:W\.\d\d|0\.(?:[1-9]\d|0[1-9])))".replace("W", _WHOLE)
# Prices missing trailing zeros (``4.7``, ``12``), still no leading zero and no negative zero.
_PRICE_SHORT = r"(?:(?:W|0)(?:\.\d)?|-(?:W(?:\.\d)?|0\.[1-9]))".replace("W", _WHOLE)
CANONICAL_ROW = "^" + _HEAD + _PRICE_CANONICAL + _TAIL
SHORT_PRICE_ROW = "^" + _HEAD + _PRICE_SHORT + _TAIL
# Rewrites of a SHORT_PRICE_ROW's price (the third field from the end) into two decimals.
# (RE2 rewrites take one-digit group numbers: "\\10" is group 1, then "0".)
_ONE_DECIMAL = (r",(-?\d+\.\d),(\d+,[^,]*\n)$", r",\10,\2")
_NO_DECIMAL = (r",(-?\d+),(\d+,[^,]*\n)$", r",\1.00,\2")

_TIME_SUFFIX = slice(19, 23)  # " UTC" in "YYYY-MM-DD HH:MM:SS UTC"
_MD5_SQL = "select md5(value) from block"
_COMMA = pa.scalar(",", pa.large_string())


@dataclass
class Block:
    """The outcome of one block of rows.

    Either ``rows`` holds every outcome in file order (the block went row by row), or
    ``lines``/``partition_keys``/``partition_key_md5`` hold the valid rows' landing lines
    (each ending in ``\\n``, in file order) and ``rejections`` the invalid ones.
    """

    nbytes: int
    rows: list[Event | Rejection] | None = None
    line_count: int = 0  # physical lines in the block, blank ones included
    lines: pa.StringArray | None = None
    partition_keys: pa.StringArray | None = None
    partition_key_md5: pa.StringArray | None = None
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def valid(self) -> int:
        if self.rows is not None:
            return sum(1 for r in self.rows if isinstance(r, Event))
        return 0 if self.lines is None else len(self.lines)


class BlockReader:
    """Reads REES46 CSV files as :class:`Block` s, with the same results as ``read_csv_events``."""

    def __init__(self, block_bytes: int = DEFAULT_BLOCK_BYTES) -> None:
        import duckdb

        self.block_bytes = block_bytes
        # One thread: the producer's cost is measured in CPU, and blocks are small.
        self._con = duckdb.connect(config={"threads": 1})

    def close(self) -> None:
        self._con.close()

    def read(self, handle: BinaryIO, stats: ParseStats) -> Iterator[Block]:
        """Yield the blocks of ``handle`` (opened in binary mode) and update ``stats``."""
        first = handle.readline()
        saw_any = False
        line_no = 1
        if first:
            line = strip_eol(first)
            if line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if line.strip() == HEADER_LINE.encode():
                saw_any = True
            else:
                stats.header_missing = bool(line.strip())
                outcome = parse_line_bytes(line, 1)
                if outcome is not None:
                    saw_any = True
                    stats.add(outcome)
                    yield Block(len(first), rows=[outcome])
        while True:
            data = handle.read(self.block_bytes)
            if not data:
                break
            if not data.endswith(b"\n"):
                data += handle.readline()
            block = self._block(data, line_no + 1)
            line_no += block.line_count
            _count(block, stats)
            saw_any = saw_any or block.valid > 0 or bool(block.rejections) or bool(block.rows)
            yield block
        stats.empty = not saw_any

    # -- one block ---------------------------------------------------------------------------

    def _block(self, data: bytes, first_line_no: int) -> Block:
        nbytes = len(data)
        if not data.endswith(b"\n"):
            data += b"\n"
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
        block = self._decide(data, nbytes, ends, first_line_no)
        block.line_count = len(ends)
        return block

    def _decide(self, data: bytes, nbytes: int, ends: np.ndarray, first_line_no: int) -> Block:
        offsets = np.empty(len(ends) + 1, np.int64)
        offsets[0] = 0
        offsets[1:] = ends + 1
        lines = pa.LargeStringArray.from_buffers(
            len(ends), pa.py_buffer(offsets), pa.py_buffer(data)
        )
        try:
            lines.validate(full=True)  # UTF-8
        except pa.ArrowInvalid:
            return Block(nbytes, rows=_rows(data, offsets, range(len(ends)), first_line_no))

        canonical = _match(lines, CANONICAL_ROW)
        others = np.flatnonzero(~canonical)
        if len(others):
            rest = lines.take(pa.array(others))
            short = _match(rest, SHORT_PRICE_ROW)
            fallback = others[~short]
            outcomes = _rows(data, offsets, fallback, first_line_no)
            if any(isinstance(o, Event) for o in outcomes):
                every = range(len(ends))
                return Block(nbytes, rows=_rows(data, offsets, every, first_line_no))
            rejections = [o for o in outcomes if isinstance(o, Rejection)]
            if short.any():
                fixed = rest.filter(pa.array(short))
                fixed = pc.replace_substring_regex(fixed, *_ONE_DECIMAL)
                fixed = pc.replace_substring_regex(fixed, *_NO_DECIMAL)
                # each fixed row takes its original's place: take from lines + fixed
                fixed_rows = others[short]
                order = np.arange(len(lines))
                order[fixed_rows] = len(lines) + np.arange(len(fixed))
                keep = canonical.copy()
                keep[fixed_rows] = True
                lines = pa.concat_arrays([lines, fixed]).take(pa.array(order[keep]))
            else:
                lines = lines.filter(pa.array(canonical))
        else:
            rejections = []
        if not len(lines):
            return Block(nbytes, rejections=rejections)
        return self._landing(nbytes, lines, rejections)

    def _landing(
        self, nbytes: int, rows: pa.LargeStringArray, rejections: list[Rejection]
    ) -> Block:
        body = pc.binary_replace_slice(rows, _TIME_SUFFIX.start, _TIME_SUFFIX.stop, "")
        body = body.combine_chunks() if isinstance(body, pa.ChunkedArray) else body
        n = len(body)
        offsets = np.frombuffer(body.buffers()[1], np.int64)[body.offset : body.offset + n + 1]
        data = np.frombuffer(body.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
        offsets = offsets - offsets[0]
        keys = _partition_keys(body)
        event_ids = self._md5(_canonical_keys(data, offsets))
        # a session's events share its key: hash each distinct key once
        distinct = keys.dictionary_encode()
        key_md5 = self._md5(distinct.dictionary)
        return Block(
            nbytes,
            lines=pc.binary_join_element_wise(event_ids.cast(pa.large_string()), body, _COMMA),
            partition_keys=keys,
            partition_key_md5=key_md5.take(distinct.indices),
            rejections=rejections,
        )

    def _md5(self, values: pa.Array) -> pa.Array:
        """DuckDB's MD5 (lowercase hex) of each value, in order."""
        con = self._con
        con.register("block", pa.table({"value": values}))
        try:
            return con.execute(_MD5_SQL).to_arrow_table().column(0).combine_chunks()
        finally:
            con.unregister("block")


def _match(lines: Any, pattern: str) -> np.ndarray:
    matched = pc.match_substring_regex(lines, pattern)
    return np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)


def _canonical_keys(data: np.ndarray, offsets: np.ndarray) -> pa.LargeStringArray:
    """The canonical key of each landing body: commas become U+001F, the line break goes.

    The bodies' fields are canonical and free of commas, so this is exactly
    :func:`ecom.events.canonical_key`.
    """
    key = data.copy()
    key[key == 44] = 31
    key = key[key != 10]
    key_offsets = offsets - np.arange(len(offsets))
    return pa.LargeStringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(key_offsets), pa.py_buffer(key)
    )


def _partition_keys(body: pa.LargeStringArray) -> pa.LargeStringArray:
    """Each body's user_session, or its user_id where the session is empty (``partition_key``)."""
    last = pc.list_element(pc.split_pattern(body, ",", max_splits=1, reverse=True), 1)
    keys = pc.utf8_slice_codeunits(last, 0, -1)  # the session, without the line break
    missing = np.flatnonzero(np.asarray(pc.equal(keys, "").to_numpy(zero_copy_only=False), bool))
    if len(missing):
        users = [body[int(i)].as_py().split(",")[7] for i in missing]
        mask = np.zeros(len(body), bool)
        mask[missing] = True
        keys = pc.replace_with_mask(keys, pa.array(mask), pa.array(users, keys.type))
    return keys


def _rows(
    data: bytes, offsets: np.ndarray, indices: Any, first_line_no: int
) -> list[Event | Rejection]:
    """The row validator's outcome for the given lines of a block (blank lines skipped)."""
    out: list[Event | Rejection] = []
    for i in indices:
        line = strip_eol(data[offsets[i] : offsets[i + 1]])
        outcome = parse_line_bytes(line, first_line_no + int(i))
        if outcome is not None:
            out.append(outcome)
    return out


def _count(block: Block, stats: ParseStats) -> None:
    if block.rows is not None:
        for outcome in block.rows:
            stats.add(outcome)
        return
    valid = block.valid
    stats.read += valid + len(block.rejections)
    stats.accepted += valid
    stats.rejected += len(block.rejections)
    for rejection in block.rejections:
        stats.rejected_by_reason[rejection.reason] += 1
