"""The comparison harness: run grids of (env, agent, seed) training runs and report on them.

Nothing in the library imports this package; it imports no env or preset either (the caller passes
resolvers, see :mod:`rlfloor.experiment.run`).

* :mod:`~rlfloor.experiment.store` -- the results folder: one atomic writer, runs keyed by their
  resolved settings, file locks;
* :mod:`~rlfloor.experiment.records` -- the check of a run's record before it is reused or reported;
* :mod:`~rlfloor.experiment.run` -- the unit of work: plan a run once (every check, before any work), train
  it, score it, write the run;
* :mod:`~rlfloor.experiment.backends` -- the backend interface and the local process pool;
* :mod:`~rlfloor.experiment.ray_backend` -- the Ray backend (optional ``ray`` extra);
* :mod:`~rlfloor.experiment.sweep` -- the driver loop: resume, locks, crash isolation, retries;
* :mod:`~rlfloor.experiment.cli` -- what the commands (:mod:`rlfloor_cli`) share: the sweep flags, the printed
  sweep, one-line refusals;
* :mod:`~rlfloor.experiment.references` -- measured random references, cached in the results folder;
* :mod:`~rlfloor.experiment.report` -- rliable statistics, Markdown tables and figures (``report`` extra).
"""

from rlfloor.experiment.backends import Backend, LocalBackend, bind_to_parent, execute_run
from rlfloor.experiment.run import Planner, RunSettings, plan, plan_spec, run_spec, train_run
from rlfloor.experiment.store import RunSpec, RunStore, atomic_path, grid, write_json_atomic, write_text_atomic
from rlfloor.experiment.sweep import SweepSummary, make_backend, run_sweep

__all__ = [
    "Backend",
    "LocalBackend",
    "Planner",
    "RunSettings",
    "RunSpec",
    "RunStore",
    "SweepSummary",
    "atomic_path",
    "bind_to_parent",
    "execute_run",
    "grid",
    "make_backend",
    "plan",
    "plan_spec",
    "run_spec",
    "run_sweep",
    "train_run",
    "write_json_atomic",
    "write_text_atomic",
]
