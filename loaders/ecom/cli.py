"""The ``ecom`` command line: thin wrappers that parse arguments, call the stage functions and print.

Every stage lives in an importable module (``ecom.generate``, ``ecom.profile``,
...); tests call those functions directly.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ecom import __version__
from ecom.cli_options import duckdb_option
from ecom.errors import EcomError

console = Console(stderr=True)
out = Console()


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2019-10-01") from exc


def stage_progress() -> Progress:
    """The progress bar every long-running stage shows."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


class EcomGroup(click.Group):
    """The ``ecom`` group: the one place where the project's exceptions become messages and
    exit codes (library code raises :class:`ecom.errors.EcomError`, never click's)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EcomError as exc:
            click.echo(f"Error: {exc}", err=True)  # as click shows its own errors
            ctx.exit(exc.exit_code)


@click.group(
    cls=EcomGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="ecom")
def main() -> None:
    """E-commerce clickstream pipeline for REES46-format events.

    \b
    Pipeline order:
      generate -> aws up -> produce -> sink -> load -> dbt build -> dashboard
      (or all of it at once: ecom run)

    Everything runs locally by default: a moto emulator for AWS, DuckDB for the
    warehouse, no credentials. `ecom COMMAND --help` explains each stage.
    """


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the monthly CSV files (created if missing).",
)
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=None,
    help="Approximate total rows. Default: the real data set's volume (20.7M over Oct 2019-Feb 2020).",
)
@click.option(
    "--events-per-day",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Mean rows per day instead of --events.",
)
@click.option(
    "--start",
    callback=_parse_date,
    default="2019-10-01",
    show_default=True,
    help="First day (UTC).",
)
@click.option(
    "--end",
    callback=_parse_date,
    default="2020-02-29",
    show_default=True,
    help="Last day (UTC), inclusive.",
)
@click.option(
    "--seed",
    type=int,
    default=46,
    show_default=True,
    help="Random seed; the same seed gives the same files.",
)
def generate(
    out_dir: Path,
    events: int | None,
    events_per_day: float | None,
    start: date,
    end: date,
    seed: int,
) -> None:
    """Write REES46-format monthly CSV files (2019-Oct.csv, ...) with realistic structure.

    Beside the files goes _ground_truth.json (rows per type per day, users, sessions,
    purchases, revenue, duplicates injected) for later stages to reconcile against.
    """
    from ecom.generate import GenerateConfig
    from ecom.generate import generate as run_generate

    if events is not None and events_per_day is not None:
        raise click.UsageError("give --events or --events-per-day, not both")
    if end < start:
        raise click.UsageError(f"--end {end} is before --start {start}")
    config = GenerateConfig(
        out=out_dir, start=start, end=end, events=events, events_per_day=events_per_day, seed=seed
    )
    with stage_progress() as progress:
        task = progress.add_task("generate", total=None, note="building users and sessions")

        def report(step: int, total: int, note: str) -> None:
            progress.update(task, completed=step, total=total, note=note)

        result = run_generate(config, progress=report)
    truth = result.ground_truth
    table = Table(title=f"Generated {truth['rows']:,} rows into {out_dir}", show_edge=False)
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("MB", justify="right")
    for f in result.files:
        table.add_row(f.name, f"{f.rows:,}", f"{f.bytes / 1e6:,.1f}")
    out.print(table)
    out.print(
        f"distinct events {truth['distinct_events']:,} · duplicate rows {truth['duplicate_rows']:,} · "
        f"users {truth['users']:,} · sessions {truth['sessions']:,} · purchases {truth['purchases']:,} · "
        f"revenue {truth['revenue']:,.2f}"
    )
    out.print(f"ground truth: {result.ground_truth_path}")


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _profile_rows(p: Any) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [
        ("rows", f"{p.rows:,}"),
        ("span", f"{p.first_event} .. {p.last_event}"),
    ]
    rows += [(f"event mix: {t}", _pct(v)) for t, v in p.event_mix.items()]
    rows += [(f"null rate: {c}", _pct(v)) for c, v in p.null_rate.items()]
    rows += [
        ("duplicate rows", f"{p.duplicate_rows:,} ({_pct(p.duplicate_rate)})"),
        ("duplicate rate of remove_from_cart", _pct(p.duplicate_rate_by_type["remove_from_cart"])),
        ("price Q1 / median / Q3", " / ".join(f"{q:.2f}" for q in p.price_quartiles)),
        ("price mean / min / max", f"{p.price_mean:.2f} / {p.price_min:.2f} / {p.price_max:.2f}"),
        ("negative prices", f"{p.negative_prices:,}"),
        ("zero prices", _pct(p.zero_price_share)),
        ("users / sessions", f"{p.users:,} / {p.sessions:,}"),
        ("events per session", f"{p.events_per_session:.2f}"),
        ("sessions per user", f"{p.sessions_per_user:.2f}"),
        ("users with one session", _pct(p.one_session_user_share)),
        ("sessions with a view", _pct(p.view_session_share)),
        ("view sessions reaching cart", _pct(p.view_to_cart_session_share)),
        ("sessions with a purchase", _pct(p.purchase_session_share)),
        ("purchase sessions without cart", _pct(p.purchase_sessions_without_cart)),
        ("cart sessions without view", _pct(p.cart_sessions_without_view)),
        ("buyers / revenue", f"{p.buyers:,} / {p.revenue:,.2f}"),
        ("peak hour / low hour (UTC)", f"{p.peak_hour:02d}:00 / {p.low_hour:02d}:00"),
        ("weekday share Mon..Sun", " ".join(f"{w * 100:.1f}" for w in p.weekday_share)),
        ("busiest day", p.busiest_day),
    ]
    return rows


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@click.option(
    "--check",
    is_flag=True,
    help="Compare with the real data set's figures and exit 1 if any is outside tolerance.",
)
def profile(paths: tuple[Path, ...], as_json: bool, check: bool) -> None:
    """Profile REES46-format CSV files or directories of them.

    Prints the event mix, null rates, duplicates, price quartiles, sessions per user,
    the session funnel and the hourly shape; run it on generated and on real files
    to compare them side by side.
    """
    from ecom.profile import REFERENCE, check_against_reference, profile_files

    try:
        result = profile_files(paths)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    problems = check_against_reference(result) if check else []
    if as_json:
        payload = result.to_dict()
        if check:
            payload["check"] = {"reference": REFERENCE, "problems": problems}
        out.print_json(json.dumps(payload, default=str))
    else:
        table = Table(title="REES46 profile of " + ", ".join(map(str, paths)), show_edge=False)
        table.add_column("measure")
        table.add_column("value", justify="right")
        for name, value in _profile_rows(result):
            table.add_row(name, value)
        out.print(table)
    if check:
        if problems:
            for problem in problems:
                console.print(f"[red]outside tolerance[/red] {problem}")
            sys.exit(1)
        console.print(
            "[green]within tolerance of the real data set on every checked figure[/green]"
        )


@main.command("load-files")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--target",
    type=click.Choice(["duckdb", "postgres"]),
    default="duckdb",
    show_default=True,
    help="Warehouse: the local DuckDB file, or PostgreSQL (the dbt postgres target's variables).",
)
@duckdb_option()
def load_files_cmd(paths: tuple[Path, ...], target: str, db_path: Path | None) -> None:
    """Load REES46 CSV files straight into raw.events of the local warehouse (no stream).

    Rows are validated by the same parser as every other path; rejected rows go to a
    quarantine file with their reason. A file already loaded is skipped. Each file is one
    transaction (on PostgreSQL, its rows are sent by COPY ... FROM STDIN).
    """
    from ecom.files import FileLoadReport, load_files
    from ecom.load.core import LoadError
    from ecom.profile import expand_paths

    files = expand_paths(paths)
    total_bytes = sum(f.stat().st_size for f in files)
    with stage_progress() as progress:
        task = progress.add_task(
            "load files", total=max(1, total_bytes // 118), note="rows (estimated)"
        )
        report: FileLoadReport
        if target == "postgres":
            from ecom.pg.load import load_files_postgres

            try:
                report = load_files_postgres(files, progress=lambda n: progress.advance(task, n))
            except LoadError as exc:
                raise click.ClickException(str(exc)) from exc
        else:
            report = load_files(
                files, db_path=db_path, progress=lambda n: progress.advance(task, n)
            )
    out.print(
        f"files {report.files} (skipped as already loaded: {len(report.skipped_files)}) · read {report.read:,} · "
        f"loaded {report.loaded:,} · rejected {report.rejected:,}"
    )
    for reason, n in sorted(report.rejected_by_reason.items()):
        out.print(f"  rejected {reason}: {n:,}")
    if report.quarantine:
        out.print(f"quarantine: {report.quarantine}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run dbt in this project with its profiles (e.g. `ecom dbt build`, `ecom dbt docs generate`)."""
    from ecom.warehouse import run_dbt

    sys.exit(run_dbt(list(args)))


# Stages that live in their own packages register their commands here; each module
# exposes ``register(group)``. A stage not yet built is simply absent.
STAGE_MODULES = (
    "ecom.aws.cli",  # aws up / aws down
    "ecom.stream.cli",  # produce, sink
    "ecom.realtime.cli",  # realtime (the stream processor)
    "ecom.load.cli",  # load
    "ecom.pg.cli",  # postgres up / down / status / env
    "ecom.backfill.cli",  # backfill (Spark)
    "ecom.api.cli",  # api serve
    "ecom.run.cli",  # run (the whole pipeline)
    "ecom.present.cli",  # docs serve, dashboard, export
    "ecom.metrics.cli",  # metrics list / validate / query / powerbi-doc
)


def _register_stages() -> None:
    import importlib
    import importlib.util

    for name in STAGE_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            importlib.import_module(name).register(main)


_register_stages()


if __name__ == "__main__":  # pragma: no cover
    main()
