"""Prices over time: which products change price inside the window, and what each costs when."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ecom.generate.config import Calibration

if TYPE_CHECKING:
    from ecom.generate.catalogue import Catalogue


def price_changes(
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
