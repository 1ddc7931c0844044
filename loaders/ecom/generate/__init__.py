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

Where each part lives:

* :mod:`~ecom.generate.config`: the window, volume and seed (``GenerateConfig``) and the
  model's parameters (``Calibration``).
* :mod:`~ecom.generate.days`: the calendar (rows per day, the months of the window).
* :mod:`~ecom.generate.catalogue` and :mod:`~ecom.generate.prices`: categories, products,
  brands, and the price of a product at a given time.
* :mod:`~ecom.generate.sessions`: users and their sessions (start, kind, counts per type).
* :mod:`~ecom.generate.expand`: sessions into events, then duplicates and re-sends.
* :mod:`~ecom.generate.write`: the CSV files.
* :mod:`~ecom.generate.truth`: ``_ground_truth.json``, counted from the rows written.
* :mod:`~ecom.generate.driver`: :func:`generate`, which runs them month by month.
"""

from ecom.generate.config import (
    DEFAULT_END,
    DEFAULT_START,
    FULL_SCALE_ROWS,
    MEAN_DAILY_ROWS,
    REAL_MONTH_ROWS,
    Calibration,
    GenerateConfig,
)
from ecom.generate.driver import GenerateResult, ProgressCallback, generate
from ecom.generate.expand import EventChunk
from ecom.generate.truth import GROUND_TRUTH_FILE
from ecom.generate.write import MonthFile, month_file_name

__all__ = [
    "DEFAULT_END",
    "DEFAULT_START",
    "FULL_SCALE_ROWS",
    "GROUND_TRUTH_FILE",
    "MEAN_DAILY_ROWS",
    "REAL_MONTH_ROWS",
    "Calibration",
    "EventChunk",
    "GenerateConfig",
    "GenerateResult",
    "MonthFile",
    "ProgressCallback",
    "generate",
    "month_file_name",
]
