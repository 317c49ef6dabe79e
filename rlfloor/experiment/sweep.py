"""Run a grid of (env, agent, seed) runs that loses nothing and never runs twice.

The grid is plain data (:class:`~rlfloor.experiment.store.RunSpec`); the work of one run is any picklable
``run_fn(spec, run_dir) -> dict`` (e.g. a ``functools.partial`` over :func:`rlfloor.experiment.run.run_spec`).
:func:`run_sweep` schedules it on a :class:`~rlfloor.experiment.backends.Backend` and does the rest itself:

* every finished run is written atomically by the driver into ``runs/{run_id}/result.json``, with the
  content key of its resolved settings; a re-run reuses exactly the runs whose key is unchanged and
  retrains (and names) the ones whose settings changed;
* a run is trained under its ``runs/{run_id}/.lock``: two sweeps on one folder never train the same run
  (the second waits for the first and then reuses its result);
* a run that raises is recorded in ``error.json`` with its traceback while the others go on; a run whose
  worker process dies is retried alone, up to ``max_retries`` times (0: not at all, even when another run
  broke the process pool), before it is recorded as failed;
* a corrupt result or error file is reported (:attr:`SweepSummary.problems`) and the run retrained.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from filelock import BaseFileLock, Timeout

from rlfloor.checks import check_choice, check_int
from rlfloor.experiment.backends import Backend, LocalBackend, Outcome, RunFn
from rlfloor.experiment.store import RunSpec, RunStore

BACKENDS = ("local", "ray")
POLL_SECONDS = 1.0  # how often the driver looks at outcomes (and notices Ctrl-C) at worst


@dataclass
class SweepSummary:
    """What a sweep did: run ids per outcome."""

    finished: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Runs with a stored result of other settings (retrained)."""
    problems: list[str] = field(default_factory=list)
    """Corrupt files met (their runs were retrained)."""

    def __str__(self) -> str:
        text = f"{len(self.finished)} finished, {len(self.skipped)} already done, {len(self.failed)} failed"
        return text + (f", {len(self.changed)} retrained with changed settings" if self.changed else "")


class Progress:
    """A tqdm bar over the grid when wanted."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Any = None
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="runs", unit="run", dynamic_ncols=True)

    def update(self, label: str) -> None:
        """One more run done."""
        if self.bar is not None:
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def make_backend(
    backend: str,
    workers: int | None = None,
    max_retries: int = 2,
    ray_address: str | None = None,
    ray_resources: Mapping[str, Any] | None = None,
) -> Backend:
    """The backend called ``backend`` (``"local"`` or ``"ray"``)."""
    check_choice("backend", backend, BACKENDS)
    if backend == "local":
        return LocalBackend(workers or os.cpu_count() or 1)
    from rlfloor.experiment.ray_backend import RayBackend

    return RayBackend(ray_address, ray_resources, max_retries)


class _Driver:
    """The loop shared by every backend: locks, resume checks, records, isolation of dying runs."""

    def __init__(
        self, store: RunStore, backend: Backend, run_fn: RunFn, summary: SweepSummary, retries: int, bar: Progress
    ) -> None:
        self.store, self.backend, self.run_fn, self.summary = store, backend, run_fn, summary
        self.retries, self.bar = retries, bar
        self.locks: dict[str, BaseFileLock] = {}
        self.attempts: dict[str, int] = {}
        self.in_flight: dict[str, RunSpec] = {}

    def _claim(self, spec: RunSpec, blocking: bool) -> bool:
        """Take the run's lock; False when another process holds it (non-blocking) or has finished it."""
        lock = self.store.run_lock(spec)
        try:
            lock.acquire(timeout=-1 if blocking else 0)
        except Timeout:
            return False
        if self.store.is_done(spec):  # finished by another sweep meanwhile
            lock.release()
            self.summary.skipped.append(spec.run_id)
            self.bar.update(spec.run_id)
            return False
        self.locks[spec.run_id] = lock
        return True

    def _start(self, spec: RunSpec) -> None:
        self.attempts[spec.run_id] = self.attempts.get(spec.run_id, 0) + 1
        self.in_flight[spec.run_id] = spec
        self.backend.submit(spec, self.run_fn, self.store.run_dir(spec))

    def _record(self, spec: RunSpec, outcome: Outcome) -> None:
        if outcome["status"] == "ok":
            self.store.write_result(spec, outcome["result"])
            self.summary.finished.append(spec.run_id)
        else:
            attempts = int(outcome.get("attempts", self.attempts.get(spec.run_id, 1)))
            self.store.write_error(spec, outcome["traceback"], attempts)
            self.summary.failed.append(spec.run_id)
        self.locks.pop(spec.run_id).release()
        self.bar.update(spec.run_id)

    def run(self, todo: Sequence[RunSpec]) -> None:
        queue = deque(todo)
        deferred: deque[RunSpec] = deque()  # held by another process
        suspects: deque[RunSpec] = deque()  # their worker died: retried one at a time
        while queue or deferred or suspects or self.in_flight:
            while queue and not suspects and len(self.in_flight) < self.backend.capacity:
                spec = queue.popleft()
                if self._claim(spec, blocking=False):
                    self._start(spec)
                elif spec.run_id not in self.summary.skipped:
                    deferred.append(spec)
            if not self.in_flight and suspects:
                self._start(suspects.popleft())
            if not self.in_flight and not queue and not suspects and deferred:
                spec = deferred.popleft()  # nothing else to do: wait for the other sweep
                if self._claim(spec, blocking=True):
                    self._start(spec)
            for spec, outcome in self.backend.wait(POLL_SECONDS):
                del self.in_flight[spec.run_id]
                if outcome["status"] != "lost":
                    self._record(spec, outcome)
                elif self.attempts[spec.run_id] <= self.retries:
                    suspects.append(spec)  # perhaps innocent (another run broke the pool): retry alone
                else:
                    attempts = self.attempts[spec.run_id]
                    message = (
                        f"worker process died on every attempt ({attempts}, the last ones in isolation)"
                        if attempts > 1
                        else "worker process died (max_retries=0: not retried)"
                    )
                    self._record(spec, {"status": "error", "traceback": message})

    def stop(self) -> None:
        """Stop the backend's runs at once (an interrupt); record those that finished meanwhile."""
        for spec, outcome in self.backend.cancel():
            if spec.run_id in self.in_flight and outcome["status"] != "lost":
                del self.in_flight[spec.run_id]
                self._record(spec, outcome)

    def release(self) -> None:
        for lock in self.locks.values():
            lock.release(force=True)
        self.locks.clear()


def drive(
    todo: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    backend: Backend,
    summary: SweepSummary,
    max_retries: int = 2,
    progress: Progress | None = None,
) -> None:
    """Run ``todo`` on ``backend`` with the driver loop of :func:`run_sweep` (locks, records, retries).

    Fills ``summary``; if interrupted (Ctrl-C, even to the driver process alone) or failing, stops the backend's
    runs at once, records the ones that had finished, and re-raises; does not close the backend.
    """
    driver = _Driver(store, backend, run_fn, summary, max_retries, progress or Progress(0, False))
    try:
        driver.run(todo)
    except BaseException:
        driver.stop()
        raise
    finally:
        driver.release()


def run_sweep(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    backend: str = "local",
    workers: int | None = None,
    max_retries: int = 2,
    progress: bool = True,
    ray_address: str | None = None,
    ray_resources: Mapping[str, Any] | None = None,
) -> SweepSummary:
    """Run every spec not finished with the same settings yet; return what happened.

    :param specs: the grid (each spec's ``settings`` decides whether a stored result is reused).
    :param run_fn: ``run_fn(spec, run_dir) -> dict`` doing one run; picklable by reference.
    :param store: the results folder.
    :param backend: ``"local"`` (process pool) or ``"ray"``.
    :param workers: parallel runs for the local backend (default: number of CPUs).
    :param max_retries: extra attempts for a run whose worker process died (not for a run that raised).
    :param progress: show a progress bar over the grid.
    :param ray_address: Ray cluster address (``None`` starts a private local Ray instance).
    :param ray_resources: resources per Ray task (default ``{"num_cpus": 1}``).
    """
    check_choice("backend", backend, BACKENDS)
    if workers is not None:
        check_int("workers", workers, 1)
    check_int("max_retries", max_retries, 0)
    ids = [spec.run_id for spec in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"the grid names these runs more than once: {duplicates}")
    summary = SweepSummary()
    todo = []
    for spec in specs:
        status = store.status(spec)
        if status == "done":
            summary.skipped.append(spec.run_id)
            continue
        if status == "changed":
            summary.changed.append(spec.run_id)
        todo.append(spec)
    if todo:
        runner = make_backend(backend, workers, max_retries, ray_address, ray_resources)
        bar = Progress(len(todo), progress)
        try:
            drive(todo, run_fn, store, runner, summary, max_retries, bar)
        finally:
            runner.close()
            bar.close()
    summary.problems = list(store.problems)
    return summary


__all__ = ["BACKENDS", "Progress", "SweepSummary", "drive", "make_backend", "run_sweep"]
