"""Random reference returns measured once and cached in the results folder.

An env without a known random reference (any Gymnasium id outside the suite) gets one measured: the mean
return of ``episodes`` uniform-random episodes (actions from the seeded action space), with its standard
error. The measurement is stored in ``{results}/references.json`` with ``episodes``, ``se`` and the env's
description, and reused while that description is unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from rlfloor.checks import check_int
from rlfloor.experiment.store import write_json_atomic

DEFAULT_EPISODES = 1000
CACHE_NAME = "references.json"


def measure_random_return(
    make_env: Callable[[], Any], episodes: int = DEFAULT_EPISODES, seed: int = 0
) -> dict[str, Any]:
    """Mean return of the uniform-random policy over ``episodes`` episodes, with its standard error.

    Episode ``i`` resets with ``seed + i``; actions come from the action space seeded with ``seed``.
    """
    check_int("episodes", episodes, 2)
    env = make_env()
    env.action_space.seed(seed)
    returns = np.empty(episodes)
    steps = 0
    try:
        for i in range(episodes):
            env.reset(seed=seed + i)
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total += float(reward)
                steps += 1
                done = terminated or truncated
            returns[i] = total
    finally:
        env.close()
    se = float(returns.std(ddof=1) / math.sqrt(episodes))
    return {"mean": float(returns.mean()), "se": se, "episodes": episodes, "seed": seed, "steps": steps}


def cached_random_return(
    root: Path, name: str, record: Mapping[str, Any], make_env: Callable[[], Any], episodes: int = DEFAULT_EPISODES
) -> tuple[dict[str, Any], bool]:
    """The random reference of env ``name`` from ``root/references.json``, measured and stored if missing.

    :param record: the env's description; a cached value for another description or episode count is
        measured again.
    :return: the measurement and whether it came from the cache.
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / CACHE_NAME
    with FileLock(root / f".{CACHE_NAME}.lock"):
        try:
            cache = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            cache = {}
        if not isinstance(cache, dict):
            cache = {}
        stored = cache.get(name)
        wanted = json.loads(json.dumps(dict(record), default=str))
        if isinstance(stored, dict) and stored.get("env") == wanted and stored.get("episodes") == episodes:
            return stored, True
        measured = {**measure_random_return(make_env, episodes), "env": wanted}
        cache[name] = measured
        write_json_atomic(path, cache)
        return measured, False


__all__ = ["CACHE_NAME", "DEFAULT_EPISODES", "cached_random_return", "measure_random_return"]
