"""Normalized scores: how a run on any suite task is turned into a number in [0, 1].

Every task has two reference returns, stated in :mod:`envs.suite` and, for the rlfloor environments,
computed exactly by the environment itself (``env.unwrapped.random_return`` / ``optimal_return``):

* ``random_return`` -- expected episode return of the uniform-random policy (uniform over *valid* actions
  where actions can be invalid);
* ``optimal_return`` -- expected episode return of an optimal policy (or, for standard control tasks, a
  stated "solved" level).

The score of a return ``R`` is ``clip((R - random_return) / (optimal_return - random_return), 0, 1)``.

How to score a run from its logs
--------------------------------
1. Collect the undiscounted episode returns of the window you care about (e.g. the last 100 training
   episodes, or all evaluation episodes). SB3's ``Monitor`` writes them to ``monitor.csv`` (column ``r``).
2. Average them **first**, then normalize: ``score_returns(returns, random_return, optimal_return)``.
   Averaging per-episode scores instead is biased upwards by the clipping: in a bandit where a pull pays
   1 or 0, a random policy's per-pull scores are 1 or 0 and average to ``1/K`` instead of 0.
3. The rlfloor environments also put the episode's own score in ``info["score"]`` on the step that ends the
   episode; that is ``normalized_score`` of the episode return (of the noise-free return for the stochastic
   DeepSea). It is convenient for logging single episodes; for a run, use step 2.

For the non-stationary bandit, score the *training* episodes: a separate evaluation env starts at phase 0
of the switch schedule and does not see the switches the learner had to recover from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def _check_reference(random_return: float, optimal_return: float) -> None:
    if not (math.isfinite(random_return) and math.isfinite(optimal_return)):
        raise ValueError(
            f"reference returns must be finite, got random_return={random_return!r}, optimal_return={optimal_return!r}"
        )
    if not optimal_return > random_return:
        raise ValueError(
            f"optimal_return must be greater than random_return, got optimal_return={optimal_return!r} "
            f"<= random_return={random_return!r}"
        )


def normalized_score(episode_return: float, random_return: float, optimal_return: float) -> float:
    """Map one return to ``[0, 1]``: 0 at (or below) the random policy, 1 at (or above) the optimum."""
    _check_reference(random_return, optimal_return)
    value = (float(episode_return) - random_return) / (optimal_return - random_return)
    return float(min(1.0, max(0.0, value)))


def score_returns(returns: Iterable[float], random_return: float, optimal_return: float) -> float:
    """Score of a run: normalize the *mean* of its episode returns (see the module docstring)."""
    values = np.asarray(list(returns), dtype=np.float64)
    if values.size == 0:
        raise ValueError("score_returns needs at least one episode return, got none")
    if not np.isfinite(values).all():
        raise ValueError(f"episode returns must be finite, got {values[~np.isfinite(values)][:5].tolist()}")
    return normalized_score(float(values.mean()), random_return, optimal_return)
