"""``ecom run``: the whole pipeline locally, ending in a reconciliation report (JSON with --report)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ecom.run.pipeline import RunState, StageFailed
    from ecom.run.reconcile import Reconciliation
#: Exit code when every stage ran but the counts do not reconcile (1: a stage failed).
EXIT_MISMATCH = 3


def register(group: click.Group) -> None:
    group.add_command(run_cmd)


@click.command("run")
@click.option(
    "--events",
    type=click.IntRange(min=100),
    default=None,
    help="Rows to generate (approximate). Default: 100,000 (about a minute on a laptop).",
)
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=None,
    help="Months to generate, from October 2019. Default: 5 (Oct 2019 - Feb 2020, as REES46).",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="REES46 CSV file or directory to send instead of generated data (repeatable), "
    "e.g. --input ../shared/data/rees46-sample. A _ground_truth.json beside them is checked too.",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Empty the local warehouse and the landing zone first. Without it a run adds to "
    "what is there (incrementally).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the report as JSON. Default: $ECOM_HOME/run/report.json (.ecom/run/).",
)
@click.option(
    "--warehouse",
    type=click.Choice(["duckdb", "postgres"]),
    default="duckdb",
    show_default=True,
    help="Where to load and build: the local DuckDB file, or PostgreSQL (the server the "
    "postgres target's variables name, else `ecom postgres up`'s, else a new one).",
)
@click.option("--seed", type=int, default=46, show_default=True, help="Generator seed.")
@click.option("--no-docs", is_flag=True, help="Skip `dbt docs generate`.")
@click.option(
    "--sink-restarts",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Times a failed sink is restarted from its checkpoints before the run gives up.",
)
@click.pass_context
def run_cmd(
    ctx: click.Context,
    events: int | None,
    months: int | None,
    inputs: tuple[Path, ...],
    fresh: bool,
    report_path: Path | None,
    seed: int,
    warehouse: str,
    no_docs: bool,
    sink_restarts: int,
) -> None:
    """Run the whole pipeline locally and reconcile the counts from source rows to the marts.

    \b
    generate (or --input)  ->  AWS emulator (started, or reused)  ->  produce to Kinesis
      ->  sink to the S3 landing zone  ->  load into DuckDB  ->  dbt build  ->  dbt docs generate
      (beside them: the stream processor, `ecom realtime`, into live KPIs in DynamoDB)
      ->  reconciliation: rows read, rejected (by reason), sent, landed, loaded, distinct
          events in staging, the marts' totals (and the generator's ground truth, if any),
          the live KPIs per day, category and brand against stg_events

    Exits 0 when every count reconciles, 3 naming the first stage where counts diverged,
    1 naming a stage that failed. Nothing needs credentials: AWS is a local moto server
    (reused if `ecom aws up` runs; AWS_ENDPOINT_URL is honoured) and the warehouse is
    .ecom/warehouse.duckdb, or PostgreSQL with --warehouse postgres (the reconciliation
    then reads an exact DuckDB copy of its tables, .ecom/run/postgres-copy.duckdb).
    """
    from ecom.aws import session
    from ecom.cli import console, out, stage_progress
    from ecom.run.pipeline import (
        DEFAULT_EVENTS,
        DEFAULT_MONTHS,
        RunConfig,
        RunHooks,
        RunState,
        StageFailed,
        run_pipeline,
    )
    from ecom.run.reconcile import reconcile
    from ecom.warehouse import local_state_dir

    if inputs and (events is not None or months is not None):
        raise click.UsageError(
            "--input sends the given files; --events/--months only size generated data"
        )
    config = RunConfig(
        events=events or DEFAULT_EVENTS,
        months=months or DEFAULT_MONTHS,
        inputs=inputs,
        fresh=fresh,
        seed=seed,
        docs=not no_docs,
        sink_restarts=sink_restarts,
        warehouse=warehouse,
    )
    hooks = ctx.find_object(RunHooks) or RunHooks()
    report_path = report_path or local_state_dir() / "run" / "report.json"
    state = RunState(config)
    started = time.perf_counter()
    failure: StageFailed | None = None
    rec = None
    with stage_progress() as progress:
        tasks: dict[str, Any] = {}

        def notify(stage: str, done: int, total: int | None, note: str) -> None:
            task = tasks.get(stage)
            if task is None:
                task = tasks[stage] = progress.add_task(stage, total=total, note=note)
            progress.update(task, completed=done, total=total, note=note)

        try:
            run_pipeline(config, progress=notify, on_client=hooks.on_client, state=state)
            notify("reconcile", 0, None, "counting the landing zone and the warehouse")
            t0 = time.perf_counter()
            try:
                rec = reconcile(state, session.client("s3"))
            except Exception as exc:  # a stage's output is unreadable: say which
                raise StageFailed("reconcile", f"{type(exc).__name__}: {exc}") from exc
            state.timings["reconcile"] = round(time.perf_counter() - t0, 3)
            notify("reconcile", 1, 1, "balanced" if rec.balanced else "MISMATCH")
        except StageFailed as exc:
            failure = exc
    total_seconds = round(time.perf_counter() - started, 3)

    payload = _payload(state, rec, failure, total_seconds)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")

    if rec is not None:
        _print_reconciliation(out, rec)
        _print_summary(out, rec)
    _print_timings(out, state.timings, total_seconds)
    out.print(f"report: {report_path}")
    if state.emulator_started:
        out.print(
            f"the local AWS emulator (pid {state.emulator_started}) keeps running for the next "
            "run; `ecom aws down` stops it"
        )
    if failure is not None:
        console.print(f"[red]stage {failure.stage} failed[/red]: {failure.reason}")
        raise SystemExit(1)
    if rec is None:
        raise click.ClickException("the reconciliation did not run")
    diverged = rec.diverged
    if diverged is not None:
        console.print(
            f"[red]counts diverged at stage {diverged.stage}[/red]: {diverged.name}: "
            f"expected {_fmt(diverged.expected)}, got {_fmt(diverged.actual)}"
            + (f" ({diverged.detail})" if diverged.detail else "")
        )
        raise SystemExit(EXIT_MISMATCH)
    truth = " and the generator's ground truth" if rec.compared_with_ground_truth else ""
    console.print(f"[green]reconciliation balanced[/green]: every stage{truth} agrees")


def _payload(
    state: RunState, rec: Reconciliation | None, failure: StageFailed | None, total_seconds: float
) -> dict[str, Any]:
    config = state.config
    inputs, aws = state.inputs, state.aws
    truth_path = inputs.ground_truth_path if inputs else None
    diverged = rec.diverged if rec is not None else None
    return {
        "status": "failed"
        if failure or rec is None
        else ("balanced" if rec.balanced else "mismatch"),
        "failed_stage": failure.stage if failure else None,
        "error": failure.reason if failure else None,
        "diverged_stage": diverged.stage if diverged else None,
        "started_at": state.started_at.isoformat(timespec="seconds"),
        "config": {
            "events": None if config.inputs else config.events,
            "months": None if config.inputs else config.months,
            "inputs": [str(p) for p in config.inputs],
            "fresh": config.fresh,
            "seed": config.seed,
            "warehouse": config.warehouse,
        },
        "input": {
            "files": [str(f) for f in inputs.files] if inputs else [],
            "ground_truth": str(truth_path) if truth_path else None,
        },
        "aws": aws.target if aws else "",
        "bucket": aws.bucket if aws else "",
        "warehouse": str(state.warehouse.db_path) if state.warehouse else None,
        "dbt_logs": {stage: str(r.log_path) for stage, r in state.dbt.items()},
        "dbt_nodes": {stage: r.statuses for stage, r in state.dbt.items()},
        "stage_seconds": state.timings,
        "total_seconds": total_seconds,
        **(rec.to_dict() if rec is not None else {}),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    if isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)


def _print_reconciliation(out: Any, rec: Any) -> None:
    from rich.table import Table

    c = rec.counts
    out.print(
        f"read {c['rows_read']:,} · rejected {c['rejected']:,} · sent {c['sent']:,} "
        f"(retried {c['retried']:,}, dead-lettered {c['dead_lettered']:,}) · "
        f"landed {c['landed']:,} ({c['landed_copies']:,} transport copies, "
        f"{c['landing_objects']:,} objects, sink restarts {c['sink_restarts']}) · "
        f"loaded {c['loaded']:,} · distinct events in staging {c['staging_events']:,}"
    )
    for reason, n in c["rejected_by_reason"].items():
        out.print(f"  rejected {reason}: {n:,}")
    table = Table(title="Reconciliation", show_edge=False)
    for col, justify in (
        ("stage", "left"),
        ("check", "left"),
        ("expected", "right"),
        ("actual", "right"),
        ("", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for check in rec.checks:
        table.add_row(
            check.stage,
            check.name,
            _fmt(check.expected),
            _fmt(check.actual),
            "[green]ok[/green]" if check.ok else "[red]MISMATCH[/red]",
        )
    out.print(table)


def _print_summary(out: Any, rec: Any) -> None:
    t = rec.totals
    f = t["funnel"]

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x * 100:.1f}%"

    out.print(
        f"[bold]marts[/bold]: events {rec.counts['staging_events']:,} · sessions {t['sessions']:,} · "
        f"orders {t['orders']:,} · revenue {t['revenue']:,.2f} · buyers {t['buyers']:,} · "
        f"users {t['users']:,} ({t['first_event_at']} .. {t['last_event_at']})"
    )
    out.print(
        f"funnel: view→cart {pct(f['view_to_cart_rate'])} · cart→purchase "
        f"{pct(f['cart_to_purchase_rate'])} · session conversion {pct(f['session_conversion_rate'])} · "
        f"cart abandonment {pct(f['cart_abandonment_rate'])}"
    )
    c = rec.counts
    if "realtime_applied" in c:
        out.print(
            f"[bold]live KPIs[/bold] (DynamoDB, `ecom realtime`): events {c['realtime_applied']:,} "
            f"applied once ({c['realtime_duplicates']:,} copies skipped) · revenue "
            f"{c['realtime_revenue']} · {c['realtime_days']:,} days · "
            f"{c['realtime_dynamodb_writes']:,} DynamoDB writes in {c['realtime_batches']:,} batches"
        )
    segments = " · ".join(f"{k} {v:,}" for k, v in t["rfm_segments"].items())
    out.print(f"RFM segments: {segments or 'none (no buyers)'}")


def _print_timings(out: Any, timings: dict[str, float], total: float) -> None:
    parts = " · ".join(f"{k} {v:.1f}s" for k, v in timings.items())
    out.print(f"wall time {total:.1f}s: {parts}")
