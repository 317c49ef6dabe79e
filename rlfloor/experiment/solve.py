"""Steps to solve: how soon a run reaches a score, counted in training steps and censored at the budget.

The definition (issue 18, item 3): the first training step at which the mean normalized score of the last
:data:`SOLVE_WINDOW` finished training episodes reaches :data:`SOLVE_THRESHOLD`; a run that never gets there counts
as its budget and is marked unsolved (right-censored). Pure functions, used by the run (which stores
``steps_to_solve`` and ``solved`` in its result) and by the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlfloor.checks import check_int

SOLVE_THRESHOLD = 0.9  # issue 18: "the mean normalized score of the last 100 finished training episodes reaches 0.9"
SOLVE_WINDOW = 100  # episodes; SB3's rollout/ep_rew_mean averages the same number (stats_window_size=100)


def steps_to_solve(
    episodes: Sequence[tuple[int, float]],
    random_return: float | None,
    optimal_return: float | None,
    budget: int,
    window: int = SOLVE_WINDOW,
    threshold: float = SOLVE_THRESHOLD,
) -> tuple[int, bool] | None:
    """The first training step at which the last ``window`` finished episodes score ``threshold`` on average.

    The score is the normalized mean return of the ``window`` most recent training episodes,
    ``(mean - random) / (optimal - random)``; it is looked at only once ``window`` episodes have finished (a
    lucky first episode never counts as a solve), after every episode, at the step that episode ended.

    :param episodes: ``(end step, return)`` of each finished training episode, in the order they ended.
    :param budget: the run's budget in env steps: an unsolved run counts as ``budget``, censored.
    :return: ``(steps, solved)``: ``(end step, True)`` when solved, ``(budget, False)`` otherwise; ``None`` without
        both references (a raw-return task has no score to reach).
    """
    check_int("window", window, 1)
    check_int("budget", budget, 1)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold={threshold!r} must be in (0, 1]")
    if random_return is None or optimal_return is None:
        return None
    if not optimal_return > random_return:
        raise ValueError(f"optimal reference {optimal_return!r} must exceed the random one {random_return!r}")
    returns = np.array([r for _, r in episodes], dtype=float)
    if len(returns) < window:
        return budget, False
    means = np.lib.stride_tricks.sliding_window_view(returns, window).mean(axis=1)
    scores = (means - random_return) / (optimal_return - random_return)
    reached = np.flatnonzero(scores >= threshold - 1e-12)  # a window of returns exactly at the threshold solves
    if not reached.size:
        return budget, False
    return int(episodes[int(reached[0]) + window - 1][0]), True


def solve_fields(episodes: Sequence[tuple[int, float, int]], env: Any, budget: int) -> dict[str, Any]:
    """``steps_to_solve`` and ``solved`` of a run's result (both ``None`` on a task without both references).

    :param episodes: ``(end step, return, length)`` of each training episode, as
        :class:`~rlfloor.experiment.run.EpisodeLog` collects them.
    :param env: has ``random_return`` and ``optimal_return`` (an :class:`~rlfloor.experiment.run.EnvLike`).
    """
    solve = steps_to_solve([(end, ret) for end, ret, _ in episodes], env.random_return, env.optimal_return, budget)
    return {"steps_to_solve": None if solve is None else solve[0], "solved": None if solve is None else solve[1]}


__all__ = ["SOLVE_THRESHOLD", "SOLVE_WINDOW", "solve_fields", "steps_to_solve"]
