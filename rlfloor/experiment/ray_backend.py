"""The Ray :class:`~rlfloor.experiment.backends.Backend`: runs on a cluster or on a private local instance.

Each run is one Ray task calling :func:`~rlfloor.experiment.backends.execute_run`; the driver collects the
outcomes with ``ray.wait`` and writes them into the results folder itself, so results and reports only
ever live on the driver's machine and a sweep can be resumed by either backend:

* a task that raises is recorded in ``error.json`` (not retried: the same seed would raise again);
* a task whose worker process or node dies is retried by Ray up to ``max_retries`` times, then recorded
  as failed with Ray's error;
* Ctrl-C (to the process group or to the driver alone) force-cancels the tasks still running or queued, which
  stop at once; every result written so far stays, and so does a result that came back meanwhile.

The run function travels to the workers by reference (a module-level function, or a
``functools.partial`` over such functions): the modules it names must be installed on every node, as
``rlfloor``, ``envs`` and ``agents`` are by ``pip install``; :func:`ship_by_value` sends the code of a
module the nodes cannot import (a user's own script) with every task.

Without an address, :func:`connect` starts a private single-machine instance: its node address is
127.0.0.1, it sends no usage statistics and makes no cloud-metadata requests (its processes, the tasks
included, see an HTTP proxy on a closed local port). Ray starts its own processes so that they die with
the driver, and every task binds its worker to its parent (:func:`~rlfloor.experiment.backends.bind_to_parent`).

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
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from rlfloor.checks import import_optional
from rlfloor.experiment.backends import Backend, Outcome, RunFn, bind_to_parent, execute_run
from rlfloor.experiment.store import RunSpec

DEFAULT_RESOURCES: dict[str, Any] = {"num_cpus": 1}

LOCAL_ENV = {
    # Read by every process Ray starts (at its import of ray): single machine, nothing on the LAN.
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    # Ray's API-server process asks cloud metadata endpoints which cloud it runs on, even with
    # usage stats off; a proxy on a closed loopback port makes those requests fail at once, locally.
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost,::1",
}
"""Environment of a private local instance, inherited by every process Ray starts."""

LOOPBACK = "127.0.0.1"
_DEATHS = ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError")  # the worker died, Ray retried


def import_ray() -> Any:
    """Import Ray or fail with the install command."""
    return import_optional("ray", "ray", "the Ray backend")


def ship_by_value(*modules: ModuleType) -> None:
    """Send these modules' code with every Ray task instead of importing them on the workers.

    For a run function defined in a module the cluster's nodes cannot import (a user's own script on a
    multi-machine cluster); rlfloor's own modules are installed with the package and need no shipping.
    """
    import_ray()
    from ray import cloudpickle

    for module in modules:
        cloudpickle.register_pickle_by_value(module)


@contextlib.contextmanager
def _private_instance_env() -> Iterator[None]:
    """Apply :data:`LOCAL_ENV` while a local instance starts (its processes keep it), then restore."""
    saved = {key: os.environ.get(key) for key in LOCAL_ENV}
    os.environ.update(LOCAL_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _check_loopback(ray: Any) -> None:
    """Refuse to start a local instance that would listen on the LAN address (Ray imported without the switch)."""
    with _private_instance_env():
        address = ray.util.get_node_ip_address()
    if address != LOOPBACK:
        raise ValueError(
            f"Ray was imported before rlfloor could keep a local instance on {LOOPBACK} (it would use {address}): "
            "set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before importing ray, or let rlfloor import it first"
        )


def connect(address: str | None = None) -> bool:
    """Connect this process to Ray; return True when this call did it (and ``ray.shutdown()`` undoes it).

    :param address: a cluster address (``"auto"`` finds the cluster started on this machine with
        ``ray start``; ``"ray://host:10001"`` uses Ray Client), or ``None`` to start a private local
        instance on 127.0.0.1 using every CPU Ray detects. If this process is connected already, that
        connection is used as it is and nothing happens (False).
    :raises ValueError: for a local instance when Ray was imported before without
        ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray reads that switch once, at import (rlfloor sets it while
        it imports Ray itself), and the instance would otherwise use the machine's LAN address.
    """
    if address is None and "ray" not in sys.modules:
        with _private_instance_env():  # Ray reads the single-machine switch once, when it is imported
            import_ray()
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address is None:
        _check_loopback(ray)
        with _private_instance_env():
            # The node address is given, so the driver never looks up its LAN address.
            ray.init(address="local", include_dashboard=False, logging_level=logging.ERROR, _node_ip_address=LOOPBACK)
    else:
        ray.init(address=address, logging_level=logging.WARNING)
    return True


def task_options(resources: Mapping[str, Any] | None, max_retries: int) -> dict[str, Any]:
    """Ray task options from per-run resources; ``ValueError`` for an impossible request."""
    options = dict(DEFAULT_RESOURCES if resources is None else resources)
    options.setdefault("num_cpus", 1)
    for key in ("num_cpus", "num_gpus", "memory"):
        value = options.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"ray resources: {key}={value!r} must be a number >= 0")
    if options["num_cpus"] <= 0:
        raise ValueError(f"ray resources: num_cpus={options['num_cpus']!r} must be > 0 (a run trains on one CPU)")
    # Ray retries a task whose worker died; a task that raised is not retried (it would raise again).
    return {**options, "max_retries": max_retries, "retry_exceptions": False}


def _check_feasible(ray: Any, options: Mapping[str, Any], local: bool) -> None:
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


def run_task(run_fn: RunFn, spec: RunSpec, run_dir: str) -> Outcome:
    """The Ray task: one run, on whichever node Ray picked, in a worker bound to its parent."""
    bind_to_parent()
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


class RayBackend(Backend):
    """Runs each spec as a Ray task; connects on creation and disconnects on :meth:`close` if it connected.

    :param address: Ray cluster address; ``None`` starts a private local instance (see :func:`connect`).
    :param resources: Ray resources per task, e.g. ``{"num_cpus": 1, "resources": {"big_mem": 1}}``.
    :param max_retries: extra attempts for a task whose worker process or node died.
    """

    def __init__(
        self, address: str | None = None, resources: Mapping[str, Any] | None = None, max_retries: int = 2
    ) -> None:
        self.max_retries = max_retries
        self._options = task_options(resources, max_retries)
        self._connected_here = connect(address)  # imports Ray (configured for a local instance if need be)
        self._ray = import_ray()
        try:
            _check_feasible(self._ray, self._options, local=self._connected_here and address is None)
        except BaseException:
            self.close()
            raise
        self._task = self._ray.remote(**self._options)(run_task)
        self._pending: dict[Any, RunSpec] = {}
        self._fn_refs: dict[int, tuple[RunFn, Any]] = {}

    @property
    def capacity(self) -> int:
        """Unbounded: Ray queues the tasks and schedules them on the cluster."""
        return 1 << 30

    def submit(self, spec: RunSpec, run_fn: RunFn, run_dir: Path) -> None:
        """Start the task (the run function is put into Ray's object store once)."""
        if id(run_fn) not in self._fn_refs:
            self._fn_refs[id(run_fn)] = (run_fn, self._ray.put(run_fn))
        fn_ref = self._fn_refs[id(run_fn)][1]
        ref = self._task.options(name=spec.run_id).remote(fn_ref, spec, str(run_dir.resolve()))
        self._pending[ref] = spec

    def wait(self, timeout: float) -> list[tuple[RunSpec, Outcome]]:
        """Outcomes of finished tasks."""
        if not self._pending:
            return []
        ready, _ = self._ray.wait(list(self._pending), num_returns=1, timeout=timeout)
        return [(self._pending.pop(ref), self._outcome(ref)) for ref in ready]

    def _outcome(self, ref: Any) -> Outcome:
        try:
            outcome: Outcome = self._ray.get(ref)
            return outcome
        except self._ray.exceptions.RayError as error:
            name = f"{type(error).__module__}.{type(error).__name__}"
            if type(error).__name__ in _DEATHS:
                attempts = self.max_retries + 1
                text = f"the worker died on all {attempts} attempts; last error:\n{name}: {error}"
                return {"status": "error", "traceback": text, "attempts": attempts}
            return {"status": "error", "traceback": f"{name}: {error}"}

    def cancel(self) -> list[tuple[RunSpec, Outcome]]:
        """Return the outcomes of the tasks finished but not collected yet, and force-cancel the others (their
        worker processes are killed: a run in flight stops at once)."""
        pending, self._pending = self._pending, {}
        finished: list[tuple[RunSpec, Outcome]] = []
        with contextlib.suppress(Exception):
            ready, _ = self._ray.wait(list(pending), num_returns=len(pending), timeout=0)
            finished = [(pending[ref], self._outcome(ref)) for ref in ready]
            for ref in ready:
                del pending[ref]
        for ref in pending:
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)
        return finished

    def close(self) -> None:
        """Disconnect (stopping the instance if this backend started it)."""
        if self._connected_here:
            self._ray.shutdown()
            self._connected_here = False


__all__ = [
    "DEFAULT_RESOURCES",
    "LOCAL_ENV",
    "RayBackend",
    "connect",
    "import_ray",
    "run_task",
    "ship_by_value",
    "task_options",
]
