"""Deprecated location: the sweep runner moved to :mod:`rlfloor.experiment` (this module re-exports it)."""

from __future__ import annotations

from collections.abc import Sequence

from rlfloor.experiment.backends import LocalBackend, RunFn, execute_run
from rlfloor.experiment.store import RunSpec, RunStore, grid, write_json_atomic
from rlfloor.experiment.sweep import Progress, SweepSummary, drive, run_sweep


def run_local(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    summary: SweepSummary,
    workers: int,
    max_retries: int,
    progress: Progress | None = None,
) -> None:
    """Run ``specs`` on a local process pool (see :func:`rlfloor.experiment.sweep.drive`)."""
    backend = LocalBackend(workers)
    try:
        drive(specs, run_fn, store, backend, summary, max_retries, progress)
    finally:
        backend.close()


__all__ = ["RunFn", "RunSpec", "RunStore", "SweepSummary", "execute_run", "grid", "run_local", "run_sweep"]
__all__ += ["write_json_atomic"]
