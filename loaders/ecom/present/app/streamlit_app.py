"""The Streamlit script `ecom dashboard serve` runs: navigation, sidebar filters, pages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from ecom.present.app import live, pages
from ecom.present.app.state import WarehouseUnavailable, sidebar_filters, warehouse
from ecom.present.filters import Filters

log = logging.getLogger("ecom.dashboard")

PAGES: tuple[tuple[str, str, Callable[[Any, Filters], None]], ...] = (
    ("overview", "Overview", pages.overview),
    ("funnel", "Funnel", pages.funnel),
    ("products", "Products", pages.products),
    ("customers", "Customers", pages.customers),
    ("sessions", "Sessions", pages.sessions),
)


def _warehouse_page(draw: Callable[[Any, Filters], None]) -> Callable[[], None]:
    """A page that reads the warehouse: one read-only connection for this run, errors as sentences."""

    @functools.wraps(draw)
    def page() -> None:
        filters = st.session_state.get("_filters")
        if filters is None:
            return  # the sidebar said why (no warehouse)
        try:
            with warehouse() as con:
                draw(con, filters)
        except WarehouseUnavailable as exc:
            st.warning(str(exc))
        except Exception as exc:  # never a stack trace in the browser: the log has it
            log.exception("page %s failed", draw.__name__)
            st.error(
                f"This page failed: {type(exc).__name__}: {exc}. The server log has the details."
            )

    return page


def main() -> None:
    st.set_page_config(page_title="ecom dashboard", layout="wide")
    nav = st.navigation(
        [
            *(
                st.Page(
                    _warehouse_page(draw), title=title, url_path=path, default=path == "overview"
                )
                for path, title, draw in PAGES
            ),
            st.Page(live.page, title="Live", url_path="live"),
        ]
    )
    try:
        st.session_state["_filters"] = sidebar_filters()
    except WarehouseUnavailable as exc:
        st.session_state["_filters"] = None
        st.sidebar.warning(str(exc))
        if nav.url_path != "live":
            st.error(str(exc))
    nav.run()


main()
