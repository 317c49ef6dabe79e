"""Wall-time cost of the floor: stock vs floored PPO and A2C on CartPole-v1.

Both variants train side by side in one run, alternating (stock, floored, stock, ...)
so that machine noise hits both alike, with the same seeds and budgets. The script
prints, per algorithm, the floored/stock ratio of total training wall time. Target: <= 1.05.

    python scripts/bench_policy.py --timesteps 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3 import A2C, PPO

from rlfloor.policies import FlooredActorCriticPolicy


def train_seconds(algo: type, policy: Any, policy_kwargs: dict[str, Any], timesteps: int, seed: int) -> float:
    """Build a model on CartPole-v1 and time ``learn(timesteps)``; construction is not timed."""
    model = algo(policy, gym.make("CartPole-v1"), policy_kwargs=policy_kwargs, seed=seed, device="cpu")
    start = time.perf_counter()
    model.learn(timesteps)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=10_000, help="environment steps per training run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating stock/floored pairs per algorithm")
    parser.add_argument("--min-prob", type=float, default=0.02, help="floor of the floored policy")
    args = parser.parse_args()
    if args.timesteps <= 0 or args.rounds <= 0:
        parser.error(f"--timesteps and --rounds must be positive, got {args.timesteps} and {args.rounds}")
    th.set_num_threads(1)

    print(f"CartPole-v1, {args.timesteps} steps per run, {args.rounds} alternating rounds, min_prob={args.min_prob}")
    ratios = {}
    for algo in (PPO, A2C):
        stock, floored = 0.0, 0.0
        for round_index in range(args.rounds):
            seed = round_index
            stock += train_seconds(algo, "MlpPolicy", {}, args.timesteps, seed)
            floored += train_seconds(algo, FlooredActorCriticPolicy, {"min_prob": args.min_prob}, args.timesteps, seed)
        ratios[algo.__name__] = floored / stock
        print(
            f"{algo.__name__:4s} stock {stock:7.2f}s  floored {floored:7.2f}s  "
            f"ratio floored/stock {floored / stock:.3f}"
        )
    worst = max(ratios.values())
    print(f"worst ratio {worst:.3f} (target <= 1.05): {'OK' if worst <= 1.05 else 'ABOVE TARGET'}")


if __name__ == "__main__":
    main()
