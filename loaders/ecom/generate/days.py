"""The calendar: the days of the window, how many rows each gets, and the months it spans."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import numpy as np

from ecom.generate.config import MEAN_DAILY_ROWS, REAL_MONTH_ROWS, GenerateConfig

# Monday .. Sunday.
WEEKDAY_WEIGHTS = np.array([1.07, 1.08, 1.05, 1.02, 0.96, 0.88, 0.94])


def window_days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _black_friday(year: int) -> date:
    """The day after the fourth Thursday of November (2019-11-29)."""
    thursdays = [d for d in range(1, 31) if date(year, 11, d).weekday() == 3]
    return date(year, 11, thursdays[3] + 1)


def _calendar_factor(day: date) -> float:
    factor = float(WEEKDAY_WEIGHTS[day.weekday()])
    bf = _black_friday(day.year)
    offset = (day - bf).days
    if offset == 0:
        factor *= 2.1
    elif -4 <= offset <= -1:
        factor *= 1.2
    elif 1 <= offset <= 3:
        factor *= 1.35 if offset != 2 else 1.15
    if day.month == 12 and 10 <= day.day <= 21:
        factor *= 1.1
    if day.month == 12 and day.day >= 24:
        factor *= {24: 0.8, 25: 0.6, 31: 0.55}.get(day.day, 0.7)
    if day.month == 1 and day.day <= 7:
        factor *= 0.6 if day.day == 1 else 0.85
    return factor


def day_volumes(config: GenerateConfig) -> np.ndarray:
    """Expected rows per day of the window."""
    days = window_days(config.start, config.end)
    factors = np.array([_calendar_factor(d) for d in days])
    volumes = np.empty(len(days))
    # Real months keep their real totals; other months use the mean daily rate.
    by_month: dict[tuple[int, int], list[int]] = {}
    for i, d in enumerate(days):
        by_month.setdefault((d.year, d.month), []).append(i)
    for (year, month), idx in by_month.items():
        days_in_month = calendar.monthrange(year, month)[1]
        if (year, month) in REAL_MONTH_ROWS:
            full_month = [date(year, month, k) for k in range(1, days_in_month + 1)]
            month_factors = np.array([_calendar_factor(d) for d in full_month])
            per_factor = REAL_MONTH_ROWS[(year, month)] / month_factors.sum()
        else:
            per_factor = MEAN_DAILY_ROWS / WEEKDAY_WEIGHTS.mean()
        volumes[idx] = factors[idx] * per_factor
    if config.events is not None:
        volumes *= config.events / volumes.sum()
    elif config.events_per_day is not None:
        volumes *= config.events_per_day * len(days) / volumes.sum()
    return volumes


def month_bounds(start: date, end: date) -> list[tuple[date, date]]:
    """(first day, first day after) of each calendar month touched by the window."""
    out = []
    cur = date(start.year, start.month, 1)
    while cur <= end:
        nxt = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        out.append((max(cur, start), min(nxt, end + timedelta(days=1))))
        cur = nxt
    return out


def epoch(d: date) -> int:
    """Epoch seconds of midnight UTC of ``d``."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
