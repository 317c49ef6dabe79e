"""Where runs execute: one :class:`Backend` interface, and the local process-pool implementation.

A backend starts runs (:meth:`Backend.submit`) and hands back their outcomes as they finish
(:meth:`Backend.wait`); the driver loop in :mod:`rlfloor.experiment.sweep` does everything else
(locks, resume, records, retries), so every backend behaves the same. An outcome is a dict:
``{"status": "ok", "result": {...}}``, ``{"status": "error", "traceback": "..."}`` (the run raised, or its
worker died on every attempt Ray made: then ``"attempts"`` says how many), or ``{"status": "lost"}`` (the
worker process died; the driver retries the run on its own).

Workers never outlive the driver: :func:`bind_to_parent` (called in every worker before its first run)
asks Linux to SIGKILL the worker when its parent dies (``PR_SET_PDEATHSIG``) and starts a watchdog
thread that exits the worker as soon as its parent process changes (every platform). Nor do they outlast an
interrupt: :meth:`Backend.cancel` (the driver's Ctrl-C, even one sent to the driver process alone) stops the runs
in flight at once and hands back the outcomes of those that had finished, which the driver still records.
"""

from __future__ import annotations

import abc
import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from rlfloor.experiment.store import RunSpec

RunFn = Callable[[RunSpec, Path], dict[str, Any]]
"""One run: ``run_fn(spec, run_dir) -> results``; trains, writes its own logs into ``run_dir``."""

Outcome = dict[str, Any]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCHDOG_SECONDS = 0.5
_bound_pid: int | None = None


def bind_to_parent() -> None:
    """Make this process die with its parent (idempotent per process).

    On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` has the kernel kill this process when the parent
    dies, even by ``kill -9``; a daemon thread also polls ``os.getppid()`` and exits the process when
    the parent changes, which covers other platforms and a parent that died before the ``prctl``.
    """
    global _bound_pid
    if _bound_pid == os.getpid():
        return
    _bound_pid = os.getpid()
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died in between
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCHDOG_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="rlfloor-parent-watchdog", daemon=True).start()


def execute_run(run_fn: RunFn, spec: RunSpec, run_dir: str) -> Outcome:
    """Run one spec in a worker: one torch thread, exceptions turned into an error outcome."""
    try:
        import torch

        torch.set_num_threads(1)
        start = time.perf_counter()
        result = run_fn(spec, Path(run_dir))
        result.setdefault("wall_time", time.perf_counter() - start)
        return {"status": "ok", "result": result}
    except Exception:
        return {"status": "error", "traceback": traceback.format_exc()}


def stop_pool(executor: ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Shut ``executor`` down without letting its runs finish: queued ones are cancelled, and its worker
    processes get SIGTERM, then SIGKILL after ``grace`` seconds.

    ``shutdown(wait=False)`` alone leaves the workers training: the pool's manager thread (and the interpreter,
    at exit) waits for the runs in flight, whose results are then discarded. Python < 3.14 has no public
    ``terminate_workers()``, hence the pool's own process table (``_processes``).
    """
    processes: list[Any] = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0.0))
        if process.is_alive():
            process.kill()
            process.join(grace)
    if isinstance(manager, threading.Thread):
        manager.join(grace)  # it notices the dead workers, fails their futures and ends


class Backend(abc.ABC):
    """Runs specs somewhere and reports their outcomes; the driver owns everything else."""

    @property
    @abc.abstractmethod
    def capacity(self) -> int:
        """How many runs may be in flight at once (more are kept by the driver)."""

    @abc.abstractmethod
    def submit(self, spec: RunSpec, run_fn: RunFn, run_dir: Path) -> None:
        """Start ``spec`` (``run_fn`` may be pickled by reference: a module-level function or a partial)."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> list[tuple[RunSpec, Outcome]]:
        """Outcomes of the runs finished so far (possibly none after ``timeout`` seconds)."""

    @abc.abstractmethod
    def cancel(self) -> list[tuple[RunSpec, Outcome]]:
        """Stop every run in flight at once (Ctrl-C or an error in the driver); return the outcomes of the runs
        that had finished but were not collected yet (the driver records them: nothing finished is lost)."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release the backend's resources after the sweep."""


class LocalBackend(Backend):
    """A ``spawn`` process pool of ``workers`` processes, each bound to the driver's life.

    A worker that dies (segfault, out of memory, ``os._exit``) breaks the pool and every run in flight with
    it; those runs come back as ``"lost"`` and the pool is rebuilt for the next submission.
    """

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r} must be an integer >= 1")
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._futures: dict[Future[Outcome], RunSpec] = {}

    @property
    def capacity(self) -> int:
        """The number of worker processes."""
        return self.workers

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = get_context("spawn")  # no fork after torch/OpenMP state exists in the driver
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=bind_to_parent)
        return self._executor

    def submit(self, spec: RunSpec, run_fn: RunFn, run_dir: Path) -> None:
        """Queue ``spec`` on the pool."""
        self._futures[self._pool().submit(execute_run, run_fn, spec, str(run_dir))] = spec

    def wait(self, timeout: float) -> list[tuple[RunSpec, Outcome]]:
        """Collect finished futures; a broken pool turns its runs into ``"lost"`` outcomes."""
        if not self._futures:
            return []
        done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        out: list[tuple[RunSpec, Outcome]] = []
        broken = False
        for future in done:
            spec = self._futures.pop(future)
            try:
                out.append((spec, future.result()))
            except BrokenProcessPool:
                out.append((spec, {"status": "lost"}))
                broken = True
        if broken:
            for future, spec in list(self._futures.items()):  # every other run of the pool is lost too
                with_result = future.done() and future.exception() is None
                out.append((spec, future.result() if with_result else {"status": "lost"}))
            self._futures.clear()
            self.close()
        return out

    def cancel(self) -> list[tuple[RunSpec, Outcome]]:
        """Drop queued runs, end the worker processes (the runs in flight stop at once), and return the outcomes
        that had come back but were not collected yet."""
        executor, futures = self._executor, self._futures
        self._executor, self._futures = None, {}
        if executor is not None:
            stop_pool(executor)
        finished = [(spec, f) for f, spec in futures.items() if f.done() and not f.cancelled()]
        return [(spec, future.result()) for spec, future in finished if future.exception() is None]

    def close(self) -> None:
        """Shut the pool down."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


__all__ = ["Backend", "LocalBackend", "Outcome", "RunFn", "bind_to_parent", "execute_run", "stop_pool"]
