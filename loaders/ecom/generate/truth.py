"""The ground truth: what was written, counted from exactly the rows of the files."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ecom.events import EVENT_TYPES
from ecom.generate.config import PURCHASE, GenerateConfig
from ecom.generate.expand import CHUNK_FIELDS, EventChunk
from ecom.generate.sessions import Sessions
from ecom.generate.write import MonthFile

GROUND_TRUTH_FILE = "_ground_truth.json"


_CONTENT_FIELDS = ("ts", "etype", "product", "session", "price", "session_missing", "negative")


def _row_hash(table_cols: dict[str, np.ndarray]) -> np.ndarray:
    """A 64-bit content hash per row: distinct hashes prove distinct rows (equal ones do not)."""
    h = np.zeros(len(table_cols["ts"]), dtype=np.uint64)
    for name in _CONTENT_FIELDS:
        v = table_cols[name].astype(np.uint64)
        h ^= v + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
        h *= np.uint64(0xBF58476D1CE4E5B9)
    return h


def _first_of_equal_rows(ev: EventChunk) -> np.ndarray:
    """Indexes of the first row of each group of rows equal in every content field (exact)."""
    content = np.stack([getattr(ev, f).astype(np.int64) for f in _CONTENT_FIELDS], axis=1)
    _, first = np.unique(content, axis=0, return_index=True)
    return np.sort(first)


def _distinct_rows(ev: EventChunk) -> EventChunk:
    """The chunk without duplicate rows (rows equal in every content field).

    Injected duplicates are flagged; the rest is checked to be distinct by a 64-bit content
    hash, which settles it when no two hashes are equal. Otherwise (a real coincidence of two
    generated events, or a hash collision) the rows are compared field by field.
    """
    originals = ev.take(np.flatnonzero(~ev.injected_duplicate))
    row_hash = _row_hash({f: getattr(originals, f) for f in CHUNK_FIELDS})
    ordered = np.sort(row_hash)
    if not (ordered[1:] == ordered[:-1]).any():
        return originals
    return originals.take(_first_of_equal_rows(originals))


@dataclass
class Tally:
    """The ground truth's counts, added to month by month from exactly the rows written.

    Per day of the window (``days``) and event type (columns in ``EVENT_TYPES`` order): rows
    and distinct events; per day: revenue in cents of distinct positive-price purchases; per
    session (by index): seen with a ``user_session``, and with a purchase.
    """

    window_start: int  # epoch seconds of the first day
    days: list[date]
    per_day: np.ndarray
    distinct_per_day: np.ndarray
    revenue_per_day: np.ndarray
    session_seen: np.ndarray
    session_bought: np.ndarray
    users_seen: list[np.ndarray] = field(default_factory=list)
    duplicates_injected: int = 0
    resends_injected: int = 0
    rows_missing_session: int = 0
    negative_price_purchases: int = 0

    @classmethod
    def empty(cls, window_start: int, days: list[date], sessions: int) -> Tally:
        n_days = len(days)
        return cls(
            window_start=window_start,
            days=days,
            per_day=np.zeros((n_days, 4), dtype=np.int64),
            distinct_per_day=np.zeros((n_days, 4), dtype=np.int64),
            revenue_per_day=np.zeros(n_days, dtype=np.int64),
            session_seen=np.zeros(sessions, dtype=bool),
            session_bought=np.zeros(sessions, dtype=bool),
        )

    def add_written(self, ev: EventChunk, sess: Sessions, resends: int) -> None:
        """Count the rows of one written file (``resends``: re-sends injected into its chunk)."""
        # Duplicates were injected in the chunk; count only the ones that stay in the window.
        self.duplicates_injected += int(ev.injected_duplicate.sum())
        self.resends_injected += resends
        day_idx = (ev.ts - self.window_start) // 86_400
        np.add.at(self.per_day, (day_idx, ev.etype), 1)
        distinct = _distinct_rows(ev)
        d_day = (distinct.ts - self.window_start) // 86_400
        np.add.at(self.distinct_per_day, (d_day, distinct.etype), 1)
        paid = (distinct.etype == PURCHASE) & (distinct.price > 0)
        np.add.at(self.revenue_per_day, d_day[paid], distinct.price[paid])
        self.negative_price_purchases += int(
            ((distinct.etype == PURCHASE) & (distinct.price < 0)).sum()
        )
        named = ~ev.session_missing
        self.session_seen[ev.session[named]] = True
        self.session_bought[ev.session[named & (ev.etype == PURCHASE)]] = True
        self.rows_missing_session += int(ev.session_missing.sum())
        self.users_seen.append(np.unique(sess.user_id[ev.session]))


def ground_truth(config: GenerateConfig, files: list[MonthFile], tally: Tally) -> dict[str, Any]:
    """The ``_ground_truth.json`` document: the configuration, totals, per-file and per-day counts."""
    per_day, distinct_per_day, revenue_per_day = (
        tally.per_day,
        tally.distinct_per_day,
        tally.revenue_per_day,
    )
    rows = int(per_day.sum())
    distinct = int(distinct_per_day.sum())
    daily = [
        {
            "date": d.isoformat(),
            "rows": int(per_day[i].sum()),
            **{f"rows_{t}": int(per_day[i, k]) for k, t in enumerate(EVENT_TYPES)},
            "distinct_events": int(distinct_per_day[i].sum()),
            **{f"distinct_{t}": int(distinct_per_day[i, k]) for k, t in enumerate(EVENT_TYPES)},
            "revenue": round(int(revenue_per_day[i]) / 100, 2),
        }
        for i, d in enumerate(tally.days)
    ]
    cfg = asdict(config)
    cfg.pop("calibration")
    cfg["out"] = str(config.out)
    cfg["start"], cfg["end"] = config.start.isoformat(), config.end.isoformat()
    users_seen = tally.users_seen
    return {
        "generator": {"name": "ecom generate", "version": 1, **cfg},
        "rows": rows,
        "distinct_events": distinct,
        "duplicate_rows": rows - distinct,
        "duplicate_rows_injected": tally.duplicates_injected,
        "resends_injected": tally.resends_injected,
        "rows_by_type": {t: int(per_day[:, k].sum()) for k, t in enumerate(EVENT_TYPES)},
        "distinct_by_type": {
            t: int(distinct_per_day[:, k].sum()) for k, t in enumerate(EVENT_TYPES)
        },
        "users": int(np.unique(np.concatenate(users_seen)).size) if users_seen else 0,
        "sessions": int(tally.session_seen.sum()),
        "sessions_with_purchase": int(tally.session_bought.sum()),
        "rows_missing_session": tally.rows_missing_session,
        "purchases": int(distinct_per_day[:, PURCHASE].sum()),
        "revenue": round(int(revenue_per_day.sum()) / 100, 2),
        "negative_price_purchases": tally.negative_price_purchases,
        "files": [{"name": f.name, "rows": f.rows, "bytes": f.bytes} for f in files],
        "daily": daily,
    }
