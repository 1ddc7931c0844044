"""The catalogue: categories, products, brands and their prices (and how they change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ecom.generate.config import Calibration
from ecom.generate.prices import price_changes

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


RANK_POWER = 2.6


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
    traffic = ((rank_in_cat + 1) / size_of) ** (1 / RANK_POWER) - (rank_in_cat / size_of) ** (
        1 / RANK_POWER
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

    changed_at, new_price, back_at = price_changes(
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


def pick_products(rng: np.random.Generator, cat: Catalogue, cats: np.ndarray) -> np.ndarray:
    """A product of each given category, popular ones far more often (power-law rank)."""
    u = rng.random(len(cats))
    rank = np.minimum((cat.cat_size[cats] * u**RANK_POWER).astype(np.int64), cat.cat_size[cats] - 1)
    return cat.cat_start[cats] + rank
