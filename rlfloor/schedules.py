"""Schedules over training progress.

SB3 expresses progress as ``progress_remaining``: 1.0 at the start of ``learn()``
and 0.0 at the end. A schedule here is any callable ``progress_remaining -> value``;
the two classes below are picklable (so they survive ``model.save()``) and print
readably in configs and logs.

Where rlfloor's callbacks evaluate a schedule: one clock, :class:`RunProgress`, for every schedule
rlfloor drives (the floor, the entropy coefficient, the intrinsic coefficient). It differs from SB3's
own ``_current_progress_remaining`` (which SB3's learning-rate and clip-range schedules read) on a
continued ``learn()``, where SB3 restarts part-way:

* **Sampling.** The floor is set before each rollout and the entropy coefficient before each
  update. The first rollout (update) of a run uses the schedule's value at progress 1 (``start``)
  and the last one its value at progress 0 (``end``, exactly), linearly in environment steps in
  between; after ``learn()`` the end value stays in force.
* **Continuation.** ``learn(..., reset_num_timesteps=False)`` continues the schedule where the
  previous call left it and never goes back: a schedule that finished holds its end value, and
  one stopped early (a callback returned False) anneals what is left over the new call's steps.
  A fresh ``learn()`` (``reset_num_timesteps=True``, SB3's default) starts the schedule again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlfloor.checks import check_int, check_number

ScheduleLike = float | Callable[[float], float]


@dataclass(frozen=True)
class ConstantSchedule:
    """The same value for the whole run.

    :param value: the value returned at every point of training.
    """

    value: float

    def __post_init__(self) -> None:
        check_number("value", self.value)

    def __call__(self, progress_remaining: float) -> float:
        return self.value


@dataclass(frozen=True)
class LinearSchedule:
    """Linear interpolation from ``start`` to ``end``, then constant at ``end``.

    With rlfloor's callbacks the first rollout of a run uses ``start`` and the last one ``end``
    exactly; ``learn(..., reset_num_timesteps=False)`` continues from where the schedule stopped
    (see the module docstring).

    :param start: value at the start of training (``progress_remaining == 1``).
    :param end: value reached once ``end_fraction`` of training has elapsed.
    :param end_fraction: fraction of training, in (0, 1], over which to anneal.
    """

    start: float
    end: float
    end_fraction: float = 1.0

    def __post_init__(self) -> None:
        check_number("start", self.start)
        check_number("end", self.end)
        check_number("end_fraction", self.end_fraction, 0.0, 1.0, low_open=True)

    def __call__(self, progress_remaining: float) -> float:
        elapsed = 1.0 - progress_remaining
        if elapsed >= self.end_fraction:
            return self.end
        return self.start + (self.end - self.start) * elapsed / self.end_fraction


def as_schedule(value: ScheduleLike) -> Callable[[float], float]:
    """Turn a number into a :class:`ConstantSchedule`; return callables unchanged.

    :param value: a number, a schedule object or any callable of ``progress_remaining``.
    :raises ValueError: if ``value`` is neither a finite number nor callable.
    """
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"schedule={value!r} must be a number or a callable of progress_remaining")
    return ConstantSchedule(float(value))


def schedule_bounds(schedule: Callable[[float], float]) -> tuple[float, float] | None:
    """The values a schedule can take, when they are known without evaluating it everywhere.

    Constant and linear schedules are monotone, so their endpoints bound them; for an
    arbitrary callable ``None`` is returned and each value is checked as it comes into force.
    """
    if isinstance(schedule, ConstantSchedule):
        return schedule.value, schedule.value
    if isinstance(schedule, LinearSchedule):
        return min(schedule.start, schedule.end), max(schedule.start, schedule.end)
    return None


SCHEDULE_CHECK_POINTS = 101
"""Points of progress (``1, 0.99, ..., 0``) at which a schedule of unknown shape is checked before training."""


def schedule_values(schedule: Callable[[float], float]) -> list[float]:
    """The values a schedule takes, for checking it before training: its bounds when known (constant,
    linear), else its values at :data:`SCHEDULE_CHECK_POINTS` evenly spaced points of progress."""
    bounds = schedule_bounds(schedule)
    if bounds is not None:
        return list(bounds)
    return [float(schedule(1.0 - i / (SCHEDULE_CHECK_POINTS - 1))) for i in range(SCHEDULE_CHECK_POINTS)]


def check_schedule(
    name: str, schedule: Callable[[float], float], low: float | None = None, high: float | None = None, **open_: bool
) -> None:
    """Raise a one-line ``ValueError`` if the schedule leaves ``[low, high]`` anywhere over training (see
    :func:`schedule_values`; ``low_open``/``high_open`` as in :func:`rlfloor.checks.check_number`)."""
    for value in schedule_values(schedule):
        try:
            check_number(name, value, low, high, **open_)
        except ValueError as error:
            raise ValueError(f"{error} (the schedule {schedule!r} takes this value during training)") from None


class RunProgress:
    """Schedule progress of rlfloor's callbacks across ``learn()`` calls (see the module docstring).

    Call :meth:`start` from a callback's ``_on_training_start`` and :meth:`at` at each rollout or
    update. Within one call, progress falls linearly in environment steps from the value it resumes
    at (1 for a fresh run) to exactly 0 at the last rollout, whose first step SB3 fixes: rollouts
    of ``n_steps * n_envs`` steps run while ``num_timesteps < total_timesteps``.
    """

    def __init__(self) -> None:
        self._model_id: int | None = None
        self._resume = 1.0
        self._first = 0
        self._span = 0
        self.last = 1.0

    def begin(self, model: Any, learn_locals: dict[str, Any]) -> None:
        """Begin a ``learn()`` call from a callback's ``_on_training_start`` (``learn_locals``: its ``self.locals``,
        which hold ``learn()``'s ``total_timesteps`` and ``reset_num_timesteps``)."""
        total = int(learn_locals.get("total_timesteps", model.num_timesteps))
        self.start(model, total, bool(learn_locals.get("reset_num_timesteps", True)))

    def start(self, model: Any, total_timesteps: int, reset_num_timesteps: bool = True) -> None:
        """Begin a ``learn()`` call.

        :param model: the on-policy algorithm (its ``num_timesteps``, ``n_steps`` and ``n_envs``).
        :param total_timesteps: the call's target ``num_timesteps`` (learn()'s ``total_timesteps``
            after SB3's ``_setup_learn``, which adds the earlier steps when continuing).
        :param reset_num_timesteps: ``learn()``'s argument of that name.
        """
        check_int("total_timesteps", int(total_timesteps), 0)
        now = int(model.num_timesteps)
        continuing = not reset_num_timesteps and now > 0
        if not continuing:
            self._resume = 1.0
        elif self._model_id == id(model):
            self._resume = self.last
        else:  # a loaded model continued: its schedule ran to the end in the call that saved it
            self._resume = 0.0
        self._model_id = id(model)
        rollout = max(int(getattr(model, "n_steps", 1)) * int(getattr(model, "n_envs", 1)), 1)
        remaining = max(int(total_timesteps) - now, 0)
        n_rollouts = max(math.ceil(remaining / rollout), 1)
        self._first = now
        self._span = (n_rollouts - 1) * rollout  # first step of the last rollout, from the call's start
        self.last = self._resume

    def at(self, num_timesteps: int) -> float:
        """Progress remaining for the rollout (or update) that starts at ``num_timesteps`` of this call."""
        if self._span <= 0:
            value = self._resume
        else:
            done = min(max(num_timesteps - self._first, 0) / self._span, 1.0)
            value = self._resume * (1.0 - done)
        self.last = value
        return value
