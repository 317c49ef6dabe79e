"""MiniGrid's observation speed: ``ImgObsWrapper`` (MiniGrid's own view) vs ``FastImgObsWrapper``, side by side.

For each env of the MiniGrid ladder, both wrappers run the same seeded reset and the same uniformly random
actions (drawn up front, resetting unseeded at episode ends), in interleaved rounds (stock, fast, fast, stock,
...) so machine noise hits both alike. Before any timing, one untimed pass checks that the two give equal
observations, rewards and episode ends at every step. Prints steps per second of each and the ratio
fast/stock in wall time and in this process's CPU time (the steadier number on a shared machine), and the
fast wrapper's steps per CPU second.

With ``--ppo-timesteps`` > 0 it also times SB3 PPO ``learn()`` on ``--ppo-env`` with the grid CNN and
lcswillems/rl-starter-files' PPO settings, one torch thread, construction not timed. Target: >= 2x per env step.

    python scripts/bench_minigrid.py --steps 10000 --rounds 3 --ppo-timesteps 4096
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from rlfloor.checks import check_int

TARGET = 2.0

LADDER = (
    "MiniGrid-DoorKey-5x5-v0",
    "MiniGrid-DoorKey-8x8-v0",
    "MiniGrid-KeyCorridorS3R3-v0",
    "MiniGrid-MultiRoom-N4-S5-v1",
    "MiniGrid-ObstructedMaze-1Dl-v0",
    "MiniGrid-Unlock-v0",
)
"""The ladder's candidate rungs (issue 18); MultiRoom-N4-S5 is -v1 (-v0 builds 6 rooms, Minigrid issue #471)."""


@dataclass(frozen=True)
class Config:
    """Stock vs fast MiniGrid observation: env steps per second, and optionally PPO training steps per second."""

    envs: tuple[str, ...] = LADDER
    """MiniGrid env ids to time"""
    steps: int = 10_000
    """random env steps per wrapper per round"""
    rounds: int = 3
    """interleaved rounds (one timing of each wrapper per round)"""
    check_steps: int = 2_000
    """untimed steps per env comparing the two wrappers' observations, rewards and ends (0: skip)"""
    seed: int = 0
    """seed of the env resets and of the random actions"""
    ppo_timesteps: int = 4096
    """PPO learn() steps per wrapper per round on --ppo-env (0: skip)"""
    ppo_env: str = "MiniGrid-DoorKey-8x8-v0"
    """env of the PPO timing"""


def make_pair(env_id: str) -> tuple[Callable[[], gym.Env[Any, Any]], Callable[[], gym.Env[Any, Any]]]:
    """Makers of ``env_id`` under MiniGrid's view (``ImgObsWrapper``) and under the fast one."""
    from envs.external.minigrid import FastImgObsWrapper, ImgObsWrapper

    return (lambda: ImgObsWrapper(gym.make(env_id))), (lambda: FastImgObsWrapper(gym.make(env_id)))


def check_identical(env_id: str, steps: int, seed: int) -> None:
    """``SystemExit`` unless both wrappers give equal observations, rewards and ends on ``steps`` random steps."""
    stock, fast = (make() for make in make_pair(env_id))
    actions = np.random.default_rng(seed).integers(0, int(stock.action_space.n), size=steps).tolist()  # type: ignore[attr-defined]
    pairs = [(stock.reset(seed=seed)[0], fast.reset(seed=seed)[0])]
    for action in actions:
        a, b = stock.step(action), fast.step(action)
        if a[1:4] != b[1:4]:
            raise SystemExit(f"{env_id}: reward/terminated/truncated differ: {a[1:4]} vs {b[1:4]}")
        pairs.append((a[0], b[0]))
        if a[2] or a[3]:
            pairs.append((stock.reset()[0], fast.reset()[0]))
    for index, (x, y) in enumerate(pairs):
        if x.dtype != y.dtype or not np.array_equal(x, y):
            raise SystemExit(f"{env_id}: observation {index} differs between ImgObsWrapper and FastImgObsWrapper")


def time_steps(make_env: Callable[[], gym.Env[Any, Any]], steps: int, seed: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``steps`` uniformly random steps (construction and the first reset not timed)."""
    env = make_env()
    actions = np.random.default_rng(seed).integers(0, int(env.action_space.n), size=steps).tolist()  # type: ignore[attr-defined]
    env.reset(seed=seed)
    wall, cpu = time.perf_counter(), time.process_time()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_ppo(make_env: Callable[[], gym.Env[Any, Any]], timesteps: int, seed: int) -> tuple[float, float]:
    """Wall and CPU seconds of PPO ``learn(timesteps)`` with the grid CNN (construction not timed)."""
    import torch as th  # imported here: the env-step timing needs neither torch nor SB3
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlfloor.networks import GRID_POLICY_KWARGS

    th.set_num_threads(1)

    # lcswillems/rl-starter-files' PPO settings (scripts/train.py argument defaults; issue 18): 16 envs,
    # 128 steps each, 4 epochs, batch 256, lr 1e-3, entropy 0.01, GAE 0.95, gamma 0.99, clip 0.2, grad norm 0.5
    model = PPO(
        "MlpPolicy",
        DummyVecEnv([make_env] * 16),
        n_steps=128,
        batch_size=256,
        n_epochs=4,
        learning_rate=1e-3,
        ent_coef=0.01,
        gae_lambda=0.95,
        gamma=0.99,
        clip_range=0.2,
        max_grad_norm=0.5,
        policy_kwargs=GRID_POLICY_KWARGS,
        seed=seed,
        device="cpu",
    )
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps)
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(
    time_one: Callable[[Callable[[], gym.Env[Any, Any]], int, int], tuple[float, float]],
    env_id: str,
    amount: int,
    config: Config,
) -> dict[str, np.ndarray]:
    """``time_one`` of the stock and fast wrappers in ``config.rounds`` alternating rounds: seconds (rounds, 2)."""
    makers = dict(zip(("stock", "fast"), make_pair(env_id), strict=True))
    times: dict[str, list[tuple[float, float]]] = {"stock": [], "fast": []}
    for round_ in range(config.rounds):
        for name in ("stock", "fast") if round_ % 2 == 0 else ("fast", "stock"):
            times[name].append(time_one(makers[name], amount, config.seed + round_))
    return {name: np.array(value) for name, value in times.items()}


def row(name: str, amount: int, times: dict[str, np.ndarray]) -> float:
    """Print one table row (steps/s of each in wall time, ratios fast/stock in wall and CPU time, and the fast
    wrapper's steps per CPU second); return the wall-time ratio."""
    total = {key: value.sum(axis=0) for key, value in times.items()}  # (wall, cpu) seconds over the rounds
    steps = amount * len(times["stock"])
    wall_ratio = total["stock"][0] / total["fast"][0]
    cpu_ratio = total["stock"][1] / total["fast"][1]
    print(
        f"{name:<32} {steps / total['stock'][0]:>9,.0f} {steps / total['fast'][0]:>9,.0f} "
        f"{wall_ratio:>10.2f} {cpu_ratio:>9.2f} {steps / total['fast'][1]:>10,.0f}"
    )
    return float(wall_ratio)


def main(config: Config) -> dict[str, float]:
    """Check and time every env, print the table; return the wall-time ratio fast/stock per row."""
    try:
        check_int("--steps", config.steps, 1)
        check_int("--rounds", config.rounds, 1)
        check_int("--check-steps", config.check_steps, 0)
        check_int("--ppo-timesteps", config.ppo_timesteps, 0)
        if not config.envs:
            raise ValueError("--envs must name at least one MiniGrid env id")
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    if importlib.util.find_spec("minigrid") is None:
        print("minigrid is not installed (pip install -e '.[minigrid]'): bench_minigrid skipped")
        return {}
    import minigrid  # noqa: F401  (registers the MiniGrid ids)

    unknown = [env_id for env_id in (*config.envs, config.ppo_env) if env_id not in gym.registry]
    if unknown:
        raise SystemExit(f"error: unknown env ids {unknown}; MiniGrid ids look like {LADDER[0]}")
    if config.check_steps:
        for env_id in config.envs:
            check_identical(env_id, config.check_steps, config.seed)
        print(f"observations, rewards and ends identical on {config.check_steps} random steps of every env")
    print(f"{config.steps} random steps per wrapper per round, {config.rounds} interleaved rounds")
    print(f"{'env':<32} {'stock/s':>9} {'fast/s':>9} {'ratio wall':>10} {'ratio cpu':>9} {'fast/cpu-s':>10}")
    ratios = {
        env_id: row(env_id, config.steps, interleaved(time_steps, env_id, config.steps, config))
        for env_id in config.envs
    }
    if config.ppo_timesteps:
        name = f"PPO {config.ppo_env.removeprefix('MiniGrid-')}"
        times = interleaved(time_ppo, config.ppo_env, config.ppo_timesteps, config)
        ratios[name] = row(name, config.ppo_timesteps, times)
        per_million = 1e6 * times["fast"][:, 1].sum() / (config.ppo_timesteps * config.rounds) / 60
        print(f"PPO with the fast view: {per_million:.1f} CPU minutes per 1M steps")
    worst = min(value for key, value in ratios.items() if not key.startswith("PPO"))
    print(f"worst env-step ratio {worst:.2f} (target >= {TARGET}): {'OK' if worst >= TARGET else 'BELOW TARGET'}")
    return ratios
