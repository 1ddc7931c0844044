"""The driver: month by month, expand the sessions into events, write them, count them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ecom.generate.catalogue import build_catalogue
from ecom.generate.config import GenerateConfig
from ecom.generate.days import day_volumes, epoch, month_bounds, window_days
from ecom.generate.expand import EventChunk, expand_sessions, inject_quirks
from ecom.generate.sessions import build_sessions
from ecom.generate.truth import GROUND_TRUTH_FILE, Tally, ground_truth
from ecom.generate.write import MonthFile, month_file_name, write_csv


@dataclass
class GenerateResult:
    """The files written and the ground truth computed from them."""

    files: list[MonthFile]
    ground_truth: dict[str, Any]
    ground_truth_path: Path

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


#: Called with (months done, months in all, note) as each month is written.
ProgressCallback = Callable[[int, int, str], None]


def generate(config: GenerateConfig, progress: ProgressCallback | None = None) -> GenerateResult:
    """Write monthly REES46 CSV files and ``_ground_truth.json`` into ``config.out``."""
    if config.end < config.start:
        raise ValueError(f"end {config.end} is before start {config.start}")
    if config.events is not None and config.events < 1:
        raise ValueError("--events must be at least 1")
    cal = config.calibration
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    window_start, window_end = epoch(config.start), epoch(config.end + timedelta(days=1))

    volumes = day_volumes(config)
    cat = build_catalogue(rng, cal, window_start, window_end)
    sess = build_sessions(rng, cal, cat, config, volumes)
    months = month_bounds(config.start, config.end)
    total_steps = len(months)
    if progress:
        progress(0, total_steps, "sessions built")

    files: list[MonthFile] = []
    carry: EventChunk | None = None
    tally = Tally.empty(window_start, window_days(config.start, config.end), len(sess.start))

    for step, (m_start, m_end) in enumerate(months, start=1):
        lo_ts, hi_ts = epoch(m_start), epoch(m_end)
        lo, hi = np.searchsorted(sess.start, [lo_ts, hi_ts])
        zero_share = cal.zero_price_share_february if m_start.month == 2 else cal.zero_price_share
        ev = expand_sessions(rng, cal, cat, sess, int(lo), int(hi), zero_share)
        ev, _n_dup, n_resend = inject_quirks(rng, cal, ev)
        if carry is not None:
            ev = EventChunk.concat([carry, ev])
        ev = ev.take(np.argsort(ev.ts, kind="stable"))
        cut = int(np.searchsorted(ev.ts, hi_ts))
        carry = ev.take(np.arange(cut, len(ev)))
        ev = ev.take(np.arange(cut))
        path = out / month_file_name(m_start)
        write_csv(ev, cat, sess, path)
        files.append(MonthFile(path.name, path, len(ev), path.stat().st_size))

        tally.add_written(ev, sess, n_resend)  # the ground truth, from exactly the rows written
        del ev  # free this month's rows before the next month is expanded
        if progress:
            progress(step, total_steps, path.name)

    truth = ground_truth(config, files, tally)
    truth_path = out / GROUND_TRUTH_FILE
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    return GenerateResult(files, truth, truth_path)
