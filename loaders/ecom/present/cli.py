"""CLI for presenting the marts: ``ecom docs serve``, ``ecom dashboard``, ``ecom export``."""

from __future__ import annotations

from pathlib import Path

import click

from ecom.cli_options import duckdb_option, port_option
from ecom.warehouse import local_state_dir

_DUCKDB_OPTION = duckdb_option()


def default_dashboard_path() -> Path:
    return local_state_dir() / "dashboard.html"


@click.group("docs")
def docs_group() -> None:
    """The dbt docs site: models, columns, tests, lineage and metric definitions."""


@docs_group.command("serve")
@port_option(8080)
@click.option(
    "--generate/--no-generate",
    default=True,
    show_default=True,
    help="Run `dbt docs generate` first (needs the marts built); --no-generate serves what is there.",
)
@click.option(
    "--target-path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="dbt target folder holding the docs. Default: target/ of the project.",
)
def docs_serve(port: int, generate: bool, target_path: Path | None) -> None:
    """Generate the dbt docs site and serve it on http://127.0.0.1:PORT/ until Ctrl-C."""
    from ecom.present.docs import DEFAULT_TARGET, DocsError, docs_server, generate_docs, url_of

    target = target_path or DEFAULT_TARGET
    try:
        if generate:
            generate_docs(target)
        server = docs_server(target, port=port)
    except (DocsError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"dbt docs site: {url_of(server)}  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.group("dashboard", invoke_without_command=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write. Default: .ecom/dashboard.html",
)
@_DUCKDB_OPTION
@click.pass_context
def dashboard(ctx: click.Context, out: Path | None, db_path: Path | None) -> None:
    """Write the dashboard as one HTML file that opens offline (or `serve` it as an app).

    The static report: headline figures, daily revenue and orders, top categories and
    brands, the session funnel (any order and strict), conversion by category and brand,
    RFM segments and their rules, cohort retention and the session definitions, drawn
    with Vega-Lite (inlined: the file fetches nothing). `ecom dashboard serve` is the
    same charts as an interactive app with filters and drill-down.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ecom.present.dashboard import build_dashboard
    from ecom.present.marts import MissingMartError

    try:
        result = build_dashboard(out or default_dashboard_path(), db_path=db_path)
    except MissingMartError as exc:
        raise click.ClickException(str(exc)) from exc
    f = result.figures
    drawn = len(result.panels) - len(result.empty_panels)
    summary = f"{drawn} of {len(result.panels)} charts"
    if f:
        summary += (
            f" · revenue {f['revenue']:,.2f} · orders {f['orders']:,} · sessions {f['sessions']:,}"
        )
    click.echo(summary)
    for chart, why in result.empty_panels.items():
        click.echo(f"warning: no chart for {chart}: {why}", err=True)
    click.echo(f"dashboard: {result.path.resolve()}")


@dashboard.command("serve")
@port_option(8501, "Port on 127.0.0.1 to serve the app on.", any_free=False)
@_DUCKDB_OPTION
@click.option(
    "--api-url",
    default=None,
    envvar="ECOM_DASHBOARD_API_URL",
    help="Base URL of `ecom api serve` for the live page (its key from $ECOM_API_KEY).",
)
def dashboard_serve(port: int, db_path: Path | None, api_url: str | None) -> None:
    """Serve the dashboard as an app on http://127.0.0.1:PORT/ until Ctrl-C.

    Pages: overview, funnel, products (drill down from a category to its products),
    customers, sessions and live (today's figures from the metrics API). Filters for the
    date range, category, brand and RFM segment apply to every page and stay in the URL.
    The warehouse is read read-only; Streamlit runs headless, local and sends nothing.
    """
    from ecom.present import serve

    click.echo(f"dashboard app: {serve.url(port)}  (Ctrl-C to stop)")
    serve.run(port, db_path=db_path, api_url=api_url)


@click.command("export")
@click.argument("marts", nargs=-1)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the Parquet files. Default: .ecom/export",
)
@_DUCKDB_OPTION
def export(marts: tuple[str, ...], out: Path | None, db_path: Path | None) -> None:
    """Write the marts (all, or the MARTS named) to Parquet files, one per mart, for PowerBI."""
    from ecom.present.export import export_marts
    from ecom.present.marts import MissingMartError

    out_dir = out or local_state_dir() / "export"
    try:
        exported = export_marts(out_dir, db_path=db_path, only=marts)
    except MissingMartError as exc:
        raise click.ClickException(str(exc)) from exc
    for mart in exported:
        click.echo(f"{mart.name:<32} {mart.rows:>12,} rows  {mart.columns:>3} columns  {mart.path}")
    click.echo(f"{len(exported)} marts written to {out_dir.resolve()}")


def register(group: click.Group) -> None:
    group.add_command(docs_group)
    group.add_command(dashboard)
    group.add_command(export)
