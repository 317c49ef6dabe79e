"""Run a sweep on a Ray cluster, or on a private Ray instance on this machine.

Each (env, agent, seed) run is one Ray task that calls :func:`rlfloor.sweep.execute_run`
(one torch thread, exceptions turned into an error record). The driver, i.e. the process
that calls :func:`run_ray`, collects the outcomes with ``ray.wait`` as they finish and
writes them into the :class:`~rlfloor.sweep.RunStore` itself, so results and reports only
ever live on the driver's machine and a sweep can be resumed by either backend:

* a task that raises is recorded in ``error.json`` (it is not retried: the same seed would
  raise again);
* a task whose worker process or node dies is retried by Ray up to ``max_retries`` times,
  then recorded as failed with Ray's error;
* Ctrl-C cancels the tasks still running or queued; every result written so far stays.

Without an address, :func:`connect` starts a private single-machine instance: it listens
and talks on 127.0.0.1 only, sends no usage statistics and makes no cloud-metadata
requests (its processes, the tasks included, see an HTTP proxy on a closed local port).

Ray is an optional dependency (``pip install 'rlfloor[ray]'``); it is imported only here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from rlfloor.sweep import RunFn, RunSpec, RunStore, SweepSummary, _Progress, _record, execute_run

DEFAULT_RESOURCES: dict[str, Any] = {"num_cpus": 1}

# Environment of a private local instance, inherited by every process Ray starts.
_LOCAL_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # single machine: node address 127.0.0.1, nothing on the LAN
    "RAY_USAGE_STATS_ENABLED": "0",
    # Ray's API-server process asks cloud metadata endpoints which cloud it runs on, even with
    # usage stats off; a proxy on a closed loopback port makes those requests fail at once, locally.
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost,::1",
}
_POLL_SECONDS = 1.0  # ray.wait timeout: how often Ctrl-C is noticed at worst
_DEATHS = ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError")  # the worker died, Ray retried


def import_ray() -> Any:
    """Import Ray or fail with the install command."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            f"the Ray backend needs Ray, which is not importable ({error}): pip install 'rlfloor[ray]'"
        ) from error
    return ray


def ship_by_value(*modules: ModuleType) -> None:
    """Send these modules' code with every task instead of importing them on the workers.

    For modules that are not installed on the cluster nodes, e.g. a script's helper module
    next to it (``scripts/train.py``): their functions and classes are pickled by value.
    Modules they import must still be installed everywhere.
    """
    import_ray()
    from ray import cloudpickle

    for module in modules:
        cloudpickle.register_pickle_by_value(module)


@contextlib.contextmanager
def _private_instance_env() -> Iterator[None]:
    """Apply :data:`_LOCAL_ENV` while a local instance starts (its processes keep it)."""
    saved = {key: os.environ.get(key) for key in _LOCAL_ENV}
    os.environ.update(_LOCAL_ENV)
    # Ray reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER once, at import: set its copy too while starting.
    constants = sys.modules.get("ray._private.ray_constants")
    cluster_flag = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    if cluster_flag is not None:
        constants.ENABLE_RAY_CLUSTER = False  # type: ignore[union-attr]
    try:
        yield
    finally:
        if cluster_flag is not None:
            constants.ENABLE_RAY_CLUSTER = cluster_flag  # type: ignore[union-attr]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def connect(address: str | None = None) -> bool:
    """Connect this process to Ray; return True when this call did it (and ``ray.shutdown()`` undoes it).

    :param address: a cluster address (``"auto"`` finds the cluster started on this machine
        with ``ray start``; ``"ray://host:10001"`` uses Ray Client), or ``None`` to start a
        private local instance using every CPU Ray detects. If this process is connected
        already, that connection is used as it is and nothing happens (False).
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address is None:
        with _private_instance_env():
            ray.init(
                address="local",
                include_dashboard=False,
                logging_level=logging.ERROR,
                _node_ip_address="127.0.0.1",
            )
    else:
        ray.init(address=address, logging_level=logging.WARNING)
    return True


def _task_options(resources: dict[str, Any] | None, max_retries: int) -> dict[str, Any]:
    options = dict(DEFAULT_RESOURCES if resources is None else resources)
    options.setdefault("num_cpus", 1)
    for key in ("num_cpus", "num_gpus", "memory"):
        value = options.get(key, 0)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"ray resources: {key}={value!r} must be a number >= 0")
    if options["num_cpus"] <= 0:
        raise ValueError(f"ray resources: num_cpus={options['num_cpus']!r} must be > 0 (a run trains on one CPU)")
    # Ray retries a task whose worker died; a task that raised is not retried (it would raise again).
    return {**options, "max_retries": max_retries, "retry_exceptions": False}


def _check_feasible(ray: Any, options: dict[str, Any], local: bool) -> None:
    """A task no node can hold would wait forever: fail (local instance) or warn (cluster)."""
    needs = {"CPU": options["num_cpus"], "GPU": options.get("num_gpus", 0), "memory": options.get("memory", 0)}
    needs.update(options.get("resources") or {})
    needs = {name: amount for name, amount in needs.items() if amount}
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    if any(all(node.get(name, 0) >= amount for name, amount in needs.items()) for node in nodes):
        return
    largest = {name: max((node.get(name, 0) for node in nodes), default=0) for name in needs}
    message = f"no Ray node can run a task needing {needs}; the largest node has {largest}"
    if local:
        raise ValueError(message)
    warnings.warn(message + " (tasks wait until such a node joins)", RuntimeWarning, stacklevel=3)


def _run_task(run_fn: RunFn, spec: RunSpec, run_dir: str) -> dict[str, Any]:
    """The Ray task: one run, on whichever node Ray picked."""
    path = Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # the driver's folder can't exist on this node: keep the run's files (TensorBoard) local
        path = Path(tempfile.gettempdir()) / "rlfloor" / path.parent.parent.name / path.name
    outcome = execute_run(run_fn, spec, str(path))
    if outcome["status"] == "ok":
        outcome["result"].setdefault("host", socket.gethostname())
        outcome["result"].setdefault("run_dir", str(path))
    return outcome


def _outcome(ray: Any, ref: Any, max_retries: int) -> tuple[dict[str, Any], int]:
    """The outcome of a finished task and the number of attempts it took (as far as known)."""
    try:
        return ray.get(ref), 1
    except ray.exceptions.RayError as error:
        name = f"{type(error).__module__}.{type(error).__name__}"
        if type(error).__name__ in _DEATHS:
            attempts = max_retries + 1
            text = f"the worker died on all {attempts} attempts; last error:\n{name}: {error}"
            return {"status": "error", "traceback": text}, attempts
        return {"status": "error", "traceback": f"{name}: {error}"}, 1


def run_ray(
    specs: Sequence[RunSpec],
    run_fn: RunFn,
    store: RunStore,
    summary: SweepSummary,
    max_retries: int,
    progress: _Progress,
    address: str | None = None,
    resources: dict[str, Any] | None = None,
) -> None:
    """Ray backend of :func:`rlfloor.sweep.run_sweep`: one task per spec, results written here.

    :param specs: the runs still to do.
    :param run_fn: ``run_fn(spec, run_dir) -> dict``; it is pickled once (cloudpickle) and
        shared by all tasks. Modules it needs must be importable on every node, or shipped
        with :func:`ship_by_value`.
    :param store: the results folder (on this machine only).
    :param summary: filled in with each run's outcome.
    :param max_retries: extra attempts for a task whose worker process or node died.
    :param progress: progress bar, updated per finished run.
    :param address: Ray cluster address; ``None`` starts a private local instance (see :func:`connect`).
    :param resources: Ray resources per task, e.g. ``{"num_cpus": 1, "resources": {"big_mem": 1}}``
        (default ``{"num_cpus": 1}``).
    """
    if not specs:
        return
    options = _task_options(resources, max_retries)
    ray = import_ray()
    connected_here = connect(address)  # then disconnect at the end: stops the instance if it is a local one
    try:
        _check_feasible(ray, options, local=connected_here and address is None)
        task = ray.remote(**options)(_run_task)
        run_fn_ref = ray.put(run_fn)
        pending = {}
        for spec in specs:
            ref = task.options(name=spec.run_id).remote(run_fn_ref, spec, str(store.run_dir(spec).resolve()))
            pending[ref] = spec
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_SECONDS)
                for ref in ready:
                    spec = pending.pop(ref)
                    outcome, attempts = _outcome(ray, ref, max_retries)
                    _record(store, summary, spec, outcome, attempts)
                    progress.update(spec.run_id)
        except BaseException:  # Ctrl-C or a failure here: stop the cluster's work on this sweep
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
    finally:
        if connected_here:
            ray.shutdown()
