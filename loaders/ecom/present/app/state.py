"""The app's filters (sidebar widgets <-> URL query parameters) and its warehouse connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from ecom.present import figures as F
from ecom.present.filters import FilterError, Filters

ALL = "All"


def db_path() -> Path:
    """The warehouse file (``ecom dashboard serve --duckdb`` hands it over as ECOM_DUCKDB_PATH)."""
    from ecom.warehouse import duckdb_path

    return duckdb_path()


class WarehouseUnavailable(Exception):
    """The warehouse file is missing or being written; the message says what to do."""


@contextmanager
def warehouse() -> Iterator[Any]:
    """A read-only connection for one run of the page, closed at its end.

    Never held between runs: DuckDB lets one process write a file only when no other
    process has it open, so a connection kept open would block `ecom dbt build`.
    """
    import duckdb

    path = db_path()
    if not path.exists():
        raise WarehouseUnavailable(
            f"No warehouse at {path}: run `make demo` (or `ecom load-files DIR` then `ecom dbt build`)."
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise WarehouseUnavailable(
            f"The warehouse {path.name} is being written (a dbt run?): this page reloads "
            f"it once you refresh after the run. ({str(exc).splitlines()[0]})"
        ) from exc
    try:
        yield con
    finally:
        con.close()


@st.cache_data(ttl=60, show_spinner=False)
def options(path: str, mtime: float) -> dict[str, Any]:
    """The filter choices, cached per warehouse file version."""
    with warehouse() as con:
        return F.filter_options(con)


def _init_from_url(opts: dict[str, Any]) -> None:
    """Put the URL's filters into the widgets' state, once per browser session."""
    if st.session_state.get("_filters_loaded"):
        return
    st.session_state["_filters_loaded"] = True
    try:
        f = Filters.from_params(dict(st.query_params))
    except FilterError as exc:
        st.session_state["_url_error"] = str(exc)
        f = Filters()
    span = opts["span"]
    if span:
        st.session_state["f_dates"] = (f.start or span[0], f.end or span[1])
    st.session_state["f_category"] = f.category or ALL
    st.session_state["f_brand"] = f.brand or ALL
    st.session_state["f_segment"] = f.segment or ALL


def _choices(values: list[str], current: str) -> list[str]:
    # a value from a shared URL that is not (or no longer) in the marts stays selectable
    return [ALL, *values] + ([current] if current != ALL and current not in values else [])


def sidebar_filters() -> Filters:
    """Draw the filters in the sidebar, keep them in the URL, and return them."""
    path = db_path()
    opts = options(str(path), path.stat().st_mtime if path.exists() else 0.0)
    _init_from_url(opts)
    sb = st.sidebar
    sb.header("Filters")
    if err := st.session_state.pop("_url_error", None):
        sb.warning(f"Ignored the URL's filters: {err}")
    span = opts["span"]
    start = end = None
    if span:
        picked = sb.date_input(
            "Dates", min_value=span[0], max_value=span[1], key="f_dates", format="YYYY-MM-DD"
        )
        if isinstance(picked, tuple | list) and len(picked) == 2:
            start, end = picked
        elif isinstance(picked, tuple | list) and len(picked) == 1:
            start = end = picked[0]  # the second click of a range is still to come
        start = None if start == span[0] else start
        end = None if end == span[1] else end
    category = sb.selectbox(
        "Category (code or id)",
        _choices(opts["categories"], st.session_state["f_category"]),
        key="f_category",
    )
    brand = sb.selectbox(
        "Brand", _choices(opts["brands"], st.session_state["f_brand"]), key="f_brand"
    )
    segment = sb.selectbox(
        "RFM segment", _choices(opts["segments"], st.session_state["f_segment"]), key="f_segment"
    )
    filters = Filters(
        start=start if isinstance(start, date) else None,
        end=end if isinstance(end, date) else None,
        category=None if category == ALL else category,
        brand=None if brand == ALL else brand,
        segment=None if segment == ALL else segment,
    )
    params = filters.to_params()
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
    sb.caption(f"Showing: {filters.describe()}. The address bar keeps these filters: share it.")
    return filters


def drill_into(category: str) -> None:
    """Narrow every page to ``category`` (a callback: it runs before the page is drawn again)."""
    st.session_state["f_category"] = category
