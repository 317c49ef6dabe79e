"""Run a grid of (env, agent, seed) training runs that loses nothing.

The grid is plain data (:class:`RunSpec`); the work of one run is any picklable
function ``run_fn(spec, run_dir) -> dict`` that trains, writes its own logs into
``run_dir`` and returns JSON-serializable results. This module only schedules it:

* every finished run is written atomically to ``runs/{run_id}/result.json`` by the
  driver process, so a crash or Ctrl-C never leaves a half-written result;
* a re-run skips runs whose ``result.json`` exists (resume) and retries failed ones;
* a run that raises is recorded in ``runs/{run_id}/error.json`` with its traceback
  while the others go on; a worker process that dies is retried a bounded number
  of times before it is recorded as failed;
* backends: ``"local"`` (a process pool, default) and ``"ray"`` (see :mod:`rlfloor.ray_backend`).

This module knows nothing of specific environments or agents.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

RunFn = Callable[["RunSpec", Path], dict[str, Any]]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid.

    :param env: environment name (a suite name or a gymnasium id).
    :param agent: agent preset name.
    :param seed: random seed of the run.
    :param timesteps: training budget in environment steps.
    :param options: extra JSON-serializable settings passed through to ``run_fn``.
    """

    env: str
    agent: str
    seed: int
    timesteps: int
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.timesteps <= 0:
            raise ValueError(f"timesteps={self.timesteps!r} must be a positive number of steps")
        if self.seed < 0:
            raise ValueError(f"seed={self.seed!r} must be >= 0")

    @property
    def run_id(self) -> str:
        """Folder name ``{env}__{agent}__s{seed}`` with path-unsafe characters replaced."""
        return f"{_UNSAFE.sub('-', self.env)}__{_UNSAFE.sub('-', self.agent)}__s{self.seed}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict`."""
        options = tuple(sorted(dict(data.get("options") or {}).items()))
        return cls(
            env=data["env"],
            agent=data["agent"],
            seed=int(data["seed"]),
            timesteps=int(data["timesteps"]),
            options=options,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in every result."""
        data = asdict(self)
        data["options"] = dict(self.options)
        return data


def grid(
    envs: Sequence[str],
    agents: Sequence[str],
    seeds: Iterable[int],
    timesteps: int | Callable[[str], int],
    options: dict[str, Any] | None = None,
) -> list[RunSpec]:
    """The full env x agent x seed grid.

    :param timesteps: one budget for all runs, or a function of the env name.
    :param options: extra settings attached to every run.
    """
    options = options or {}
    frozen = tuple(sorted(options.items()))
    seeds = list(seeds)
    specs = []
    for env in envs:
        budget = timesteps(env) if callable(timesteps) else timesteps
        for agent in agents:
            for seed in seeds:
                specs.append(RunSpec(env=env, agent=agent, seed=seed, timesteps=budget, options=frozen))
    return specs


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace`` (all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, default=_json_default)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


@dataclass
class RunStore:
    """The results folder: ``{root}/runs/{run_id}/`` per run.

    :param root: results folder; created if missing.
    """

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.runs_dir.mkdir(parents=True, exist_ok=True)

    @property
    def runs_dir(self) -> Path:
        """Folder holding one sub-folder per run."""
        return self.root / "runs"

    def run_dir(self, spec: RunSpec) -> Path:
        """The folder of one run (not created)."""
        return self.runs_dir / spec.run_id

    def result_path(self, spec: RunSpec) -> Path:
        """Where a finished run's results live."""
        return self.run_dir(spec) / "result.json"

    def error_path(self, spec: RunSpec) -> Path:
        """Where a failed run's traceback lives."""
        return self.run_dir(spec) / "error.json"

    def is_done(self, spec: RunSpec) -> bool:
        """True when the run finished before with the same settings."""
        path = self.result_path(spec)
        if not path.exists():
            return False
        try:
            stored = json.loads(path.read_text())["spec"]
        except (json.JSONDecodeError, KeyError):
            return False
        return bool(stored == spec.to_dict())

    def write_result(self, spec: RunSpec, result: dict[str, Any]) -> None:
        """Record a finished run (and clear an old error of the same run)."""
        write_json_atomic(self.result_path(spec), {"spec": spec.to_dict(), **result})
        self.error_path(spec).unlink(missing_ok=True)

    def write_error(self, spec: RunSpec, message: str, attempts: int) -> None:
        """Record a failed run with its traceback."""
        write_json_atomic(
            self.error_path(spec),
            {"spec": spec.to_dict(), "traceback": message, "attempts": attempts, "time": time.time()},
        )

    def results(self) -> list[dict[str, Any]]:
        """Every finished run's result, sorted by run folder."""
        out = []
        for path in sorted(self.runs_dir.glob("*/result.json")):
            try:
                out.append(json.loads(path.read_text()))
            except json.JSONDecodeError:
                continue  # never written by us half-way; ignore foreign junk
        return out

    def errors(self) -> list[dict[str, Any]]:
        """Every failed run's record, sorted by run folder."""
        return [json.loads(p.read_text()) for p in sorted(self.runs_dir.glob("*/error.json"))]


def execute_run(run_fn: RunFn, spec: RunSpec, run_dir: str) -> dict[str, Any]:
    """Run one spec in a worker: one torch thread, exceptions turned into an error record."""
    try:
        import torch

        torch.set_num_threads(1)
        start = time.perf_counter()
        result = run_fn(spec, Path(run_dir))
        result.setdefault("wall_time", time.perf_counter() - start)
        return {"status": "ok", "result": result}
    except Exception:
        return {"status": "error", "traceback": traceback.format_exc()}


@dataclass
class SweepSummary:
    """What a sweep did: run ids per outcome."""

    finished: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.finished)} finished, {len(self.skipped)} already done, {len(self.failed)} failed"


class _Progress:
    """A tqdm bar over the grid when tqdm is available and wanted."""

    def __init__(self, total: int, enabled: bool):
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="runs", unit="run", dynamic_ncols=True)

    def update(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _record(store: RunStore, summary: SweepSummary, spec: RunSpec, outcome: dict[str, Any], attempts: int) -> None:
    if outcome["status"] == "ok":
        store.write_result(spec, outcome["result"])
        summary.finished.append(spec.run_id)
    else:
        store.write_error(spec, outcome["traceback"], attempts)
        summary.failed.append(spec.run_id)


def _run_pool(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    summary: SweepSummary,
    workers: int,
    progress: _Progress,
    attempts: dict[str, int],
) -> list[RunSpec]:
    """Run ``specs`` on one process pool; return those lost when a worker process died."""
    lost: list[RunSpec] = []
    context = get_context("spawn")  # no fork after torch/OpenMP state exists in the driver
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures = {executor.submit(execute_run, run_fn, spec, str(store.run_dir(spec))): spec for spec in specs}
        for spec in specs:
            attempts[spec.run_id] += 1
        not_done: set[Future[dict[str, Any]]] = set(futures)
        while not_done:
            done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
            for future in done:
                spec = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    lost.append(spec)
                    continue
                _record(store, summary, spec, outcome, attempts[spec.run_id])
                progress.update(spec.run_id)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return lost


def run_local(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    summary: SweepSummary,
    workers: int,
    max_retries: int,
    progress: _Progress,
) -> None:
    """Process-pool backend.

    A worker process that dies (segfault, out of memory, ``os._exit``) breaks the whole
    pool, and every run in flight is lost with it, innocent or not. Those runs are then
    retried one at a time, each in a fresh single-process pool, so that a death is
    charged to the run that caused it: up to ``max_retries`` times (at least once).
    """
    attempts = {spec.run_id: 0 for spec in specs}
    lost = _run_pool(specs, run_fn, store, summary, workers, progress, attempts)
    for spec in lost:
        for _ in range(max(max_retries, 1)):
            if not _run_pool([spec], run_fn, store, summary, 1, progress, attempts):
                break
        else:
            message = f"worker process died on every attempt ({attempts[spec.run_id]}, the last ones in isolation)"
            _record(store, summary, spec, {"status": "error", "traceback": message}, attempts[spec.run_id])
            progress.update(spec.run_id)


def run_sweep(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    backend: str = "local",
    workers: int | None = None,
    max_retries: int = 2,
    progress: bool = True,
    ray_address: str | None = None,
    ray_resources: dict[str, float] | None = None,
) -> SweepSummary:
    """Run every spec not finished yet; return what happened.

    :param specs: the grid.
    :param run_fn: ``run_fn(spec, run_dir) -> dict`` doing one run; must be picklable
        (a module-level function).
    :param store: the results folder.
    :param backend: ``"local"`` (process pool) or ``"ray"``.
    :param workers: parallel runs for the local backend (default: number of CPUs).
    :param max_retries: extra attempts for a run whose worker process died (not for a run that raised).
    :param progress: show a progress bar over the grid.
    :param ray_address: Ray cluster address (``None`` starts a local Ray instance).
    :param ray_resources: resources per Ray task (default ``{"num_cpus": 1}``).
    """
    if backend not in ("local", "ray"):
        raise ValueError(f"backend={backend!r} is not one of 'local', 'ray'")
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers!r} must be >= 1")
    if max_retries < 0:
        raise ValueError(f"max_retries={max_retries!r} must be >= 0")
    ids = [spec.run_id for spec in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"the grid names these runs more than once: {duplicates}")
    summary = SweepSummary()
    todo = []
    for spec in specs:
        if store.is_done(spec):
            summary.skipped.append(spec.run_id)
        else:
            todo.append(spec)
    bar = _Progress(len(todo), progress and bool(todo))
    try:
        if backend == "local":
            run_local(todo, run_fn, store, summary, workers or os.cpu_count() or 1, max_retries, bar)
        else:
            from rlfloor.ray_backend import run_ray

            run_ray(todo, run_fn, store, summary, max_retries, bar, ray_address, ray_resources)
    finally:
        bar.close()
    return summary
