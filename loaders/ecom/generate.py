"""A REES46-format event generator that models the data's structure, not just its marginals.

The model, from the top:

* **Calendar.** Every day gets a volume: the real monthly totals for Oct 2019 to
  Feb 2020 (the mean daily rate elsewhere), shaped by weekday, the Black Friday
  week and the Christmas dip. Session starts follow an hourly curve that peaks
  at 19:00 UTC and bottoms out at 01:00.
* **Users.** 68% of users come once; the rest return, with a heavy tail up to
  bot-like users with thousands of sessions. Ids grow with first appearance
  for users new in the window; older users keep scattered lower ids.
* **Catalogue.** Products belong to categories (19-digit ids, a few with a
  ``category_code``) and brands (empty for ~42% of the traffic); prices are
  right-skewed per category and product, and 30% of products change price once
  inside the window (some change back later). Some products move to a new category
  id on 2019-12-01 and some get their brand filled in later, as in the real files.
* **Sessions.** Each session is a journey in one category: views, then carts
  of viewed products, removals of carted ones, and a checkout that buys carted
  products; 19% of buying sessions have no cart event, ~20% of cart sessions
  no view, and some sessions only remove items carted earlier.
* **Quirks.** Exact duplicate rows (~5.4%, mostly ``remove_from_cart``),
  re-sends one second later, a few rows without ``user_session``, zero prices
  (more in February) and a handful of negative-price purchases with no brand.

Everything is vectorised with NumPy and written month by month through
pyarrow's CSV writer, so the full 20.7M rows take well under a minute. The same
seed gives byte-identical files. Beside the CSV files goes ``_ground_truth.json``,
computed from exactly what was written, for later stages to reconcile against.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ecom.events import EVENT_TYPES, HEADER

GROUND_TRUTH_FILE = "_ground_truth.json"

# Real monthly row counts of the REES46 cosmetics files.
REAL_MONTH_ROWS: dict[tuple[int, int], int] = {
    (2019, 10): 4_102_283,
    (2019, 11): 4_635_837,
    (2019, 12): 3_533_286,
    (2020, 1): 4_264_752,
    (2020, 2): 4_156_682,
}
FULL_SCALE_ROWS = sum(REAL_MONTH_ROWS.values())  # 20,692,840
DEFAULT_START = date(2019, 10, 1)
DEFAULT_END = date(2020, 2, 29)
_REAL_DAYS = (DEFAULT_END - DEFAULT_START).days + 1
MEAN_DAILY_ROWS = FULL_SCALE_ROWS / _REAL_DAYS

# Event type codes follow EVENT_TYPES order.
VIEW, CART, REMOVE, PURCHASE = range(4)

# Hour-of-day weights (UTC): low at 01:00, peak at 19:00.
HOURLY_WEIGHTS = np.array(
    [0.55, 0.38, 0.40, 0.50, 0.70, 0.95, 1.15, 1.25, 1.30, 1.30, 1.28, 1.25,
     1.22, 1.20, 1.22, 1.28, 1.36, 1.45, 1.55, 1.62, 1.50, 1.25, 0.95, 0.72]
)  # fmt: skip
# Monday .. Sunday.
WEEKDAY_WEIGHTS = np.array([1.07, 1.08, 1.05, 1.02, 0.96, 0.88, 0.94])

CATEGORY_CODES = (
    "appliances.environment.vacuum",
    "apparel.glove",
    "stationery.cartrige",
    "furniture.living_room.cabinet",
    "furniture.bathroom.bath",
    "accessories.bag",
    "accessories.cosmetic_bag",
    "appliances.personal.hair_cutter",
    "appliances.personal.massager",
    "furniture.living_room.chair",
    "sport.diving",
    "appliances.environment.air_conditioner",
)
CATEGORY_MOVE_DATE = datetime(2019, 12, 1, tzinfo=UTC)

_SYLLABLES = (
    "ru", "nai", "ma", "su", "ra", "lia", "ko", "cos", "me", "ti", "ka", "be", "lo", "ve", "nu",
    "ri", "so", "la", "mi", "ne", "gri", "pol", "ar", "is", "do", "mix", "ing", "den", "sta",
    "lux", "el", "fa", "bi", "yu", "zo", "ta", "pi", "sen", "ori", "ju", "mar", "vel",
)  # fmt: skip


@dataclass(frozen=True)
class Calibration:
    """Model parameters, chosen so generated data matches ``shared/data/REES46.md``."""

    events_per_session: float = 4.56
    sessions_per_user: float = 2.77
    one_session_user_share: float = 0.68
    # session kinds (shares of all sessions)
    buy_share: float = 0.034
    buy_without_cart_share: float = 0.19  # of buying sessions
    cart_no_buy_share: float = 0.173
    remove_only_share: float = 0.06
    cart_session_without_view: float = 0.20
    # per-session counts (means of 1 + geometric)
    purchases_per_order: float = 8.0
    views_browse: float = 2.07
    views_cart: float = 3.10
    views_buy: float = 4.0
    carts_no_buy: float = 5.8
    extra_carts_buy: float = 2.0
    remove_share_of_carts: float = 0.35
    removes_only: float = 4.6
    # quirks
    duplicate_row_share: float = 0.054
    duplicate_type_mix: tuple[float, float, float, float] = (0.03, 0.06, 0.90, 0.01)
    resend_share: float = 0.02
    missing_session_share: float = 0.00022
    zero_price_share: float = 0.002
    zero_price_share_february: float = 0.017
    negative_price_per_purchase: float = 1.0e-4
    # catalogue
    products: int = 54_571
    categories: int = 525
    brands: int = 260
    brand_missing_share: float = 0.423
    category_code_share: float = 0.017
    median_price: float = 4.05
    premium_product_share: float = 0.05
    moved_product_share: float = 0.03
    brand_filled_later_share: float = 0.02
    # price changes: a share of products change price once inside the window (median size
    # ~10%, 58% of them up, as measured on the real sample), some of them change back later
    price_change_share: float = 0.3
    price_change_median: float = 0.10
    price_change_up_share: float = 0.58
    price_change_back_share: float = 0.3


@dataclass
class GenerateConfig:
    out: Path
    start: date = DEFAULT_START
    end: date = DEFAULT_END  # inclusive
    events: int | None = None  # total rows wanted (approximate); default: the real volume
    events_per_day: float | None = None
    seed: int = 46
    calibration: Calibration = field(default_factory=Calibration)


@dataclass
class MonthFile:
    name: str
    path: Path
    rows: int
    bytes: int


@dataclass
class GenerateResult:
    files: list[MonthFile]
    ground_truth: dict[str, Any]
    ground_truth_path: Path

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


ProgressCallback = Callable[[int, int, str], None]


# -- calendar ----------------------------------------------------------------------------------


def _days(start: date, end: date) -> list[date]:
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
    days = _days(config.start, config.end)
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


# -- catalogue ---------------------------------------------------------------------------------


@dataclass
class Catalogue:
    product_id: np.ndarray  # int64, per product
    product_cat: np.ndarray  # int32 category index
    product_brand: np.ndarray  # int32 brand index, -1 = empty
    product_price: np.ndarray  # int64 cents
    product_moved_cat_id: np.ndarray  # int64, 0 = not moved
    product_brand_from: np.ndarray  # int64 epoch s before which the brand is empty, 0 = never
    product_price_changed_at: np.ndarray  # int64 epoch s from which the price is new, 0 = never
    product_new_price: np.ndarray  # int64 cents from then on
    product_price_back_at: np.ndarray  # int64 epoch s from which the old price is back, 0 = never
    cat_id: np.ndarray  # int64
    cat_code: np.ndarray  # int32 index into CATEGORY_CODES, -1 = empty
    cat_start: np.ndarray  # int64 first product index of each category
    cat_size: np.ndarray  # int64
    cat_weight: np.ndarray  # float, sums to 1
    brand_names: list[str]


def _brand_names(rng: np.random.Generator, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        parts = rng.choice(len(_SYLLABLES), size=int(rng.integers(2, 4)))
        name = "".join(_SYLLABLES[p] for p in parts)
        if rng.random() < 0.06:
            name = name[:3] + "." + name[3:]
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def build_catalogue(
    rng: np.random.Generator, cal: Calibration, window_start: int, window_end: int
) -> Catalogue:
    n_cat, n_prod = cal.categories, cal.products
    # Category popularity: Zipf-like; the top category takes ~5% of traffic, as in the data.
    cat_weight = 1.0 / np.arange(1, n_cat + 1) ** 0.9
    cat_weight /= cat_weight.sum()
    # Category sizes: more popular categories hold more products.
    sizes = np.maximum(3, np.round(cat_weight**0.5 / (cat_weight**0.5).sum() * n_prod)).astype(
        np.int64
    )
    sizes[0] += n_prod - sizes.sum()
    if sizes[0] < 3:  # tiny catalogues: spread evenly instead
        sizes = np.full(n_cat, n_prod // n_cat, dtype=np.int64)
        sizes[: n_prod - sizes.sum()] += 1
    cat_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    # Category ids: most share the 14875800... prefix, the rest spread to 2.24e18.
    old_style = rng.integers(1_487_580_004_000_000_000, 1_487_580_014_000_000_000, size=n_cat)
    new_style = rng.integers(1_500_000_000_000_000_000, 2_242_903_426_784_559_104, size=n_cat)
    cat_id = np.where(rng.random(n_cat) < 0.8, old_style, new_style).astype(np.int64)

    # A few mid-popularity categories carry a category_code, ~1.7% of the traffic.
    cat_code = np.full(n_cat, -1, dtype=np.int32)
    covered, code = 0.0, 0
    for c in rng.permutation(np.arange(20, n_cat)):
        if covered >= cal.category_code_share:
            break
        if covered + cat_weight[c] <= cal.category_code_share * 1.05:
            cat_code[c] = code % len(CATEGORY_CODES)
            covered += cat_weight[c]
            code += 1

    # Products: unique ids in the real range; older (lower) ids sit in every category.
    product_id = np.sort(
        rng.choice(np.arange(3_752, 5_932_596), size=n_prod, replace=False)
    ).astype(np.int64)
    product_id = product_id[rng.permutation(n_prod)]
    product_cat = np.repeat(np.arange(n_cat, dtype=np.int32), sizes)

    # Expected share of traffic of every product (category weight x power-law rank share).
    rank_in_cat = np.arange(n_prod) - np.repeat(cat_start, sizes)
    size_of = np.repeat(sizes, sizes).astype(float)
    traffic = ((rank_in_cat + 1) / size_of) ** (1 / _RANK_POWER) - (rank_in_cat / size_of) ** (
        1 / _RANK_POWER
    )
    traffic *= np.repeat(cat_weight, sizes)

    # Brands: Zipf popularity. The brand is empty for products drawn in random order until
    # their expected traffic reaches the target share, so the event-level rate lands on it.
    brand_names = _brand_names(rng, cal.brands)
    brand_weight = 1.0 / np.arange(1, cal.brands + 1) ** 1.1
    product_brand = rng.choice(cal.brands, size=n_prod, p=brand_weight / brand_weight.sum()).astype(
        np.int32
    )
    later = rng.random(n_prod) < cal.brand_filled_later_share
    target = cal.brand_missing_share - 0.5 * float(traffic[later].sum()) * (
        1 - cal.brand_missing_share
    )
    shuffled = rng.permutation(n_prod)
    missing = shuffled[np.cumsum(traffic[shuffled]) <= target]
    product_brand[missing] = -1

    # Prices: log-normal per category level and per product; cents.
    cat_level = rng.lognormal(0.0, 0.55, size=n_cat)
    raw = cal.median_price * cat_level[product_cat] * rng.lognormal(0.0, 0.72, size=n_prod)
    # A premium tail (devices, large sets) gives the real mean of ~8.5 and a max near 330.
    premium = rng.random(n_prod) < cal.premium_product_share
    raw[premium] *= rng.uniform(4.0, 20.0, size=int(premium.sum()))
    product_price = np.clip(np.round(raw * 100), 5, 32_778).astype(np.int64)

    # Some products move to a new 2195.../2196... category id on 2019-12-01.
    moved = (rng.random(n_prod) < cal.moved_product_share) & (rank_in_cat > 0)
    new_ids = rng.integers(2_195_085_255_034_011_676, 2_196_999_999_999_999_999, size=n_prod)
    product_moved_cat_id = np.where(moved, new_ids, 0).astype(np.int64)

    # Some branded products have an empty brand until a date inside the window.
    later &= product_brand >= 0
    fill_at = rng.integers(window_start, max(window_start + 1, window_end), size=n_prod)
    product_brand_from = np.where(later, fill_at, 0).astype(np.int64)

    changed_at, new_price, back_at = _price_changes(
        rng.spawn(1)[0], cal, product_price, window_start, window_end
    )

    return Catalogue(
        product_id=product_id,
        product_cat=product_cat,
        product_brand=product_brand,
        product_price=product_price,
        product_moved_cat_id=product_moved_cat_id,
        product_brand_from=product_brand_from,
        product_price_changed_at=changed_at,
        product_new_price=new_price,
        product_price_back_at=back_at,
        cat_id=cat_id,
        cat_code=cat_code,
        cat_start=cat_start.astype(np.int64),
        cat_size=sizes,
        cat_weight=cat_weight,
        brand_names=brand_names,
    )


def _price_changes(
    rng: np.random.Generator,
    cal: Calibration,
    price: np.ndarray,
    window_start: int,
    window_end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per product: when its price changes (0 = never), the new price, and when it changes back.

    Drawn from their own generator (spawned, so the catalogue's other draws stay as they were).
    """
    n = len(price)
    changes = rng.random(n) < cal.price_change_share
    size = np.minimum(rng.lognormal(np.log(cal.price_change_median), 0.6, size=n), 0.6)
    up = rng.random(n) < cal.price_change_up_share
    factor = np.where(up, 1 + size, 1 / (1 + size))
    new_price = np.clip(np.round(price * factor), 5, 32_778).astype(np.int64)
    changes &= new_price != price
    span = max(window_end - window_start, 2)
    changed_at = window_start + (rng.random(n) * span).astype(np.int64)
    back = changes & (rng.random(n) < cal.price_change_back_share)
    back_at = changed_at + (rng.random(n) * (window_end - changed_at)).astype(np.int64)
    return (
        np.where(changes, changed_at, 0).astype(np.int64),
        np.where(changes, new_price, price).astype(np.int64),
        np.where(back, back_at, 0).astype(np.int64),
    )


def prices_at(cat: Catalogue, product: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """The catalogue price (cents) of each product at each epoch second."""
    changed_at = cat.product_price_changed_at[product]
    back_at = cat.product_price_back_at[product]
    new = (changed_at > 0) & (ts >= changed_at) & ~((back_at > 0) & (ts >= back_at))
    return np.where(new, cat.product_new_price[product], cat.product_price[product])


_RANK_POWER = 2.6


def _pick_products(rng: np.random.Generator, cat: Catalogue, cats: np.ndarray) -> np.ndarray:
    """A product of each given category, popular ones far more often (power-law rank)."""
    u = rng.random(len(cats))
    rank = np.minimum(
        (cat.cat_size[cats] * u**_RANK_POWER).astype(np.int64), cat.cat_size[cats] - 1
    )
    return cat.cat_start[cats] + rank


# -- users and sessions ------------------------------------------------------------------------


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
    days = _days(config.start, config.end)
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
    span = 72_000_000 * max(1, len(days)) / _REAL_DAYS
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


# -- events ------------------------------------------------------------------------------------


@dataclass
class EventChunk:
    """Events as parallel arrays (one row per event)."""

    ts: np.ndarray  # int64 epoch seconds
    etype: np.ndarray  # int8
    product: np.ndarray  # int64 product index
    session: np.ndarray  # int64 session index
    price: np.ndarray  # int64 cents
    session_missing: np.ndarray  # bool
    negative: np.ndarray  # bool: data-error negative price (brand forced empty)
    injected_duplicate: np.ndarray  # bool

    def take(self, idx: np.ndarray) -> EventChunk:
        return EventChunk(*(getattr(self, f)[idx] for f in _CHUNK_FIELDS))

    @staticmethod
    def concat(chunks: list[EventChunk]) -> EventChunk:
        return EventChunk(*(np.concatenate([getattr(c, f) for c in chunks]) for f in _CHUNK_FIELDS))

    def __len__(self) -> int:
        return len(self.ts)


_CHUNK_FIELDS = (
    "ts",
    "etype",
    "product",
    "session",
    "price",
    "session_missing",
    "negative",
    "injected_duplicate",
)


def _ranks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For groups of the given sizes: group index per item, rank within group, group offsets."""
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    rank = np.arange(int(counts.sum()), dtype=np.int64) - offsets[group]
    return group, rank, offsets


def expand_sessions(
    rng: np.random.Generator,
    cal: Calibration,
    cat: Catalogue,
    sess: Sessions,
    lo: int,
    hi: int,
    month_zero_share: float,
) -> EventChunk:
    """Turn sessions ``lo:hi`` into time-stamped events with coherent products."""
    idx = np.arange(lo, hi, dtype=np.int64)
    nv, nc, nr, npur = (
        sess.n_view[lo:hi],
        sess.n_cart[lo:hi],
        sess.n_remove[lo:hi],
        sess.n_purchase[lo:hi],
    )
    focus = sess.cat[lo:hi]

    gv, _rv, offv = _ranks(nv)
    view_prod = _pick_products(rng, cat, focus[gv])

    gc, _rc, offc = _ranks(nc)
    # Carts mostly add products viewed in the session.
    cart_prod = _pick_products(rng, cat, focus[gc])
    has_view = nv[gc] > 0
    from_view = has_view & (rng.random(len(gc)) < 0.75)
    pick = offv[gc[from_view]] + (rng.random(int(from_view.sum())) * nv[gc[from_view]]).astype(
        np.int64
    )
    cart_prod[from_view] = view_prod[pick]
    # Shoppers browse expensive items but cart cheap consumables: an expensive pick is often
    # swapped for a cheaper product of the same category.
    alt = _pick_products(rng, cat, focus[gc])
    swap = (cat.product_price[cart_prod] > 700) & (
        cat.product_price[alt] < cat.product_price[cart_prod]
    )
    swap &= rng.random(len(gc)) < 0.9
    cart_prod[swap] = alt[swap]

    gr, _rr, _ = _ranks(nr)
    remove_prod = _pick_products(rng, cat, focus[gr])
    has_cart = nc[gr] > 0
    pick = offc[gr[has_cart]] + (rng.random(int(has_cart.sum())) * nc[gr[has_cart]]).astype(
        np.int64
    )
    remove_prod[has_cart] = cart_prod[pick]

    gp, rp, _ = _ranks(npur)
    purchase_prod = _pick_products(rng, cat, focus[gp])
    carted = nc[gp] > 0
    # A checkout buys the carted products in cart order.
    pick = offc[gp[carted]] + rp[carted] % nc[gp[carted]]
    purchase_prod[carted] = cart_prod[pick]

    group = np.concatenate([gv, gc, gr, gp])
    etype = np.concatenate(
        [
            np.full(len(gv), VIEW),
            np.full(len(gc), CART),
            np.full(len(gr), REMOVE),
            np.full(len(gp), PURCHASE),
        ]
    ).astype(np.int8)
    product = np.concatenate([view_prod, cart_prod, remove_prod, purchase_prod])
    # Order inside a session: views and carts interleave, removals follow carts, checkout last.
    m = len(group)
    key = np.empty(m)
    nvw, ncr, nrm = len(gv), len(gc), len(gr)
    key[:nvw] = rng.random(nvw)
    key[nvw : nvw + ncr] = 0.35 + rng.random(ncr)
    key[nvw + ncr : nvw + ncr + nrm] = 0.9 + rng.random(nrm)
    key[nvw + ncr + nrm :] = 3.0 + rp * 1e-4
    order = np.lexsort((key, group))
    group, etype, product = group[order], etype[order], product[order]

    # Time: session start + cumulative gaps (log-normal, median ~25 s); checkout items 1-2 s apart.
    gaps = np.clip(np.round(rng.lognormal(np.log(25), 1.1, size=m)), 2, 1800).astype(np.int64)
    in_checkout = (etype == PURCHASE) & np.concatenate(
        [[False], (etype[:-1] == PURCHASE) & (group[1:] == group[:-1])]
    )
    gaps[in_checkout] = rng.integers(1, 3, size=int(in_checkout.sum()))
    first = np.concatenate([[True], group[1:] != group[:-1]])
    gaps[first] = 0
    csum = np.cumsum(gaps)
    base = np.maximum.accumulate(np.where(first, csum, 0))
    ts = sess.start[lo:hi][group] + (csum - base)

    session = idx[group]
    price = prices_at(cat, product, ts)
    zero = rng.random(m) < month_zero_share
    price[zero] = 0
    negative = (etype == PURCHASE) & (rng.random(m) < cal.negative_price_per_purchase)
    negative |= rng.random(m) < 2.5e-7
    price[negative] = -np.round(rng.uniform(50, 7_937, size=int(negative.sum()))).astype(np.int64)
    missing = rng.random(m) < cal.missing_session_share
    return EventChunk(
        ts, etype, product, session, price, missing, negative, np.zeros(m, dtype=bool)
    )


def inject_quirks(
    rng: np.random.Generator, cal: Calibration, ev: EventChunk
) -> tuple[EventChunk, int, int]:
    """Add re-sends (same event one second later) and exact duplicate rows."""
    m = len(ev)
    # Re-sends: views, carts and removals sent again a second later.
    resend_pool = np.flatnonzero(ev.etype != PURCHASE)
    n_resend = min(len(resend_pool), int(rng.binomial(m, cal.resend_share)))
    resend = (
        ev.take(rng.choice(resend_pool, size=n_resend, replace=False))
        if n_resend
        else ev.take(np.array([], dtype=np.int64))
    )
    resend.ts = resend.ts + 1
    base = EventChunk.concat([ev, resend])
    # Exact duplicates: ~5.4% of all rows, mostly remove_from_cart.
    total = len(base)
    n_dup = int(rng.binomial(total, cal.duplicate_row_share / (1 - cal.duplicate_row_share)))
    mix = np.asarray(cal.duplicate_type_mix)
    dup_parts = []
    for etype, share in enumerate(mix):
        pool = np.flatnonzero(base.etype == etype)
        want = round(n_dup * share)
        if len(pool) and want:
            dup_parts.append(rng.choice(pool, size=want, replace=True))
    dup_idx = np.concatenate(dup_parts) if dup_parts else np.array([], dtype=np.int64)
    dups = base.take(dup_idx)
    dups.injected_duplicate[:] = True
    return EventChunk.concat([base, dups]), len(dup_idx), n_resend


# -- writing -----------------------------------------------------------------------------------


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


def _write_csv(ev: EventChunk, cat: Catalogue, sess: Sessions, path: Path) -> None:
    """Write unquoted CSV with the exact REES46 header; empty fields for missing values."""
    import pyarrow.csv as pcsv

    tmp = path.with_suffix(".csv.tmp")
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with open(tmp, "wb") as handle:
        handle.write((",".join(HEADER) + "\n").encode())
        for lo in range(0, len(ev), WRITE_SLICE_ROWS):
            part = EventChunk(*(getattr(ev, f)[lo : lo + WRITE_SLICE_ROWS] for f in _CHUNK_FIELDS))
            pcsv.write_csv(_to_arrow(part, cat, sess), handle, options)
    tmp.replace(path)


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
    row_hash = _row_hash({f: getattr(originals, f) for f in _CHUNK_FIELDS})
    ordered = np.sort(row_hash)
    if not (ordered[1:] == ordered[:-1]).any():
        return originals
    return originals.take(_first_of_equal_rows(originals))


# -- the driver --------------------------------------------------------------------------------


def _month_bounds(start: date, end: date) -> list[tuple[date, date]]:
    """(first day, first day after) of each calendar month touched by the window."""
    out = []
    cur = date(start.year, start.month, 1)
    while cur <= end:
        nxt = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        out.append((max(cur, start), min(nxt, end + timedelta(days=1))))
        cur = nxt
    return out


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def month_file_name(d: date) -> str:
    return f"{d.year}-{calendar.month_abbr[d.month]}.csv"


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
    window_start, window_end = _epoch(config.start), _epoch(config.end + timedelta(days=1))

    volumes = day_volumes(config)
    cat = build_catalogue(rng, cal, window_start, window_end)
    sess = build_sessions(rng, cal, cat, config, volumes)
    months = _month_bounds(config.start, config.end)
    total_steps = len(months)
    if progress:
        progress(0, total_steps, "sessions built")

    files: list[MonthFile] = []
    carry: EventChunk | None = None
    days = _days(config.start, config.end)
    n_days = len(days)
    per_day = np.zeros((n_days, 4), dtype=np.int64)
    distinct_per_day = np.zeros((n_days, 4), dtype=np.int64)
    revenue_per_day = np.zeros(n_days, dtype=np.int64)
    session_seen = np.zeros(len(sess.start), dtype=bool)
    session_bought = np.zeros(len(sess.start), dtype=bool)
    users_seen: list[np.ndarray] = []
    dup_total = resend_total = missing_total = negative_total = 0

    for step, (m_start, m_end) in enumerate(months, start=1):
        lo_ts, hi_ts = _epoch(m_start), _epoch(m_end)
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
        # Duplicates were injected in this chunk; count only the ones that stay in the window.
        dup_total += int(ev.injected_duplicate.sum())
        resend_total += n_resend

        path = out / month_file_name(m_start)
        _write_csv(ev, cat, sess, path)
        files.append(MonthFile(path.name, path, len(ev), path.stat().st_size))

        # Ground truth, from exactly the rows written.
        day_idx = (ev.ts - window_start) // 86_400
        np.add.at(per_day, (day_idx, ev.etype), 1)
        distinct = _distinct_rows(ev)
        d_day = (distinct.ts - window_start) // 86_400
        np.add.at(distinct_per_day, (d_day, distinct.etype), 1)
        paid = (distinct.etype == PURCHASE) & (distinct.price > 0)
        np.add.at(revenue_per_day, d_day[paid], distinct.price[paid])
        negative_total += int(((distinct.etype == PURCHASE) & (distinct.price < 0)).sum())
        named = ~ev.session_missing
        session_seen[ev.session[named]] = True
        session_bought[ev.session[named & (ev.etype == PURCHASE)]] = True
        missing_total += int(ev.session_missing.sum())
        users_seen.append(np.unique(sess.user_id[ev.session]))
        del ev, distinct  # free this month's rows before the next month is expanded
        if progress:
            progress(step, total_steps, path.name)

    truth = _ground_truth(
        config, files, days, per_day, distinct_per_day, revenue_per_day, session_seen, session_bought,
        users_seen, dup_total, resend_total, missing_total, negative_total,
    )  # fmt: skip
    truth_path = out / GROUND_TRUTH_FILE
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    return GenerateResult(files, truth, truth_path)


def _ground_truth(
    config: GenerateConfig,
    files: list[MonthFile],
    days: list[date],
    per_day: np.ndarray,
    distinct_per_day: np.ndarray,
    revenue_per_day: np.ndarray,
    session_seen: np.ndarray,
    session_bought: np.ndarray,
    users_seen: list[np.ndarray],
    dup_total: int,
    resend_total: int,
    missing_total: int,
    negative_total: int,
) -> dict[str, Any]:
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
        for i, d in enumerate(days)
    ]
    cfg = asdict(config)
    cfg.pop("calibration")
    cfg["out"] = str(config.out)
    cfg["start"], cfg["end"] = config.start.isoformat(), config.end.isoformat()
    return {
        "generator": {"name": "ecom generate", "version": 1, **cfg},
        "rows": rows,
        "distinct_events": distinct,
        "duplicate_rows": rows - distinct,
        "duplicate_rows_injected": dup_total,
        "resends_injected": resend_total,
        "rows_by_type": {t: int(per_day[:, k].sum()) for k, t in enumerate(EVENT_TYPES)},
        "distinct_by_type": {
            t: int(distinct_per_day[:, k].sum()) for k, t in enumerate(EVENT_TYPES)
        },
        "users": int(np.unique(np.concatenate(users_seen)).size) if users_seen else 0,
        "sessions": int(session_seen.sum()),
        "sessions_with_purchase": int(session_bought.sum()),
        "rows_missing_session": missing_total,
        "purchases": int(distinct_per_day[:, PURCHASE].sum()),
        "revenue": round(int(revenue_per_day.sum()) / 100, 2),
        "negative_price_purchases": negative_total,
        "files": [{"name": f.name, "rows": f.rows, "bytes": f.bytes} for f in files],
        "daily": daily,
    }
