"""Writing the CSV files: rows formatted as in the real files, written by pyarrow's CSV writer."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from ecom.events import EVENT_TYPES, HEADER
from ecom.generate.catalogue import CATEGORY_CODES, CATEGORY_MOVE_DATE, Catalogue
from ecom.generate.expand import CHUNK_FIELDS, EventChunk
from ecom.generate.sessions import Sessions


@dataclass
class MonthFile:
    """One written CSV file."""

    name: str
    path: Path
    rows: int
    bytes: int


def month_file_name(d: date) -> str:
    """The REES46 name of the file of ``d``'s month: ``2019-Oct.csv``."""
    return f"{d.year}-{calendar.month_abbr[d.month]}.csv"


_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


def _time_strings(ts: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS UTC`` for epoch seconds, formatted with array arithmetic."""
    n = len(ts)
    day = ts // 86_400
    first_day = int(day.min()) if n else 0
    days = np.arange(first_day, (int(day.max()) + 1) if n else first_day)
    day_text = (
        np.array(
            [
                (datetime(1970, 1, 1) + timedelta(days=int(d))).strftime("%Y-%m-%d ").encode()
                for d in days
            ],
            dtype="S11",
        )
        .view(np.uint8)
        .reshape(len(days), 11)
    )
    out = np.empty((n, 23), dtype=np.uint8)
    out[:, 0:11] = day_text[day - first_day]
    sec = ts - day * 86_400
    for start, value in ((11, sec // 3600), (14, sec // 60 % 60), (17, sec % 60)):
        out[:, start] = _DIGITS[value // 10]
        out[:, start + 1] = _DIGITS[value % 10]
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19:23] = np.frombuffer(b" UTC", dtype=np.uint8)
    return pa.array(out.view("S23").reshape(n), type=pa.binary(23)).cast(pa.string())


def _dictionary(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(indices.astype(np.int32), mask=indices < 0), pa.array(values, type=pa.string())
    )


def _to_arrow(ev: EventChunk, cat: Catalogue, sess: Sessions) -> pa.Table:
    """The rows of a chunk as a table of REES46 columns, strings formatted as in the real files."""
    move_at = int(CATEGORY_MOVE_DATE.timestamp())
    pcat = cat.product_cat[ev.product]
    category_id = cat.cat_id[pcat]
    moved_id = cat.product_moved_cat_id[ev.product]
    moved = (moved_id != 0) & (ev.ts >= move_at)
    category_id = np.where(moved, moved_id, category_id)
    code = np.where(moved, -1, cat.cat_code[pcat])
    brand = cat.product_brand[ev.product].copy()
    brand_from = cat.product_brand_from[ev.product]
    brand[(brand_from != 0) & (ev.ts < brand_from)] = -1
    brand[ev.negative] = -1
    # Prices print like the published files as re-written by pandas: 3.0, 2.62, -5.5.
    low = int(ev.price.min()) if len(ev) else 0
    high = int(ev.price.max()) if len(ev) else 0
    price_idx = ev.price - low
    price_text = [repr(c / 100) for c in range(low, high + 1)]
    uuid = pa.array(sess.uuid[ev.session], mask=ev.session_missing, type=pa.binary(36)).cast(
        pa.string()
    )
    return pa.table(
        {
            "event_time": _time_strings(ev.ts),
            "event_type": _dictionary(ev.etype.astype(np.int32), list(EVENT_TYPES)),
            "product_id": pa.array(cat.product_id[ev.product]),
            "category_id": pa.array(category_id),
            "category_code": _dictionary(code, list(CATEGORY_CODES)),
            "brand": _dictionary(brand, cat.brand_names),
            "price": _dictionary(price_idx.reshape(-1), price_text),
            "user_id": pa.array(sess.user_id[ev.session]),
            "user_session": uuid,
        }
    )


#: Rows formatted and written at a time: bounds the memory of the text columns.
WRITE_SLICE_ROWS = 1_000_000


def write_csv(ev: EventChunk, cat: Catalogue, sess: Sessions, path: Path) -> None:
    """Write unquoted CSV with the exact REES46 header; empty fields for missing values."""
    import pyarrow.csv as pcsv

    tmp = path.with_suffix(".csv.tmp")
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with open(tmp, "wb") as handle:
        handle.write((",".join(HEADER) + "\n").encode())
        for lo in range(0, len(ev), WRITE_SLICE_ROWS):
            part = EventChunk(*(getattr(ev, f)[lo : lo + WRITE_SLICE_ROWS] for f in CHUNK_FIELDS))
            pcsv.write_csv(_to_arrow(part, cat, sess), handle, options)
    tmp.replace(path)
