"""What to generate: the window, the volume, the seed, and the model's calibration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
REAL_DAYS = (DEFAULT_END - DEFAULT_START).days + 1
MEAN_DAILY_ROWS = FULL_SCALE_ROWS / REAL_DAYS

# Event type codes follow EVENT_TYPES order.
VIEW, CART, REMOVE, PURCHASE = range(4)


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
