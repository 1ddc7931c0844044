"""The whole pipeline, stage by stage: generate -> AWS -> produce -> sink -> load -> dbt -> reconcile.

:func:`run_pipeline` calls each stage's own importable function (nothing here re-implements a
stage), times every stage, and hands what each stage reported to
:func:`ecom.run.reconcile.reconcile`. Each stage returns a typed result that :class:`RunState`
keeps: :class:`Inputs`, :class:`AwsReady`, :class:`Warehouse`, :class:`FreshStart`,
:class:`Produced`, :class:`SinkOutcome`, the loader's ``LoadReport`` and, per dbt stage, a
``DbtResult`` (dbt runs in this process: :mod:`ecom.run.dbt_stage`). A stage that fails raises
:class:`StageFailed` naming it; counts that do not reconcile are reported by the checks
(``Reconciliation.diverged``).

Faults can be injected the way the stream tests do: ``on_client(service, client)`` is called
with every boto3 client the run creates, before it is used, so a botocore event hook can
throttle, duplicate or drop calls on the real clients.
"""

from __future__ import annotations

import calendar
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from ecom.blocks import Block
from ecom.errors import EcomError
from ecom.events import Event
from ecom.stream.produce import ProduceReport
from ecom.stream.producer import Producer, RetryPolicy
from ecom.stream.sink import SinkReport

if TYPE_CHECKING:
    from ecom.aws.session import Resources
    from ecom.load.core import LoadReport
    from ecom.pg.load import PostgresSettings
    from ecom.realtime.cli import RealtimeRun
    from ecom.run.dbt_stage import DbtResult

#: First-run defaults: a minute on a laptop, every mart non-trivial (five months, as REES46).
DEFAULT_EVENTS = 100_000
DEFAULT_MONTHS = 5
DEFAULT_START = date(2019, 10, 1)
#: Prefixes of the landing bucket that ``--fresh`` empties.
FRESH_PREFIXES = ("landing/", "quarantine/", "deadletter/", "manifests/")

#: Called with (stage, done, total or None, note) while a stage runs.
ProgressFn = Callable[[str, int, int | None, str], None]
#: Called with (service, client) for every boto3 client the run creates.
ClientHook = Callable[[str, Any], None]


@dataclass
class RunHooks:
    """Fault injection for ``ecom run`` (tests pass it as the click context's ``obj``)."""

    on_client: ClientHook | None = None


class StageFailed(EcomError):
    """A stage could not complete; ``stage`` names it."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"stage {stage} failed: {message}")
        self.stage = stage
        self.reason = message


@dataclass
class RunConfig:
    """What ``ecom run`` does. ``inputs`` empty means: generate ``events`` over ``months``."""

    events: int = DEFAULT_EVENTS
    months: int = DEFAULT_MONTHS
    inputs: tuple[Path, ...] = ()
    fresh: bool = False
    seed: int = 46
    data_dir: Path | None = None  # where generated files go; default $ECOM_HOME/run/events
    docs: bool = True
    sink_restarts: int = 3
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    db_path: Path | None = None
    warehouse: str = "duckdb"  # or "postgres" (ecom.pg.run)


@dataclass
class SinkOutcome:
    """Every sink attempt of one sink stage (a restart starts a new attempt from the checkpoints)."""

    attempts: list[SinkReport] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        """The distinct landing objects written (a replay after a restart rewrites the same key)."""
        return sorted({k for r in self.attempts for k in r.keys})

    @property
    def restarts(self) -> int:
        return len(self.failures)

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.attempts)

    @property
    def records(self) -> int:
        return sum(r.records for r in self.attempts)


@dataclass
class Inputs:
    """Stage generate: the CSV files to send, and the generator's ground truth if it covers exactly them."""

    files: list[Path]
    ground_truth: dict[str, Any] | None = None
    ground_truth_path: Path | None = None


@dataclass
class AwsReady:
    """Stage aws: the AWS the run uses and its stack's resources, with what an earlier run left
    in the stream landed first (``drained``)."""

    target: str  # Target.describe(): the emulator's endpoint or the real account's region
    resources: Resources
    drained: SinkOutcome

    @property
    def bucket(self) -> str:
        return self.resources.bucket


@dataclass
class Warehouse:
    """Where dbt builds and what the reconciliation reads: the DuckDB file, or with
    ``--warehouse postgres`` the server and the DuckDB copy of its tables."""

    db_path: Path
    postgres: PostgresSettings | None = None
    postgres_env: dict[str, str] = field(default_factory=dict)  # the postgres target's variables


@dataclass
class FreshStart:
    """Stage fresh: what ``--fresh`` emptied."""

    objects_deleted: int  # landing, quarantine, dead-letter and manifest objects
    metrics_deleted: int  # items of the live metrics table


@dataclass
class Produced:
    """Stage produce: the producer's report, and the id of every event it accepted."""

    report: ProduceReport
    sent_ids: bytearray  # 16-byte digests, one per accepted event


@dataclass
class RunState:
    """What every stage reported (None: the stage has not run), for the reconciliation and the
    JSON report. ``run_pipeline`` fills it stage by stage, so a failed run keeps what the
    finished stages reported."""

    config: RunConfig
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    timings: dict[str, float] = field(default_factory=dict)
    emulator_started: int | None = None  # pid of an emulator this run started (it keeps running)
    inputs: Inputs | None = None
    aws: AwsReady | None = None
    warehouse: Warehouse | None = None
    fresh: FreshStart | None = None
    produced: Produced | None = None
    sink: SinkOutcome | None = None
    realtime: RealtimeRun | None = None  # the stream processor of this run
    load: LoadReport | None = None
    dbt: dict[str, DbtResult] = field(default_factory=dict)  # by stage: dbt build, dbt docs


class _RecordingProducer(Producer):
    """The project's producer, also keeping the id of every event it accepts (16 bytes each)."""

    def __init__(self, *args: Any, ids: bytearray, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ids = ids

    def put(self, event: Event) -> None:
        self.ids += bytes.fromhex(event.event_id)
        super().put(event)

    def put_block(self, block: Block) -> None:
        if block.lines is not None and len(block.lines):
            # a landing line starts with the event's event_id (32 hex digits)
            hexes = pc.utf8_slice_codeunits(block.lines, 0, 32).to_pylist()
            self.ids += bytes.fromhex("".join(hexes))
        super().put_block(block)


def months_end(start: date, months: int) -> date:
    """The last day of the ``months``-th month from ``start``'s month."""
    index = start.year * 12 + start.month - 1 + months - 1
    year, month = divmod(index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


@contextmanager
def _stage(state: RunState, name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except StageFailed:
        raise
    except Exception as exc:
        raise StageFailed(name, f"{type(exc).__name__}: {exc}") from exc
    finally:
        state.timings[name] = round(time.perf_counter() - started, 3)


def run_pipeline(
    config: RunConfig,
    *,
    progress: ProgressFn | None = None,
    on_client: ClientHook | None = None,
    state: RunState | None = None,
) -> RunState:
    """Run every stage; returns what they reported. Raises :class:`StageFailed` naming a failed stage.

    Pass ``state`` to keep what the finished stages reported when a later one fails.
    """
    from ecom.aws import session
    from ecom.warehouse import duckdb_path

    state = state or RunState(config)
    notify: ProgressFn = progress or (lambda *_: None)

    def client(service: str) -> Any:
        made = session.client(service)
        if on_client is not None:
            on_client(service, made)
        return made

    with _stage(state, "generate"):
        inputs = state.inputs = _inputs(config, notify)

    with _stage(state, "aws"):
        aws = state.aws = _aws(config, client, notify, state)
    res = aws.resources

    if config.warehouse == "postgres":
        with _stage(state, "postgres"):
            warehouse = state.warehouse = _postgres(config, notify)
    else:
        warehouse = state.warehouse = Warehouse(config.db_path or duckdb_path())
    if config.fresh:
        with _stage(state, "fresh"):
            state.fresh = _fresh(res, warehouse, client, notify)

    with _stage(state, "produce"):
        state.produced = _produce(config, inputs, res, client, notify)

    with _stage(state, "sink"):
        state.sink = _sink(res, client, config.sink_restarts, notify, "sink")

    # The stream processor reads the same records as the sink (from its own position) while
    # the loader and dbt run; the run waits for it before reconciling.
    realtime = _start_realtime(res, client, config.sink_restarts, notify)
    state.realtime = realtime.run

    with _stage(state, "load"):
        state.load = _load(res, warehouse, client, notify)

    with _stage(state, "dbt build"):
        _dbt(state, warehouse, ["build"], "dbt build", notify)

    if warehouse.postgres is not None:
        with _stage(state, "snapshot"):
            from ecom.pg import run as pg_run

            notify("snapshot", 0, None, "copying PostgreSQL's tables for the reconciliation")
            tables = pg_run.snapshot(warehouse.postgres, warehouse.db_path)
            notify("snapshot", 1, 1, f"{tables} tables copied to {warehouse.db_path.name}")

    if config.docs:
        with _stage(state, "dbt docs"):
            _dbt(state, warehouse, ["docs", "generate"], "dbt docs", notify)

    with _stage(state, "realtime"):
        _wait_realtime(realtime, notify)
    return state


# -- stages -----------------------------------------------------------------------------------


def _inputs(config: RunConfig, notify: ProgressFn) -> Inputs:
    import json

    from ecom.generate import GROUND_TRUTH_FILE, GenerateConfig, generate
    from ecom.profile import expand_paths
    from ecom.warehouse import local_state_dir

    if config.inputs:
        inputs = Inputs(expand_paths(config.inputs))  # raises when it finds no CSV file
        # Ground truth only when every file comes from one generated directory that has it.
        folders = {f.parent for f in inputs.files}
        if len(folders) == 1:
            truth_path = next(iter(folders)) / GROUND_TRUTH_FILE
            if truth_path.exists():
                truth = json.loads(truth_path.read_text())
                if sorted(f["name"] for f in truth.get("files", [])) == sorted(
                    f.name for f in inputs.files
                ):
                    inputs.ground_truth, inputs.ground_truth_path = truth, truth_path
        notify("generate", 1, 1, f"{len(inputs.files)} input files")
        return inputs
    out = config.data_dir or local_state_dir() / "run" / "events"
    shutil.rmtree(out, ignore_errors=True)
    gen = GenerateConfig(
        out=out,
        start=DEFAULT_START,
        end=months_end(DEFAULT_START, config.months),
        events=config.events,
        seed=config.seed,
    )
    result = generate(gen, progress=lambda done, total, note: notify("generate", done, total, note))
    return Inputs([f.path for f in result.files], result.ground_truth, result.ground_truth_path)


def _aws(config: RunConfig, client: Any, notify: ProgressFn, state: RunState) -> AwsReady:
    """Reuse the AWS the session resolves to, or start the local emulator (its pid goes to
    ``state.emulator_started`` at once); deploy the stack if absent."""
    from ecom.aws import emulator, session

    notify("aws", 0, None, "resolving AWS")
    from ecom import settings

    if not settings.get().aws_endpoint_url and not session.wants_real_aws():
        emu = emulator.start()
        if emu.started:
            state.emulator_started = emu.pid
        notify("aws", 0, None, ("started" if emu.started else "reusing") + f" {emu.endpoint}")
        session.forget()
    target = session.target()
    if target.kind == "aws" and config.fresh:
        raise StageFailed(
            "aws", "--fresh empties the landing bucket; refusing to do that on real AWS"
        )
    try:
        res = session.resources(target)
    except session.AwsNotConfigured:
        if target.kind == "aws":
            raise
        notify("aws", 0, None, "deploying infra/template.yaml")
        emulator.deploy_stack()
        res = session.resources(target)
    if not res.metrics_table and target.kind != "aws":
        notify("aws", 0, None, "adding the metrics table (infra/template.yaml)")
        emulator.deploy_stack()
        res = session.resources(target)
    # Records an earlier run put but never sank are landed now, so that this run's
    # objects hold this run's records only (they are loaded with this run's objects).
    drained = _sink(res, client, config.sink_restarts, notify, "aws")
    notify("aws", 1, 1, target.describe())
    return AwsReady(target.describe(), res, drained)


def _fresh(res: Resources, warehouse: Warehouse, client: Any, notify: ProgressFn) -> FreshStart:
    notify("fresh", 0, None, "emptying the landing zone and the warehouse")
    deleted = _empty_landing(client("s3"), res.bucket)
    _remove_warehouse(warehouse.db_path)
    metrics_deleted = _reset_realtime(res, client)
    if warehouse.postgres is not None:
        from ecom.pg import run as pg_run

        pg_run.empty(warehouse.postgres)
    notify("fresh", 1, 1, f"{deleted:,} objects deleted")
    return FreshStart(deleted, metrics_deleted)


@dataclass
class _RealtimeThread:
    run: RealtimeRun
    thread: Any
    errors: list[BaseException]


def _start_realtime(
    res: Resources, client: Any, restarts: int, notify: ProgressFn
) -> _RealtimeThread:
    """Run the stream processor until caught up in a thread; a poller that dies (AWS
    unreachable) is restarted from its checkpoints, ``restarts`` times, like the sink."""
    import threading

    from botocore.exceptions import BotoCoreError, ClientError

    from ecom.realtime.cli import make_realtime
    from ecom.realtime.poller import merge_reports

    if not res.metrics_table:
        raise StageFailed(
            "realtime", "the stack has no metrics table (redeploy infra/template.yaml)"
        )

    def report(p: Any) -> None:
        r = run.processor.report
        notify("realtime", 0, None, f"{r.applied:,} events applied ({p.invocations:,} batches)")

    run = make_realtime(client, res, progress=report)
    errors: list[BaseException] = []

    def work() -> None:
        poller, failures = run.poller, 0
        try:
            while True:
                try:
                    poller.run(until_caught_up=True)
                    break
                except (BotoCoreError, ClientError):
                    failures += 1
                    if failures > restarts:
                        raise
                    notify("realtime", 0, None, "the processor died; restarting at its checkpoints")
                finally:
                    if poller is not run.poller:
                        merge_reports(run.poller.report, poller.report)
                poller = make_realtime(client, res, progress=report).poller
                poller.handler = run.processor
        except BaseException as exc:  # reported by _wait_realtime
            errors.append(exc)

    thread = threading.Thread(target=work, name="ecom-realtime", daemon=True)
    thread.start()
    return _RealtimeThread(run, thread, errors)


def _wait_realtime(realtime: _RealtimeThread, notify: ProgressFn) -> None:
    realtime.thread.join()
    if realtime.errors:
        exc = realtime.errors[0]
        raise StageFailed("realtime", f"{type(exc).__name__}: {exc}") from exc
    notify("realtime", 1, 1, "caught up")


def _reset_realtime(res: Resources, client: Any) -> int:
    """--fresh: the processor's position to the end of every shard, the metrics table emptied."""
    from ecom.realtime.poller import Poller
    from ecom.realtime.store import clear_table

    if not res.metrics_table:
        return 0
    Poller.on(client, res, handler=lambda _event, _context: {"batchItemFailures": []}).run(
        until_caught_up=True
    )
    return clear_table(client("dynamodb"), res.metrics_table)


def _empty_landing(s3: Any, bucket: str) -> int:
    deleted = 0
    for prefix in FRESH_PREFIXES:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
    return deleted


def _remove_warehouse(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _produce(
    config: RunConfig, inputs: Inputs, res: Resources, client: Any, notify: ProgressFn
) -> Produced:
    from ecom.stream.produce import produce_files

    s3 = client("s3")
    sent_ids = bytearray()
    producer = _RecordingProducer(
        client("kinesis"),
        res.stream,
        s3=s3,
        bucket=res.bucket,
        retry=config.retry,
        ids=sent_ids,
    )
    total = sum(f.stat().st_size for f in inputs.files)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        notify("produce", done, total, f"{len(sent_ids) // 16:,} events")

    report = produce_files(inputs.files, producer, s3=s3, bucket=res.bucket, progress=advance)
    return Produced(report, sent_ids)


def _sink(
    res: Resources,
    client: Any,
    restarts: int,
    notify: ProgressFn,
    stage: str,
) -> SinkOutcome:
    """Sink until caught up; a sink that dies is restarted from its checkpoints (``restarts`` times)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ecom.stream.sink import Sink

    outcome = SinkOutcome()
    landed_before = 0

    def report(r: SinkReport) -> None:
        notify(stage, 0, None, f"{landed_before + r.events:,} events landed ({r.objects} objects)")

    while True:
        sink = Sink.on(client, res, progress=report)
        try:
            sink.run(until_caught_up=True)
        except (BotoCoreError, ClientError) as exc:
            outcome.attempts.append(sink.report)
            outcome.failures.append(f"{type(exc).__name__}: {exc}")
            if len(outcome.failures) > restarts:
                raise StageFailed(
                    stage, f"the sink failed {len(outcome.failures)} times; last: {exc}"
                ) from exc
            notify(stage, 0, None, "sink died; restarting from the DynamoDB checkpoints")
            landed_before += sink.report.events
            continue
        outcome.attempts.append(sink.report)
        return outcome


def _postgres(config: RunConfig, notify: ProgressFn) -> Warehouse:
    """--warehouse postgres: find or start the server; reconciliation reads a DuckDB copy."""
    from ecom.pg import run as pg_run
    from ecom.warehouse import local_state_dir

    notify("postgres", 0, None, "finding PostgreSQL")
    settings, env, how = pg_run.run_server()
    db_path = config.db_path or local_state_dir() / "run" / "postgres-copy.duckdb"
    notify("postgres", 1, 1, how)
    return Warehouse(db_path, settings, env)


def _load(res: Resources, warehouse: Warehouse, client: Any, notify: ProgressFn) -> LoadReport:
    def progress(done: int, total: int | None, note: str) -> None:
        notify("load", done, total, note)

    if warehouse.postgres is not None:
        from ecom.pg.load import load_postgres

        return load_postgres(
            res.bucket, client=client("s3"), settings=warehouse.postgres, progress=progress
        )
    from ecom.load.duck import load_duckdb

    return load_duckdb(
        res.bucket, client=client("s3"), db_path=warehouse.db_path, progress=progress
    )


def _dbt(
    state: RunState, warehouse: Warehouse, args: list[str], stage: str, notify: ProgressFn
) -> None:
    """Run dbt in this process with the project's profiles, its console lines in a log file;
    its result goes to ``state.dbt[stage]`` (also when it fails)."""
    from ecom.run.dbt_stage import run_dbt_in_process
    from ecom.warehouse import dbt_env, local_state_dir

    env = dbt_env()
    env["ECOM_DUCKDB_PATH"] = str(warehouse.db_path)
    if warehouse.postgres is not None:
        env.update(warehouse.postgres_env)
        env["DBT_TARGET"] = "postgres"
    log_path = local_state_dir() / "run" / f"{stage.replace(' ', '-')}.log"
    notify(stage, 0, None, "starting dbt")
    result = state.dbt[stage] = run_dbt_in_process(
        args,
        env=env,
        log_path=log_path,
        progress=lambda done, total, note: notify(stage, done, total, note),
    )
    if not result.success:
        raise StageFailed(
            stage,
            f"dbt {' '.join(args)} failed (exit code {result.exit_code}): "
            f"{result.failure_detail()} (log: {log_path})",
        )
