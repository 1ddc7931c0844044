"""Sessions into events: products, order and time inside each session, prices; then the quirks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecom.generate.catalogue import Catalogue, pick_products
from ecom.generate.config import CART, PURCHASE, REMOVE, VIEW, Calibration
from ecom.generate.prices import prices_at
from ecom.generate.sessions import Sessions


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
        return EventChunk(*(getattr(self, f)[idx] for f in CHUNK_FIELDS))

    @staticmethod
    def concat(chunks: list[EventChunk]) -> EventChunk:
        return EventChunk(*(np.concatenate([getattr(c, f) for c in chunks]) for f in CHUNK_FIELDS))

    def __len__(self) -> int:
        return len(self.ts)


CHUNK_FIELDS = (
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
    view_prod = pick_products(rng, cat, focus[gv])

    gc, _rc, offc = _ranks(nc)
    # Carts mostly add products viewed in the session.
    cart_prod = pick_products(rng, cat, focus[gc])
    has_view = nv[gc] > 0
    from_view = has_view & (rng.random(len(gc)) < 0.75)
    pick = offv[gc[from_view]] + (rng.random(int(from_view.sum())) * nv[gc[from_view]]).astype(
        np.int64
    )
    cart_prod[from_view] = view_prod[pick]
    # Shoppers browse expensive items but cart cheap consumables: an expensive pick is often
    # swapped for a cheaper product of the same category.
    alt = pick_products(rng, cat, focus[gc])
    swap = (cat.product_price[cart_prod] > 700) & (
        cat.product_price[alt] < cat.product_price[cart_prod]
    )
    swap &= rng.random(len(gc)) < 0.9
    cart_prod[swap] = alt[swap]

    gr, _rr, _ = _ranks(nr)
    remove_prod = pick_products(rng, cat, focus[gr])
    has_cart = nc[gr] > 0
    pick = offc[gr[has_cart]] + (rng.random(int(has_cart.sum())) * nc[gr[has_cart]]).astype(
        np.int64
    )
    remove_prod[has_cart] = cart_prod[pick]

    gp, rp, _ = _ranks(npur)
    purchase_prod = pick_products(rng, cat, focus[gp])
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
