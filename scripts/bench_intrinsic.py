"""Wall-time cost of intrinsic rewards: stock PPO vs PPO with a SimHash count bonus or RND, on CartPole-v1.

All agents train side by side in one run, alternating (stock, simhash, rnd, stock, ...) so that machine noise
hits them alike, with the same seeds and budgets; the callbacks are built by the presets
(``agents.build_agent``), exactly as ``scripts/train.py`` builds them. The script prints each intrinsic
preset's ratio of total training wall time to stock. Target: <= 1.5.

    python scripts/bench_intrinsic.py --timesteps 10000 --rounds 3
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import gymnasium as gym
import torch as th
import tyro

from agents import build_agent, get_agent
from rlfloor.checks import check_int

TARGET = 1.5


@dataclass
class BenchConfig:
    """Stock vs intrinsic-reward training wall time on CartPole-v1."""

    timesteps: int = 10_000
    """environment steps per training run"""
    rounds: int = 3
    """alternating rounds (one run of every agent per round)"""
    baseline: str = "ppo"
    """the stock preset"""
    agents: list[str] = field(default_factory=lambda: ["ppo-simhash", "ppo-rnd"])
    """intrinsic presets to time"""


def train_seconds(agent: str, timesteps: int, seed: int) -> float:
    """Build a preset on CartPole-v1 and time ``learn(timesteps)`` with its callbacks; construction is not timed."""
    model, callbacks = build_agent(get_agent(agent), gym.make("CartPole-v1"), seed=seed)
    start = time.perf_counter()
    model.learn(timesteps, callback=callbacks)
    return time.perf_counter() - start


def main(config: BenchConfig) -> None:
    """Time every preset, alternating, and print each intrinsic preset's ratio to stock."""
    try:
        check_int("--timesteps", config.timesteps, 1)
        check_int("--rounds", config.rounds, 1)
        for name in [config.baseline, *config.agents]:
            get_agent(name)  # unknown names fail here, before any timing
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    th.set_num_threads(1)
    print(f"CartPole-v1, {config.timesteps} steps per run, {config.rounds} alternating rounds")
    names = [config.baseline, *config.agents]
    totals = dict.fromkeys(names, 0.0)
    for seed in range(config.rounds):
        for name in names:
            totals[name] += train_seconds(name, config.timesteps, seed)
    stock = totals[config.baseline]
    print(f"{config.baseline:>14s} {stock:8.2f}s")
    worst = 0.0
    for name in config.agents:
        ratio = totals[name] / stock
        worst = max(worst, ratio)
        print(f"{name:>14s} {totals[name]:8.2f}s  ratio to {config.baseline} {ratio:.3f}")
    print(f"worst ratio {worst:.3f} (target <= {TARGET}): {'OK' if worst <= TARGET else 'ABOVE TARGET'}")


if __name__ == "__main__":
    main(tyro.cli(BenchConfig))
