"""Each shard's batches in a process of its own, as on AWS each shard's batches go to a
Lambda container of their own.

The local event source mapping (:mod:`ecom.realtime.poller`) reads every shard from one
process, and the handler's work (decoding, validating, aggregating) is Python code: one
interpreter runs one thread's Python at a time, so two shards in threads compute one after
the other. :class:`ShardWorkers` is a handler that sends each batch to a worker process
(the shards in turn, one worker per core by default), where a
:class:`ecom.realtime.handler.Processor` of its own handles it; the shards then compute at
once on as many cores.

Nothing here is needed for exactly once: that holds in the table (each event's id, each
shard's position), whichever process applies a batch. A worker that dies is a container
that crashed: the call raises, the mapping redelivers the batch (events the worker applied
already are recognised by their ids), and a new worker takes it.

Workers are forked, not spawned: a spawned worker imports boto3 and the project again and
loads DynamoDB's service model (0.6 s and 0.5 CPU-s each, measured), a quarter of the
whole run over 100k events; a forked one has them already. They are forked when the
handler is made, before the mapping starts its threads.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ecom.realtime.decode import shard_of
from ecom.realtime.handler import Processor, ProcessReport


class WorkerFailed(RuntimeError):
    """A worker process died, or its handler raised (a function error to the mapping)."""


def can_fork() -> bool:
    """Worker processes need ``fork`` (Linux; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def default_processes() -> int:
    """One worker per core this process may use; 0 (the handler in this process) where
    processes cannot be forked or there is one core."""
    if not can_fork():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0


def peak_memory() -> int:
    """This process's peak resident memory in bytes (VmHWM; 0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _serve(conn: Connection, make: Callable[[], Processor]) -> None:
    """A worker's life: build its processor, then handle batches until told to stop."""
    # Ctrl-C is the mapping's to handle (it stops after the current batch); the worker ends
    # when the mapping stops it or goes away
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    processor = make()
    # what the worker inherited and its clients live as long as it does: out of the collector's
    # sight, a collection neither walks them nor copies their pages (they stay shared)
    gc.freeze()
    # a batch makes ~100,000 objects (events, entries) that die together when it ends, by their
    # reference counts: the collector's default pass every 700 allocations only walks them.
    # 50,000: the processor took 1.64 s against 1.84 s on 100k events (medians of 5 pairs)
    gc.set_threshold(50_000, 20, 20)
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return
        if event is None:
            conn.send(("stopped", peak_memory(), None))
            return
        processor.report = ProcessReport()  # each answer carries its own call's counts
        try:
            response: Any = processor(event, None)
            status = "ok"
        except Exception as exc:  # a function error: the mapping bisects and retries
            response, status = f"{type(exc).__name__}: {exc}", "error"
        conn.send((status, response, processor.report))


@dataclass
class _Worker:
    process: Any  # multiprocessing's ForkProcess
    conn: Connection


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    worker: _Worker | None = None


class ShardWorkers:
    """A handler (``handler(event, context)``) that hands each batch to its shard's worker.

    ``make`` builds a worker's processor, in the worker (with clients of its own: a client's
    connections are not shared between processes). ``report`` adds up every worker's calls.
    """

    def __init__(self, make: Callable[[], Processor], *, processes: int) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        if not can_fork():
            raise RuntimeError("worker processes need fork(); run the handler in this process")
        self.make = make
        self.report = ProcessReport()
        self.peak_memory: list[int] = []  # of each worker stopped by close(), in bytes
        self.started = 0  # worker processes started (a dead one is replaced)
        self._context = multiprocessing.get_context("fork")
        self._lock = threading.Lock()
        self._shards: dict[str, int] = {}
        self._slots = [_Slot() for _ in range(processes)]
        for slot in self._slots:
            slot.worker = self._start()

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(theirs, self.make), name="ecom-realtime-worker", daemon=True
        )
        process.start()
        theirs.close()  # so that a worker's death ends the pipe
        with self._lock:
            self.started += 1
        return _Worker(process, ours)

    def _slot(self, shard_id: str) -> _Slot:
        """The shard's worker: the shards take the workers in turn, in the order they come."""
        with self._lock:
            index = self._shards.setdefault(shard_id, len(self._shards) % len(self._slots))
        return self._slots[index]

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids."""
        return [s.worker.process.pid for s in self._slots if s.worker is not None]

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        records = event.get("Records") or []
        if not records:
            return {"batchItemFailures": []}
        slot = self._slot(shard_of(records[0]))  # a mapping's batch is one shard's records
        with slot.lock:
            if slot.worker is None:
                slot.worker = self._start()
            worker = slot.worker
            try:
                worker.conn.send(event)
                status, response, report = worker.conn.recv()
            except (EOFError, OSError) as exc:  # it died: a new worker takes the redelivery
                slot.worker = None
                self._end(worker)
                code = worker.process.exitcode
                raise WorkerFailed(f"the worker process died (exit code {code})") from exc
        with self._lock:
            self.report.add(report)
        if status != "ok":
            raise WorkerFailed(str(response))
        return dict(response)

    def close(self) -> None:
        """Stop the workers (each tells its peak memory); a later call starts new ones."""
        for slot in self._slots:
            with slot.lock:
                worker, slot.worker = slot.worker, None
                if worker is None:
                    continue
                try:
                    worker.conn.send(None)
                    status, peak, _ = worker.conn.recv()
                    if status == "stopped":
                        self.peak_memory.append(int(peak))
                except (EOFError, OSError):
                    pass
                self._end(worker)

    @staticmethod
    def _end(worker: _Worker) -> None:
        worker.conn.close()
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
