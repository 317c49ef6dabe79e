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
from collections.abc import Iterable, Mapping

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
    """Map one return to ``[0, 1]``: 0 at (or below) the random policy, 1 at (or above) the optimum.

    The project's one score function (the harness scores runs with it through ``ResolvedEnv.score``).
    A NaN return (no episode to average) scores NaN: unknown, not 0.

    :raises ValueError: for references that cannot define a score (not finite, or optimal <= random).
    """
    _check_reference(random_return, optimal_return)
    if math.isnan(float(episode_return)):
        return math.nan
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


# bsuite's deep_sea analysis (bsuite 0.3.5, ``bsuite/experiments/deep_sea/analysis.py`` and ``sweep.py``).
BSUITE_DEEP_SEA_NUM_EPISODES = 10_000
"""Episodes of one bsuite deep_sea run (``sweep.NUM_EPISODES``); later episodes are ignored."""
BSUITE_DEEP_SEA_THRESHOLD = 0.9
"""A size is solved at the first logged episode whose running fraction of bad episodes is below this."""
BSUITE_DEEP_SEA_FORGIVENESS = 100
"""A solved size beats dithering if it was solved before episode ``2**size + forgiveness``."""
BSUITE_DEEP_SEA_SIZES: tuple[int, ...] = tuple(range(10, 51, 2))
"""bsuite's sweep of sizes (all with ``mapping_seed=42``)."""
_BSUITE_LOG_RATIOS = (1.0, 1.2, 1.4, 1.7, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0)


def bsuite_logged_episodes(n_episodes: int) -> np.ndarray:
    """Episode numbers (1-based) at which bsuite's ``Logging`` wrapper writes a row, up to ``n_episodes``.

    bsuite logs at ``10**k * r`` for ``r`` in 1, 1.2, 1.4, 1.7, 2, 2.5, 3, 4, ..., 10
    (``bsuite.utils.wrappers._logarithmic_logging``), i.e. episodes 1, 2, ..., 10, 12, 14, 17, 20, 25, ...
    """
    episodes = np.arange(1, n_episodes + 1)
    exponent = np.floor(np.log10(np.maximum(1, episodes)))
    logged = np.zeros(n_episodes, dtype=bool)
    for ratio in _BSUITE_LOG_RATIOS:
        logged |= episodes == 10**exponent * ratio
    return episodes[logged]


def deep_sea_solved_episode(
    bad_episodes: Iterable[bool],
    *,
    threshold: float = BSUITE_DEEP_SEA_THRESHOLD,
    num_episodes: int = BSUITE_DEEP_SEA_NUM_EPISODES,
    bsuite_logging: bool = True,
) -> int | None:
    """First episode at which the running average of bad episodes drops below ``threshold``; ``None`` if never.

    ``bad_episodes[i]`` is episode ``i + 1``'s "bad episode" flag (DeepSea's ``info["bad_episode"]``, bsuite's
    ``_bad_episode``). Only episodes ``<= num_episodes`` count. With ``bsuite_logging`` the running average
    is read only at the episodes bsuite's logger writes (:func:`bsuite_logged_episodes`), exactly as
    bsuite's ``find_solution`` sees a run; without it, at every episode.
    """
    flags = np.asarray(list(bad_episodes), dtype=bool)[:num_episodes]
    if flags.size == 0:
        raise ValueError("deep_sea_solved_episode needs at least one episode flag, got none")
    episodes = bsuite_logged_episodes(flags.size) if bsuite_logging else np.arange(1, flags.size + 1)
    average_bad = np.cumsum(flags)[episodes - 1] / episodes
    below = np.flatnonzero(average_bad < threshold)
    return int(episodes[below[0]]) if below.size else None


def deep_sea_score(
    bad_episodes_by_size: Mapping[int, Iterable[bool]],
    *,
    threshold: float = BSUITE_DEEP_SEA_THRESHOLD,
    forgiveness: float = BSUITE_DEEP_SEA_FORGIVENESS,
    num_episodes: int = BSUITE_DEEP_SEA_NUM_EPISODES,
    bsuite_logging: bool = True,
) -> float:
    """bsuite's deep_sea score of a sweep: the fraction of sizes solved before episode ``2**size + forgiveness``.

    Mirrors ``bsuite.experiments.deep_sea.analysis.score``: for each size, find the first (logged) episode
    ``e <= num_episodes`` where ``total_bad_episodes / e < threshold`` (0.9); the size counts if such an ``e``
    exists and ``e < 2**size + forgiveness`` (100). The score is the mean over sizes. A run must record, per
    size, the per-episode ``info["bad_episode"]`` flags of one environment in episode order.
    """
    if not bad_episodes_by_size:
        raise ValueError("deep_sea_score needs at least one size, got none")
    beat = []
    for size, flags in bad_episodes_by_size.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"sizes must be positive integers, got {size!r}")
        solved = deep_sea_solved_episode(
            flags, threshold=threshold, num_episodes=num_episodes, bsuite_logging=bsuite_logging
        )
        beat.append(solved is not None and solved < 2 ** int(size) + forgiveness)
    return float(np.mean(beat))
