"""`ecom metrics`: the semantic layer's metrics, validated and queried with MetricFlow."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def register(group: click.Group) -> None:
    group.add_command(metrics)


@click.group()
def metrics() -> None:
    """The semantic layer: metrics defined once in dbt, answered at any grain (MetricFlow).

    \b
      ecom metrics list                       metric names and definitions
      ecom metrics validate                   mf validate-configs (also against the warehouse)
      ecom metrics query --metrics revenue,orders --group-by metric_time__month
      ecom metrics powerbi-doc [--check]      docs/powerbi.md's metric table, from the metrics

    Queries run on the local DuckDB warehouse (ECOM_DUCKDB_PATH), or on the dbt target named
    by DBT_TARGET. Each command parses the dbt project first into .ecom/metricflow/ (a few
    seconds); `--no-parse` reuses the last parse.
    """


_NO_PARSE = click.option(
    "--no-parse", is_flag=True, help="Reuse the last parse of the dbt project (.ecom/metricflow)."
)


def _prepare(no_parse: bool) -> Path:
    from ecom.metrics import MetricsError, metricflow_dir, prepare

    workdir = metricflow_dir()
    if no_parse and (workdir / "target" / "semantic_manifest.json").exists():
        return workdir
    try:
        return prepare(workdir)
    except MetricsError as e:
        raise click.ClickException(str(e)) from e


@metrics.command("list")
@_NO_PARSE
def list_cmd(no_parse: bool) -> None:
    """Print every metric: name, type and description."""
    from ecom.metrics import semantic_manifest

    manifest = semantic_manifest(_prepare(no_parse))
    for metric in sorted(manifest["metrics"], key=lambda m: m["name"]):
        click.echo(f"{metric['name']:<30} {metric['type']:<7} {metric.get('description') or ''}")


@metrics.command()
@_NO_PARSE
def validate(no_parse: bool) -> None:
    """Validate the semantic models and metrics (mf validate-configs)."""
    from ecom.metrics import run_mf

    sys.exit(run_mf(["validate-configs"], _prepare(no_parse)))


@metrics.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@_NO_PARSE
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def query(no_parse: bool, args: tuple[str, ...]) -> None:
    """Query metrics (mf query ARGS: --metrics, --group-by, --where, --order, --csv, ...)."""
    from ecom.metrics import run_mf

    sys.exit(run_mf(["query", *args], _prepare(no_parse)))


@metrics.command("powerbi-doc")
@_NO_PARSE
@click.option("--check", is_flag=True, help="Only check that the doc and the DAX are current.")
def powerbi_doc(no_parse: bool, check: bool) -> None:
    """Write docs/powerbi.md's metric table from the semantic layer; check powerbi/measures.dax."""
    from ecom.metrics import semantic_manifest
    from ecom.metrics.powerbi import MEASURES_DAX, POWERBI_DOC, doc_is_current, update_doc
    from ecom.metrics.powerbi import check as check_dax

    manifest = semantic_manifest(_prepare(no_parse))
    problems = check_dax(manifest, MEASURES_DAX.read_text())
    for problem in problems:
        click.echo(f"measures.dax: {problem}", err=True)
    if check:
        if not doc_is_current(manifest):
            click.echo(f"{POWERBI_DOC} is not current: run `ecom metrics powerbi-doc`", err=True)
            sys.exit(1)
    elif update_doc(manifest):
        click.echo(f"wrote {POWERBI_DOC}")
    sys.exit(1 if problems else 0)
