"""Wall-time cost of intrinsic rewards: stock PPO vs PPO with a bonus, trained side by side.

All agents train in one run, alternating (stock, method 1, method 2, stock, ...) so that machine noise hits them
alike, with the same seeds and budgets; the callbacks are built by the presets (``agents.build_agent``), exactly
as ``scripts/train.py`` builds them. The script prints each preset's ratio of total training wall time to stock,
and of CPU time (this process's, one torch thread), which other jobs on a shared machine disturb less.

* default: CartPole-v1, the lifelong presets (SimHash, RND); target <= 1.5;
* ``--minigrid``: MiniGrid DoorKey-5x5 on its image view with the grid CNN and rl-starter-files' PPO settings
  (16 envs x n_steps 128), the episodic presets (episodic counts, NovelD, E3B); target <= 1.3 (issue 19).

    python scripts/bench_intrinsic.py --timesteps 10000 --rounds 3
    python scripts/bench_intrinsic.py --minigrid --timesteps 20480 --rounds 2
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from agents import build_agent, get_agent
from rlfloor.checks import check_int

LIFELONG = ["ppo-simhash", "ppo-rnd"]
EPISODIC = ["ppo-episodic-count", "ppo-noveld", "ppo-e3b"]
TARGETS = {False: 1.5, True: 1.3}
# lcswillems/rl-starter-files scripts/train.py PPO defaults (as measured in issue 18): 16 envs x 128 steps.
MINIGRID_PPO = {"n_steps": 128, "batch_size": 256, "n_epochs": 4, "learning_rate": 1e-3, "ent_coef": 0.01}
MINIGRID_PPO |= {"gae_lambda": 0.95, "gamma": 0.99, "clip_range": 0.2, "max_grad_norm": 0.5}


@dataclass
class BenchConfig:
    """Stock vs intrinsic-reward training wall time, side by side."""

    timesteps: int = 10_000
    """environment steps per training run"""
    rounds: int = 3
    """alternating rounds (one run of every agent per round)"""
    baseline: str = "ppo"
    """the stock preset"""
    agents: list[str] | None = None
    """intrinsic presets to time (default: the lifelong ones, or the episodic ones with --minigrid)"""
    minigrid: bool = False
    """MiniGrid DoorKey-5x5 with the grid CNN, 16 envs x n_steps 128, instead of CartPole-v1"""


def train_seconds(agent: str, timesteps: int, seed: int, minigrid: bool) -> tuple[float, float]:
    """Build a preset on the benchmark env and time ``learn(timesteps)`` with its callbacks (construction untimed):
    wall and CPU seconds."""
    env: Any
    overrides: dict[str, Any] = {}
    policy_defaults = None
    if minigrid:
        from minigrid.wrappers import ImgObsWrapper

        from rlfloor.networks import GRID_POLICY_KWARGS

        env = make_vec_env(lambda: ImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0")), n_envs=16, seed=seed)
        overrides, policy_defaults = dict(MINIGRID_PPO), GRID_POLICY_KWARGS
    else:
        env = gym.make("CartPole-v1")
    spec = get_agent(agent)
    model, callbacks = build_agent(spec, env, seed=seed, overrides=overrides, policy_defaults=policy_defaults)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps, callback=callbacks)
    return time.perf_counter() - start, time.process_time() - cpu


def main(config: BenchConfig) -> None:
    """Time every preset, alternating, and print each intrinsic preset's ratio to stock."""
    agents = config.agents if config.agents is not None else (EPISODIC if config.minigrid else LIFELONG)
    try:
        check_int("--timesteps", config.timesteps, 1)
        check_int("--rounds", config.rounds, 1)
        for name in [config.baseline, *agents]:
            get_agent(name)  # unknown names fail here, before any timing
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    th.set_num_threads(1)
    where = "MiniGrid-DoorKey-5x5-v0 (grid CNN, 16 envs x 128)" if config.minigrid else "CartPole-v1"
    print(f"{where}, {config.timesteps} steps per run, {config.rounds} alternating rounds")
    names = [config.baseline, *agents]
    wall, cpu = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
    for seed in range(config.rounds):
        for name in names:
            seconds, cpu_seconds = train_seconds(name, config.timesteps, seed, config.minigrid)
            wall[name] += seconds
            cpu[name] += cpu_seconds
    target = TARGETS[config.minigrid]
    print(f"{'':>18s} {'wall':>9s} {'ratio':>6s} {'cpu':>9s} {'ratio':>6s}")
    worst = 0.0
    for name in names:
        ratio, cpu_ratio = wall[name] / wall[config.baseline], cpu[name] / cpu[config.baseline]
        worst = max(worst, ratio) if name != config.baseline else worst
        print(f"{name:>18s} {wall[name]:8.2f}s {ratio:6.3f} {cpu[name]:8.2f}s {cpu_ratio:6.3f}")
    print(f"worst wall-time ratio {worst:.3f} (target <= {target}): {'OK' if worst <= target else 'ABOVE TARGET'}")
