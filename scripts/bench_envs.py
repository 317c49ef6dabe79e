"""Raw speed of every rlfloor environment next to CartPole-v1, measured in the same run.

Each environment is built with ``gymnasium.make`` (so it carries the same wrappers a user gets), reset
with a fixed seed and stepped ``--steps`` times with uniformly random actions, resetting at episode ends.
Actions are drawn up front from one seeded generator so sampling does not count against any env; the
masked grid is the exception -- the loop reads ``action_masks()`` every step and picks a valid action,
as a mask-aware agent must, and that cost is included.

Prints steps per second and the ratio to CartPole-v1 (target: >= 1.0).

    python scripts/bench_envs.py --steps 100000
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field, fields

import gymnasium as gym
import numpy as np

import envs

REFERENCE_ID = "CartPole-v1"


@dataclass(frozen=True)
class Config:
    """Benchmark settings; every field is a command-line flag whose help is its ``doc``."""

    steps: int = field(default=100_000, metadata={"doc": "environment steps timed per env"})
    seed: int = field(default=0, metadata={"doc": "seed of the env resets and of the random actions"})
    repeats: int = field(default=3, metadata={"doc": "timing repeats per env; the fastest counts (least disturbed)"})


def parse_config() -> Config:
    """Build a :class:`Config` from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for f in fields(Config):
        help_text = f"{f.metadata['doc']} (default: %(default)s)"
        parser.add_argument(f"--{f.name}", type=int, default=f.default, help=help_text)
    config = Config(**vars(parser.parse_args()))
    if config.steps < 1 or config.repeats < 1:
        parser.error(f"--steps and --repeats must be >= 1, got {config.steps} and {config.repeats}")
    return config


def time_env(env_id: str, steps: int, seed: int) -> float:
    """Steps per second of ``steps`` uniformly random steps on ``gymnasium.make(env_id)``."""
    env = gym.make(env_id)
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


def main() -> None:
    """Time CartPole-v1 and every rlfloor env; print a table with the ratios."""
    config = parse_config()
    ids = (REFERENCE_ID, *envs.ENV_IDS)
    rates = {env_id: max(time_env(env_id, config.steps, config.seed) for _ in range(config.repeats)) for env_id in ids}
    reference = rates[REFERENCE_ID]
    width = max(len(env_id) for env_id in ids)
    print(f"{'env':<{width}}  {'steps/s':>10}  {'vs CartPole':>11}")
    for env_id in ids:
        print(f"{env_id:<{width}}  {rates[env_id]:>10,.0f}  {rates[env_id] / reference:>11.2f}")


if __name__ == "__main__":
    main()
