"""Schedules: values over progress, validation, pickling (they are saved with models)."""

from __future__ import annotations

import math
import pickle

import pytest

from rlfloor.schedules import ConstantSchedule, LinearSchedule, as_schedule, schedule_bounds


def test_linear_schedule_values() -> None:
    schedule = LinearSchedule(0.1, 0.0, end_fraction=0.5)
    assert schedule(1.0) == pytest.approx(0.1)
    assert schedule(0.75) == pytest.approx(0.05)
    assert schedule(0.5) == pytest.approx(0.0)
    assert schedule(0.0) == pytest.approx(0.0)
    assert schedule_bounds(schedule) == (0.0, 0.1)


def test_constant_and_callables() -> None:
    assert as_schedule(0.3)(0.2) == 0.3
    assert isinstance(as_schedule(1), ConstantSchedule)
    fn = lambda p: p / 10  # noqa: E731
    assert as_schedule(fn) is fn
    assert schedule_bounds(fn) is None


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda: LinearSchedule(0.1, 0.0, end_fraction=0.0),
            r"end_fraction=0\.0 is outside the allowed range \(0, 1\]",
        ),
        (lambda: LinearSchedule(math.nan, 0.0), r"start=nan is outside the allowed range \(-inf, inf\)"),
        (lambda: ConstantSchedule(math.inf), r"value=inf is outside the allowed range"),
        (lambda: LinearSchedule("0.1", 0.0), r"^start='0\.1' must be a number in \(-inf, inf\)$"),  # type: ignore[arg-type]
        (lambda: LinearSchedule(0.1, None), r"^end=None must be a number"),  # type: ignore[arg-type]
        (lambda: as_schedule("0.1"), r"^schedule='0\.1' must be a number or a callable"),  # type: ignore[arg-type]
    ],
)
def test_bad_schedules_are_rejected(factory: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory()  # type: ignore[operator]


def test_schedules_pickle() -> None:
    schedule = LinearSchedule(0.2, 0.01, 0.8)
    assert pickle.loads(pickle.dumps(schedule)) == schedule


def test_schedules_are_checked_over_the_whole_run_at_construction() -> None:
    """A schedule that leaves its range anywhere (not only at its ends) fails before training."""
    from rlfloor.callbacks import EntropyScheduleCallback, IntrinsicRewardCallback
    from rlfloor.schedules import check_schedule, schedule_values

    with pytest.raises(ValueError, match=r"^ent_coef=-0\.05 is outside the allowed range \[0, inf\)"):
        EntropyScheduleCallback(LinearSchedule(0.05, -0.05))
    dips = lambda p: 0.1 - 0.8 * p * (1 - p)  # noqa: E731  (0.1 at both ends, -0.1 in the middle)
    assert min(schedule_values(dips)) < 0 < dips(0.0) and dips(1.0) > 0
    with pytest.raises(ValueError, match="takes this value during training"):
        check_schedule("coef", dips, 0.0)
    with pytest.raises(ValueError, match=r"^coef=-0\.002\d* is outside"):
        IntrinsicRewardCallback(method="count", coef=dips)
