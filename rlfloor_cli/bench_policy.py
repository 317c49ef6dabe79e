"""Wall-time cost of the floor: stock vs floored PPO and A2C on CartPole-v1.

Both variants train side by side, alternating (stock, floored, stock, floored, ...) so that
machine noise hits both alike, with the same seeds and budgets. Each round prints the
floored/stock ratio of that pair; the summary prints, per algorithm, the ratio of total wall
times and the spread (min, median, max) of the per-round ratios. Target: <= 1.02.

The same ratios are printed for the process's CPU time (torch runs on one thread here): on a
machine shared with other jobs, wall time measures the neighbours as much as the floor, and
CPU time is the steadier number.

    python scripts/bench_policy.py --timesteps 10000 --rounds 5
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import torch as th
import tyro
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.policies import ActorCriticPolicy

from rlfloor.checks import check_choice, check_int, check_number
from rlfloor.policies import FlooredActorCriticPolicy

TARGET = 1.02


@dataclass
class Config:
    """Stock vs floored training wall time on CartPole-v1."""

    timesteps: int = 10_000
    """environment steps per training run"""
    rounds: int = 5
    """alternating stock/floored pairs per algorithm"""
    min_prob: float = 0.02
    """floor of the floored policy (CartPole has K=2 actions: below 0.5)"""
    algos: tuple[Literal["PPO", "A2C"], ...] = ("PPO", "A2C")
    """algorithms to time"""
    policy_calls: int = 3000
    """also time this many evaluate_actions+backward calls (batch 64) of each policy alone, in CPU time
    (0: skip); the floor's own cost, free of the environment and of SB3's bookkeeping"""


ALGOS: dict[str, type] = {"PPO": PPO, "A2C": A2C}


def train_seconds(
    algo: type, policy: Any, policy_kwargs: dict[str, Any], timesteps: int, seed: int
) -> tuple[float, float]:
    """Build a model on CartPole-v1 and time ``learn(timesteps)`` (construction is not timed).

    :return: wall seconds and CPU seconds of this process.
    """
    model = algo(policy, gym.make("CartPole-v1"), policy_kwargs=policy_kwargs, seed=seed, device="cpu")
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps)
    return time.perf_counter() - wall, time.process_time() - cpu


def policy_call_seconds(policy: Any, calls: int) -> float:
    """CPU seconds of ``calls`` PPO-style minibatch passes: ``evaluate_actions`` on 64 states, then backward."""
    generator = th.Generator().manual_seed(0)
    observations, actions = th.randn(64, 4, generator=generator), th.randint(0, 2, (64,), generator=generator)
    start = time.process_time()
    for _ in range(calls):
        values, log_prob, entropy = policy.evaluate_actions(observations, actions)
        (values.sum() + log_prob.sum() + entropy.sum()).backward()
    return time.process_time() - start


def summary(name: str, clock: str, stock: list[float], floored: list[float]) -> float:
    """Print the total-time ratio and the spread of per-round ratios; return the total ratio."""
    per_round = [f / s for s, f in zip(stock, floored, strict=True)]
    total = sum(floored) / sum(stock)
    print(
        f"{name:4s} {clock:4s} stock {sum(stock):7.2f}s  floored {sum(floored):7.2f}s  ratio {total:.3f}  "
        f"per round min {min(per_round):.3f} median {statistics.median(per_round):.3f} max {max(per_round):.3f}"
    )
    return total


def main(config: Config) -> dict[str, float]:
    """Run the benchmark; return the total-time ratio floored/stock per algorithm and clock."""
    check_int("timesteps", config.timesteps, 1)
    check_int("rounds", config.rounds, 1)
    check_int("policy_calls", config.policy_calls, 0)
    check_number("min_prob", config.min_prob, 0.0, 0.5, high_open=True)
    for name in config.algos:
        check_choice("algos", name, ALGOS)
    th.set_num_threads(1)
    print(
        f"CartPole-v1, {config.timesteps} steps per run, {config.rounds} alternating rounds, min_prob={config.min_prob}"
    )
    ratios = {}
    for name in config.algos:
        algo = ALGOS[name]
        times: dict[str, list[tuple[float, float]]] = {"stock": [], "floored": []}
        for seed in range(config.rounds):
            s = train_seconds(algo, "MlpPolicy", {}, config.timesteps, seed)
            f = train_seconds(algo, FlooredActorCriticPolicy, {"min_prob": config.min_prob}, config.timesteps, seed)
            times["stock"].append(s)
            times["floored"].append(f)
            print(
                f"  {name} round {seed}: wall {s[0]:6.2f}s vs {f[0]:6.2f}s ratio {f[0] / s[0]:.3f} | "
                f"cpu {s[1]:6.2f}s vs {f[1]:6.2f}s ratio {f[1] / s[1]:.3f}"
            )
        for index, clock in enumerate(("wall", "cpu")):
            stock = [t[index] for t in times["stock"]]
            floored = [t[index] for t in times["floored"]]
            ratios[f"{name} {clock}"] = summary(name, clock, stock, floored)
    if config.policy_calls > 0:
        space = gym.make("CartPole-v1")
        stock_policy = ActorCriticPolicy(space.observation_space, space.action_space, lambda _: 3e-4)
        floored_policy = FlooredActorCriticPolicy(
            space.observation_space, space.action_space, lambda _: 3e-4, min_prob=config.min_prob
        )
        chunk = max(1, config.policy_calls // 10)
        stock_s = floored_s = 0.0
        for _ in range(10):  # alternate in chunks, like the training rounds
            stock_s += policy_call_seconds(stock_policy, chunk)
            floored_s += policy_call_seconds(floored_policy, chunk)
        calls = 10 * chunk
        ratios["policy cpu"] = floored_s / stock_s
        print(
            f"policy alone, evaluate_actions+backward on 64 states: stock {stock_s / calls * 1e6:.1f} us, "
            f"floored {floored_s / calls * 1e6:.1f} us per call, ratio {floored_s / stock_s:.3f}"
        )
    worst = max(value for key, value in ratios.items() if key.endswith("wall"))
    print(f"worst wall ratio {worst:.3f} (target <= {TARGET}): {'OK' if worst <= TARGET else 'ABOVE TARGET'}")
    return ratios


if __name__ == "__main__":
    main(tyro.cli(Config))
