"""Measuring reference returns: uniform-random episodes, and MiniGrid's optimal return by search.

The suite's references are measured or computed, never guessed (see :mod:`envs.suite`):

* rlfloor's own environments compute both references exactly (dynamic programming) and the suite reads them
  from the env;
* every other random reference is the mean of at least 1,000 uniform-random episodes, with its standard
  error -- :func:`random_episode_returns`, :func:`measure_random_return` (the one protocol: the suite's
  stored values and the harness's references of envs outside the suite, cached per results folder by
  :mod:`rlfloor.experiment.references`, are both measured by it);
* MiniGrid pays ``1 - 0.9 * steps / max_steps`` on success, so its optimal return on one layout is that
  reward for the shortest solution, found by breadth-first search over the env's own transitions --
  :func:`minigrid_optimal_return`; the suite's value is the mean over many layouts.

``scripts/measure_references.py`` runs these and prints the numbers in the form :mod:`envs.suite` stores.
The protocol is fixed so a measurement can be repeated: episode ``i`` is reset with seed ``first_seed + i``
and actions are drawn from ``numpy.random.default_rng(action_seed)``.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from rlfloor.checks import check_int


def random_episode_returns(
    env: gym.Env[Any, Any], episodes: int, *, first_seed: int = 0, action_seed: int = 0
) -> NDArray[np.float64]:
    """Undiscounted returns of ``episodes`` uniform-random episodes of ``env``.

    Episode ``i`` starts with ``env.reset(seed=first_seed + i)``. With a ``Discrete`` action space actions
    are uniform over its actions (over the valid ones if the env exposes ``action_masks()``), drawn from
    ``numpy.random.default_rng(action_seed)``; any other space draws with its own ``sample()``, the space
    seeded with ``action_seed``. An episode ends when the env terminates or truncates.
    """
    check_int("episodes", episodes, 1)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    n_actions = int(env.action_space.n) if isinstance(env.action_space, gym.spaces.Discrete) else 0
    masks = getattr(env.unwrapped, "action_masks", None) if discrete else None
    rng = np.random.default_rng(action_seed)
    if not discrete:
        env.action_space.seed(action_seed)
    returns = np.empty(episodes, dtype=np.float64)
    for i in range(episodes):
        env.reset(seed=first_seed + i)
        total, done = 0.0, False
        while not done:
            if not discrete:
                action = env.action_space.sample()
            elif masks is None:
                action = int(rng.integers(n_actions))
            else:
                valid = np.flatnonzero(masks())
                action = int(valid[rng.integers(len(valid))])
            _, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns[i] = total
    return returns


def mean_and_se(values: NDArray[np.float64]) -> tuple[float, float]:
    """Mean and standard error of the mean (``std(ddof=1) / sqrt(n)``; NaN for a single value: unknown)."""
    if values.size == 0:
        raise ValueError("mean_and_se needs at least one value, got none")
    se = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else math.nan
    return float(values.mean()), se


PROTOCOL = "uniform-random episodes, reset seed first_seed + i, actions seeded by action_seed (envs.references)"
"""Names the measurement (stored with each cached measurement, so a changed protocol is measured again)."""


def measure_random_return(make_env: Callable[[], gym.Env[Any, Any]], episodes: int, seed: int = 0) -> dict[str, Any]:
    """The random reference of an env: mean return of ``episodes`` (>= 2) uniform-random episodes and its SE.

    :func:`random_episode_returns` with ``first_seed = action_seed = seed`` on a fresh ``make_env()``
    (closed after). Returns ``{"mean", "se", "episodes", "seed", "protocol"}``.
    """
    check_int("episodes", episodes, 2)
    env = make_env()
    try:
        returns = random_episode_returns(env, episodes, first_seed=seed, action_seed=seed)
    finally:
        env.close()
    mean, se = mean_and_se(returns)
    return {"mean": mean, "se": se, "episodes": episodes, "seed": seed, "protocol": PROTOCOL}


MINIGRID_SEARCH_ACTIONS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
"""MiniGrid actions searched: left, right, forward, pickup, drop, toggle (``done`` changes nothing)."""


def minigrid_optimal_return(env: gym.Env[Any, Any], seed: int, max_states: int = 200_000) -> float:
    """Reward of the shortest solution of the MiniGrid layout ``env.reset(seed=seed)`` draws (0 if none).

    Breadth-first search over copies of the unwrapped env, stepping each with every action in
    :data:`MINIGRID_SEARCH_ACTIONS` and identifying states by MiniGrid's own ``hash()`` (grid, agent position
    and direction). The first transition that terminates with a positive reward is the shortest solution; its
    reward is MiniGrid's ``1 - 0.9 * steps / max_steps``. Rewards are the env's own, so this is exact for
    deterministic MiniGrid tasks.

    Raises:
        ValueError: ``env`` is not a MiniGrid env.
        RuntimeError: more than ``max_states`` states were expanded.
    """
    base = env.unwrapped
    if not hasattr(base, "hash") or not hasattr(base, "max_steps"):
        raise ValueError(f"minigrid_optimal_return needs a MiniGrid env, got {base!r}")
    env.reset(seed=seed)
    start = copy.deepcopy(base)
    seen = {start.hash()}
    frontier: deque[Any] = deque([start])
    while frontier:
        state = frontier.popleft()
        for action in MINIGRID_SEARCH_ACTIONS:
            child = copy.deepcopy(state)
            _, reward, terminated, truncated, _ = child.step(action)
            if terminated:
                if reward > 0:
                    return float(reward)
                continue
            if truncated:
                continue
            key = child.hash()
            if key not in seen:
                seen.add(key)
                frontier.append(child)
        if len(seen) > max_states:
            raise RuntimeError(f"MiniGrid search expanded more than {max_states} states (seed {seed})")
    return 0.0
