"""Command-line options that several ``ecom`` commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def duckdb_option(what: str = "Warehouse file") -> Callable[[F], F]:
    """``--duckdb PATH`` (parameter ``db_path``): the local DuckDB warehouse to use."""
    return click.option(
        "--duckdb",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"{what}. Default: .ecom/warehouse.duckdb (or $ECOM_DUCKDB_PATH).",
    )


def port_option(
    default: int | None,
    help: str | None = None,  # noqa: A002 (click's name for it)
    *,
    any_free: bool = True,
) -> Callable[[F], F]:
    """``--port N``: a TCP port on 127.0.0.1; 0 (a free one, printed) is allowed when the
    server can report the one it got (``any_free``)."""
    return click.option(
        "--port",
        type=click.IntRange(0 if any_free else 1, 65535),
        default=default,
        show_default=default is not None,
        help=help,
    )
