"""Schedules over training progress.

SB3 expresses progress as ``progress_remaining``: 1.0 at the start of ``learn()``
and 0.0 at the end. A schedule here is any callable ``progress_remaining -> value``;
the two classes below are picklable (so they survive ``model.save()``) and print
readably in configs and logs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

ScheduleLike = float | Callable[[float], float]


@dataclass(frozen=True)
class ConstantSchedule:
    """The same value for the whole run.

    :param value: the value returned at every point of training.
    """

    value: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"ConstantSchedule value must be finite, got {self.value!r}")

    def __call__(self, progress_remaining: float) -> float:
        return self.value


@dataclass(frozen=True)
class LinearSchedule:
    """Linear interpolation from ``start`` to ``end``, then constant at ``end``.

    :param start: value at the start of training (``progress_remaining == 1``).
    :param end: value reached once ``end_fraction`` of training has elapsed.
    :param end_fraction: fraction of training, in (0, 1], over which to anneal.
    """

    start: float
    end: float
    end_fraction: float = 1.0

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"LinearSchedule {name} must be finite, got {value!r}")
        if not (0.0 < self.end_fraction <= 1.0):
            raise ValueError(f"LinearSchedule end_fraction must be in (0, 1], got {self.end_fraction!r}")

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
        raise ValueError(f"expected a number or a callable of progress_remaining, got {value!r}")
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
