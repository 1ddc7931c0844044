"""Users and sessions: who comes back how often, when each session starts, and what kind it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ecom.generate.catalogue import Catalogue
from ecom.generate.config import DEFAULT_START, REAL_DAYS, Calibration, GenerateConfig
from ecom.generate.days import window_days

# Hour-of-day weights (UTC): low at 01:00, peak at 19:00.
HOURLY_WEIGHTS = np.array(
    [0.55, 0.38, 0.40, 0.50, 0.70, 0.95, 1.15, 1.25, 1.30, 1.30, 1.28, 1.25,
     1.22, 1.20, 1.22, 1.28, 1.36, 1.45, 1.55, 1.62, 1.50, 1.25, 0.95, 0.72]
)  # fmt: skip


def _sessions_per_user(rng: np.random.Generator, cal: Calibration, users: int) -> np.ndarray:
    """68% one session; the rest 2 + a heavy (Lomax) tail, capped at 5,000."""
    k = np.ones(users, dtype=np.int64)
    multi = rng.random(users) >= cal.one_session_user_share
    target_rest = (cal.sessions_per_user - cal.one_session_user_share) / (
        1 - cal.one_session_user_share
    )
    shape = 1.55
    scale = (target_rest - 1.5) * (shape - 1)
    k[multi] = 2 + np.minimum(
        np.floor(rng.pareto(shape, size=int(multi.sum())) * scale), 4_998
    ).astype(np.int64)
    return k


def _geometric_plus_one(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    """1 + geometric with the given mean (>= 1)."""
    if mean <= 1:
        return np.ones(size, dtype=np.int64)
    return rng.geometric(1.0 / mean, size=size).astype(np.int64)


@dataclass
class Sessions:
    start: np.ndarray  # int64 epoch seconds, sorted
    user_id: np.ndarray  # int64 per session
    cat: np.ndarray  # int32 focus category
    n_view: np.ndarray
    n_cart: np.ndarray
    n_remove: np.ndarray
    n_purchase: np.ndarray
    uuid: np.ndarray  # S36 per session


def _uuid_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((n, 36), dtype=np.uint8)
    pairs = np.empty((n, 32), dtype=np.uint8)
    pairs[:, 0::2] = hexdigits[raw >> 4]
    pairs[:, 1::2] = hexdigits[raw & 15]
    dash = ord("-")
    out[:, 0:8] = pairs[:, 0:8]
    out[:, 8] = dash
    out[:, 9:13] = pairs[:, 8:12]
    out[:, 13] = dash
    out[:, 14:18] = pairs[:, 12:16]
    out[:, 18] = dash
    out[:, 19:23] = pairs[:, 16:20]
    out[:, 23] = dash
    out[:, 24:36] = pairs[:, 20:32]
    return out.view("S36").reshape(n)


def build_sessions(
    rng: np.random.Generator,
    cal: Calibration,
    cat: Catalogue,
    config: GenerateConfig,
    volumes: np.ndarray,
) -> Sessions:
    days = window_days(config.start, config.end)
    total_rows = float(volumes.sum())
    expected_sessions = total_rows / cal.events_per_session
    # Draw more users than needed and keep the prefix whose sessions fit the volume, so the
    # heavy tail of sessions per user does not swing the total.
    drawn = _sessions_per_user(rng, cal, int(expected_sessions / cal.sessions_per_user * 1.2) + 10)
    users = max(1, int(np.searchsorted(np.cumsum(drawn), expected_sessions, side="right")))
    per_user = drawn[:users]
    n = int(per_user.sum())

    # Session starts: day by volume, hour by the daily curve, second uniform.
    day_of = np.sort(rng.choice(len(days), size=n, p=volumes / total_rows))
    day_epoch = np.array(
        [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) for d in days],
        dtype=np.int64,
    )
    hour = rng.choice(24, size=n, p=HOURLY_WEIGHTS / HOURLY_WEIGHTS.sum())
    start = day_epoch[day_of] + hour * 3600 + rng.integers(0, 3600, size=n)
    start.sort()

    # Users: each user's k sessions are scattered over the window.
    session_user = rng.permutation(np.repeat(np.arange(users, dtype=np.int64), per_user))
    _, first_idx = np.unique(session_user, return_index=True)
    # Users new in the window get ids growing with their first visit; others keep older ids.
    is_new = rng.random(users) < 0.45
    order = np.argsort(first_idx, kind="stable")
    new_users_in_order = order[is_new[order]]
    days_since_oct_2019 = max(0, (config.start - DEFAULT_START).days)
    new_base = 550_000_000 + days_since_oct_2019 * 470_000
    span = 72_000_000 * max(1, len(days)) / REAL_DAYS
    gaps = rng.exponential(span / max(1, len(new_users_in_order)), size=len(new_users_in_order)) + 1
    user_id = np.empty(users, dtype=np.int64)
    user_id[new_users_in_order] = new_base + np.cumsum(gaps).astype(np.int64)
    old_users = np.flatnonzero(~is_new)
    old_gaps = rng.exponential(545_000_000 / max(1, len(old_users)), size=len(old_users)) + 1
    user_id[old_users] = rng.permutation(4_600_000 + np.cumsum(old_gaps).astype(np.int64))

    # Kinds: 0 browse, 1 cart without buying, 2 buy with cart, 3 buy without cart, 4 remove only.
    buy_cart = cal.buy_share * (1 - cal.buy_without_cart_share)
    buy_nocart = cal.buy_share * cal.buy_without_cart_share
    kind_p = np.array(
        [
            1 - cal.buy_share - cal.cart_no_buy_share - cal.remove_only_share,
            cal.cart_no_buy_share,
            buy_cart,
            buy_nocart,
            cal.remove_only_share,
        ]
    )
    kind = rng.choice(5, size=n, p=kind_p)
    n_view = np.zeros(n, dtype=np.int64)
    n_cart = np.zeros(n, dtype=np.int64)
    n_remove = np.zeros(n, dtype=np.int64)
    n_purchase = np.zeros(n, dtype=np.int64)
    u = rng.random(n)

    browse = kind == 0
    n_view[browse] = _geometric_plus_one(rng, cal.views_browse, int(browse.sum()))

    cart = kind == 1
    n_cart[cart] = _geometric_plus_one(rng, cal.carts_no_buy, int(cart.sum()))
    with_view = cart & (u >= cal.cart_session_without_view)
    n_view[with_view] = _geometric_plus_one(rng, cal.views_cart, int(with_view.sum()))
    n_remove[cart] = rng.binomial(n_cart[cart], cal.remove_share_of_carts)

    buy = (kind == 2) | (kind == 3)
    n_purchase[buy] = _geometric_plus_one(rng, cal.purchases_per_order, int(buy.sum()))
    buy_c = kind == 2
    n_cart[buy_c] = (
        n_purchase[buy_c] + _geometric_plus_one(rng, cal.extra_carts_buy, int(buy_c.sum())) - 1
    )
    n_remove[buy_c] = rng.binomial(n_cart[buy_c] - n_purchase[buy_c] + 1, 0.5)
    buy_v = (buy_c & (u < 0.85)) | ((kind == 3) & (u < 0.5))
    n_view[buy_v] = _geometric_plus_one(rng, cal.views_buy, int(buy_v.sum()))

    rem = kind == 4
    n_remove[rem] = _geometric_plus_one(rng, cal.removes_only, int(rem.sum()))

    focus = rng.choice(len(cat.cat_weight), size=n, p=cat.cat_weight).astype(np.int32)
    return Sessions(
        start=start,
        user_id=user_id[session_user],
        cat=focus,
        n_view=n_view.astype(np.int32),
        n_cart=n_cart.astype(np.int32),
        n_remove=n_remove.astype(np.int32),
        n_purchase=n_purchase.astype(np.int32),
        uuid=_uuid_strings(rng, n),
    )
