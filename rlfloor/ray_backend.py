"""Deprecated location: the Ray backend moved to :mod:`rlfloor.experiment.ray_backend` (re-exported here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from rlfloor.experiment.backends import RunFn
from rlfloor.experiment.ray_backend import DEFAULT_RESOURCES, RayBackend, connect, import_ray
from rlfloor.experiment.store import RunSpec, RunStore
from rlfloor.experiment.sweep import Progress, SweepSummary, drive


def ship_by_value(*modules: ModuleType) -> None:
    """Send these modules' code with every task instead of importing them on the workers.

    Kept for users' code; rlfloor itself no longer needs it (its harness is installed with the package).
    """
    import_ray()
    from ray import cloudpickle

    for module in modules:
        cloudpickle.register_pickle_by_value(module)


def run_ray(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    summary: SweepSummary,
    max_retries: int,
    progress: Progress | None = None,
    address: str | None = None,
    resources: Mapping[str, Any] | None = None,
) -> None:
    """Run ``specs`` as Ray tasks (see :class:`rlfloor.experiment.ray_backend.RayBackend`)."""
    if not specs:
        return
    backend = RayBackend(address, resources, max_retries)
    try:
        drive(specs, run_fn, store, backend, summary, max_retries, progress)
    finally:
        backend.close()


__all__ = ["DEFAULT_RESOURCES", "connect", "import_ray", "run_ray", "ship_by_value"]
