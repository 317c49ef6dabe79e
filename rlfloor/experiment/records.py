"""What a finished run's record must hold before anything reuses it or reports it (issue 22, item 2).

A ``result.json`` is trusted only if it agrees with itself: every field a reader uses is there with the right
type (finite where a number must be), it names the run of the folder it sits in and the settings it was keyed
by, and every number derived from other numbers it stores is recomputed and compared. A record that fails is
reported in :attr:`~rlfloor.experiment.store.RunStore.problems` and its run retrained; the reports read only
records that pass (:meth:`~rlfloor.experiment.store.RunStore.finished`).

One check per record kind, passed to the store (``RunStore(root, check=...)``):

* :func:`check_run_record` -- a run of :func:`rlfloor.experiment.run.train_run` (``rlfloor-compare``);
* ``rlfloor_cli.scaling.check_scaling_record`` -- a bsuite deep_sea scaling run; it starts with
  :func:`check_run_fields`, the part every harness run shares.

Each raises :class:`RecordError` (a ``ValueError``) whose one-line message names the field and what is wrong.
Numbers are compared with a relative tolerance of :data:`RELATIVE_TOLERANCE`: JSON round-trips a float exactly,
so this only forgives a recomputation that sums in another order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rlfloor.experiment.solve import SOLVE_WINDOW
from rlfloor.experiment.store import RecordError, RunSpec, record_spec

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12

ScoreFn = Callable[[float, float, float], float]
"""``score(mean_return, random_return, optimal_return)``: the env package's normalized score (for the suite,
``envs.scoring.normalized_score``), which the run's env used; NaN for a NaN return."""

_MISSING = object()


def require(record: Mapping[str, Any], name: str, kinds: type | tuple[type, ...]) -> Any:
    """``record[name]``, which must exist and be of ``kinds`` (``bool`` is not an ``int`` here)."""
    value = record.get(name, _MISSING)
    if value is _MISSING:
        raise RecordError(f"no {name!r}")
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise RecordError(f"{name}={value!r} is not a {_kind_name(kinds)}")
    if not isinstance(value, kinds):
        raise RecordError(f"{name}={value!r} is not a {_kind_name(kinds)}")
    return value


def _kind_name(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in (kinds if isinstance(kinds, tuple) else (kinds,)))


def require_int(record: Mapping[str, Any], name: str, low: int | None = None) -> int:
    """``record[name]``, an integer (not a bool) ``>= low``."""
    value: int = require(record, name, int)
    if low is not None and value < low:
        raise RecordError(f"{name}={value!r} is below {low}")
    return value


def as_number(name: str, value: Any, finite: bool = True) -> float:
    """``value`` as a float: a JSON number (not a bool), finite, or also NaN when ``finite`` is False."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{name}={value!r} is not a number")
    number = float(value)
    if math.isinf(number) or (finite and math.isnan(number)):
        raise RecordError(f"{name}={value!r} must be {'finite' if finite else 'a finite number or NaN'}")
    return number


def require_number(record: Mapping[str, Any], name: str, finite: bool = True) -> float:
    """``record[name]`` as a float (see :func:`as_number`)."""
    if name not in record:
        raise RecordError(f"no {name!r}")
    return as_number(name, record[name], finite)


def agree(name: str, stored: Any, expected: Any, source: str = "recomputed from the record's own data") -> None:
    """``stored`` must equal ``expected`` (taken from ``source``): numbers within the tolerance, NaN only where
    NaN is expected, anything else exactly (types included: ``1`` is not ``True``)."""
    if isinstance(expected, float) and not isinstance(stored, bool) and isinstance(stored, int | float):
        value = float(stored)
        if math.isnan(expected) and math.isnan(value):
            return
        if math.isfinite(expected) and math.isfinite(value):
            scale = max(abs(value), abs(expected))
            if abs(value - expected) <= max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * scale):
                return
    elif type(stored) is type(expected) and stored == expected:
        return
    raise RecordError(f"{name}={stored!r} disagrees with {expected!r}, {source}")


def nan_mean(values: Sequence[float]) -> float:
    """Mean of the non-NaN values; NaN when there is none (as ``np.nanmean``, without its warning)."""
    known = [v for v in values if not math.isnan(v)]
    return float(np.mean(known)) if known else math.nan


@dataclasses.dataclass(frozen=True)
class RunFields:
    """What :func:`check_run_fields` found: the parts of a record that the kind checks build on."""

    spec: RunSpec
    settings: Mapping[str, Any]
    """The resolved settings the run was keyed by (:meth:`rlfloor.experiment.run.Plan.key_settings`)."""
    references: tuple[float, float] | None
    """``(random_return, optimal_return)`` the run was scored with; ``None``: raw returns."""
    episodes: int
    trained_steps: int


def _section(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = settings.get(name)
    if not isinstance(section, dict):
        raise RecordError(f"settings hold no {name!r} section")
    return section


def check_run_fields(record: Mapping[str, Any]) -> RunFields:
    """The fields every harness run records (:func:`rlfloor.experiment.run.train_run`), checked.

    The run's names, seed and budget agree with its ``spec`` and with the settings it was keyed by; the counts
    are non-negative integers; ``steps_per_second`` is ``trained_steps / wall_time``; ``steps_to_solve`` and
    ``solved`` (absent in records written before they existed) agree with each other, with the budget and
    with the references (:mod:`rlfloor.experiment.solve`: none without both references; a solve needs
    :data:`~rlfloor.experiment.solve.SOLVE_WINDOW` episodes; an unsolved run counts as its budget).

    :raises RecordError: naming the first field that is missing, of the wrong type or contradicted.
    """
    spec = record_spec(record)
    for name, value in (("env", spec.env), ("agent", spec.agent), ("seed", spec.seed), ("timesteps", spec.timesteps)):
        agree(name, record.get(name), value, "the record's spec")
    settings = require(record, "settings", dict)
    run, env = _section(settings, "run"), _section(settings, "env")
    agree("settings.run.seed", run.get("seed"), spec.seed, "the record's spec")
    agree("settings.run.timesteps", run.get("timesteps"), spec.timesteps, "the record's spec")
    agree("settings.env.name", env.get("name"), spec.env, "the record's spec")
    low, high = env.get("random_return"), env.get("optimal_return")
    references = None
    if low is not None and high is not None:
        references = (as_number("settings.env.random_return", low), as_number("settings.env.optimal_return", high))
        if not references[1] > references[0]:
            raise RecordError(f"settings.env: optimal reference {high!r} does not exceed the random one {low!r}")
    episodes = require_int(record, "episodes", 0)
    trained_steps = require_int(record, "trained_steps", 0)
    wall_time = require_number(record, "wall_time")
    if not wall_time > 0:
        raise RecordError(f"wall_time={wall_time!r} must be positive")
    agree("steps_per_second", require_number(record, "steps_per_second"), trained_steps / wall_time)
    _check_solve(record, spec.timesteps, references is not None, episodes, trained_steps)
    return RunFields(spec, settings, references, episodes, trained_steps)


def _check_solve(record: Mapping[str, Any], budget: int, scored: bool, episodes: int, trained_steps: int) -> None:
    if "steps_to_solve" not in record and "solved" not in record:
        return  # written before steps to solve were stored: the report shows n/a
    if not scored:  # a raw-return task has no score to reach
        agree("steps_to_solve", record.get("steps_to_solve"), None, "the run has no references")
        agree("solved", record.get("solved"), None, "the run has no references")
        return
    solved = require(record, "solved", bool)
    steps = require_int(record, "steps_to_solve", 1)
    if not solved:
        agree("steps_to_solve", steps, budget, "the budget of an unsolved run")  # censored
    elif episodes < SOLVE_WINDOW or steps > trained_steps:
        raise RecordError(
            f"solved at step {steps} with {episodes} episodes in {trained_steps} steps: a solve needs "
            f"{SOLVE_WINDOW} finished episodes, within the steps trained"
        )


def check_run_record(record: Mapping[str, Any], score: ScoreFn) -> None:
    """A record of :func:`rlfloor.experiment.run.train_run`, as the sweep stored it: usable by every report.

    On top of :func:`check_run_fields`: the learning curve has ``settings.run.curve_points`` points at the
    budget's equal steps, its returns all finite (or all NaN: no episode), each point's score is the score of
    its return; ``final_score`` is the score of ``final_return``; ``auc_return`` / ``auc_score`` are the means
    of the curve; ``eval_return`` / ``eval_score`` are there exactly when evaluation episodes were asked for.

    :param score: the env package's score function (see :data:`ScoreFn`), e.g. ``envs.scoring.normalized_score``.
    :raises RecordError: naming the first field that is missing, of the wrong type or contradicted.
    """
    fields = check_run_fields(record)
    run = _section(fields.settings, "run")

    def scored(value: float) -> float:
        return math.nan if fields.references is None else float(score(value, *fields.references))

    points = require_int(run, "curve_points", 1)
    curve = require(record, "curve", dict)
    steps, returns, scores = (require(curve, name, list) for name in ("steps", "return", "score"))
    for name, values in (("steps", steps), ("return", returns), ("score", scores)):
        if len(values) != points:
            raise RecordError(f"curve.{name} has {len(values)} points, the settings ask for {points}")
    edges = np.linspace(0, fields.spec.timesteps, points + 1)[1:]
    curve_returns = [as_number(f"curve.return[{i}]", value, finite=False) for i, value in enumerate(returns)]
    unknown = [math.isnan(value) for value in curve_returns]
    if any(unknown) and not all(unknown):  # empty bins repeat a known value: NaN only when no bin has one
        raise RecordError("curve.return mixes NaN and numbers")
    if fields.episodes == 0 and not all(unknown):
        raise RecordError("curve.return holds returns, but the run had no episode")
    for i in range(points):
        agree(f"curve.steps[{i}]", as_number(f"curve.steps[{i}]", steps[i]), float(edges[i]))
        agree(f"curve.score[{i}]", as_number(f"curve.score[{i}]", scores[i], finite=False), scored(curve_returns[i]))
    final_return = require_number(record, "final_return", finite=False)
    if fields.episodes == 0 and not math.isnan(final_return):
        raise RecordError(f"final_return={final_return!r} without any episode")
    agree("final_score", require_number(record, "final_score", finite=False), scored(final_return))
    any_episode = fields.episodes > 0
    auc_return = nan_mean(curve_returns) if any_episode else math.nan
    auc_score = nan_mean([scored(value) for value in curve_returns]) if any_episode else math.nan
    agree("auc_return", require_number(record, "auc_return", finite=False), auc_return)
    agree("auc_score", require_number(record, "auc_score", finite=False), auc_score)
    if require_int(run, "eval_episodes", 0) > 0:
        eval_return = require_number(record, "eval_return")
        agree("eval_score", require_number(record, "eval_score", finite=False), scored(eval_return))
    elif "eval_return" in record or "eval_score" in record:
        raise RecordError("eval_return recorded, but the settings ask for no evaluation episodes")


__all__ = [
    "ABSOLUTE_TOLERANCE",
    "RELATIVE_TOLERANCE",
    "RecordError",
    "RunFields",
    "ScoreFn",
    "agree",
    "as_number",
    "check_run_fields",
    "check_run_record",
    "nan_mean",
    "require",
    "require_int",
    "require_number",
]
