"""Raw speed of every rlfloor environment next to CartPole-v1, measured in the same run.

Each environment is built with ``gymnasium.make`` (so it carries the same wrappers a user gets), reset
with a fixed seed and stepped ``--steps`` times with uniformly random actions, resetting at episode ends.
Actions are drawn up front from one seeded generator so sampling does not count against any env; the
masked grid is the exception -- the loop reads ``action_masks()`` every step and picks a valid action,
as a mask-aware agent must, and that cost is included.

The external tier's entries (MiniGrid, MinAtar, bsuite's deep_sea via shimmy) are timed too when their
extras are installed, built with ``envs.suite.make`` (so with the entry's observation wrappers), and listed
by suite name.

Prints steps per second and the ratio to CartPole-v1 (target for rlfloor's own envs: >= 1.0).

    python scripts/bench_envs.py --steps 100000
"""

from __future__ import annotations

import functools
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import tyro

import envs
from envs import suite

REFERENCE_ID = "CartPole-v1"


@dataclass(frozen=True)
class Config:
    """Benchmark settings."""

    steps: int = 100_000
    """Environment steps timed per env."""
    seed: int = 0
    """Seed of the env resets and of the random actions."""
    repeats: int = 3
    """Timing repeats per env; the fastest counts (least disturbed)."""
    external: bool = True
    """Also time the external tier's entries whose extra is installed (--no-external to skip)."""


def check_config(config: Config) -> Config:
    """``config`` if valid; ``SystemExit`` with a one-line message otherwise."""
    if config.steps < 1 or config.repeats < 1:
        raise SystemExit(f"--steps and --repeats must be >= 1, got {config.steps} and {config.repeats}")
    return config


def time_env(make_env: Callable[[], gym.Env[Any, Any]], steps: int, seed: int) -> float:
    """Steps per second of ``steps`` uniformly random steps on ``make_env()``."""
    env = make_env()
    rng = np.random.default_rng(seed)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    masked = hasattr(env.unwrapped, "action_masks")
    actions = rng.integers(0, n_actions, size=steps).tolist()
    uniforms = rng.random(steps).tolist()
    env.reset(seed=seed)
    start = time.perf_counter()
    if masked:
        action_masks = env.unwrapped.action_masks  # type: ignore[attr-defined]
        for u in uniforms:
            valid = np.flatnonzero(action_masks())
            _, _, terminated, truncated, _ = env.step(int(valid[int(u * len(valid))]))
            if terminated or truncated:
                env.reset()
    else:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def installed_external() -> tuple[suite.SuiteEntry, ...]:
    """The external tier's entries whose package is installed."""
    return tuple(
        entry
        for entry in suite.select("external")
        if entry.requires is None or importlib.util.find_spec(entry.requires) is not None
    )


def main(config: Config) -> None:
    """Time CartPole-v1, every rlfloor env and the installed external entries; print a table with the ratios."""
    check_config(config)
    makers: dict[str, Callable[[], gym.Env[Any, Any]]] = {
        env_id: functools.partial(gym.make, env_id) for env_id in (REFERENCE_ID, *envs.ENV_IDS)
    }
    if config.external:
        for entry in installed_external():
            makers[entry.name] = functools.partial(suite.make, entry)
    rates = {
        name: max(time_env(make_env, config.steps, config.seed) for _ in range(config.repeats))
        for name, make_env in makers.items()
    }
    reference = rates[REFERENCE_ID]
    width = max(len(name) for name in rates)
    print(f"{'env':<{width}}  {'steps/s':>10}  {'vs CartPole':>11}")
    for name, rate in rates.items():
        print(f"{name:<{width}}  {rate:>10,.0f}  {rate / reference:>11.2f}")


if __name__ == "__main__":
    main(tyro.cli(Config))
