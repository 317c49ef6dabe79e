"""Wall-time cost of the exploration metrics: PPO and A2C on CartPole-v1 with and without the callback.

Both variants train in one run, alternating (without, with / with, without / ...) so that machine
noise and drift hit both alike, with the same seeds, budgets and TensorBoard logging (the callback's
records are written too). SB3's default ``log_interval`` is used (1 for PPO, 100 for A2C).

Per algorithm the script prints the with/without ratio of total training time (wall clock, and this
process's CPU time), and the time spent inside the callback's hooks as a share of training time
without it: a direct measurement of the cost that other load on a shared machine does not blur.
Target: <= 1.10 with gradient coherence off (the default).

    python scripts/bench_metrics.py --timesteps 10000 --rounds 3
    python scripts/bench_metrics.py --grad-coherence   # also time the costly gradient coherence
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import A2C, PPO

from rlfloor.callbacks import ExplorationMetricsCallback


class TimedMetrics(ExplorationMetricsCallback):
    """The callback, with the wall time spent in its hooks added up in ``spent``."""

    spent = 0.0

    def _timed(self, hook: Any) -> Any:
        start = time.perf_counter()
        result = hook()
        self.spent += time.perf_counter() - start
        return result

    def on_step(self) -> bool:
        return bool(self._timed(super().on_step))

    def on_rollout_start(self) -> None:
        self._timed(super().on_rollout_start)

    def on_rollout_end(self) -> None:
        self._timed(super().on_rollout_end)


def train_seconds(algo: type, callback: TimedMetrics | None, timesteps: int, seed: int, log_dir: str) -> np.ndarray:
    """Train on CartPole-v1 and time ``learn(timesteps)``: ``[wall, cpu, in-callback]`` seconds.

    Model construction is not timed.
    """
    model = algo("MlpPolicy", gym.make("CartPole-v1"), seed=seed, device="cpu", tensorboard_log=log_dir)
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps, callback=callback)
    spent = callback.spent if callback is not None else 0.0
    return np.array([time.perf_counter() - wall, time.process_time() - cpu, spent])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=10_000, help="environment steps per training run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating without/with pairs per algorithm")
    parser.add_argument("--grad-coherence", action="store_true", help="also time the callback with gradient coherence")
    args = parser.parse_args()
    if args.timesteps <= 0 or args.rounds <= 0:
        parser.error(f"--timesteps and --rounds must be positive, got {args.timesteps} and {args.rounds}")
    th.set_num_threads(1)

    variants: dict[str, Any] = {"without": lambda: None, "with": TimedMetrics}
    if args.grad_coherence:
        variants["with grad_coherence"] = lambda: TimedMetrics(grad_coherence=True)
    print(f"CartPole-v1, {args.timesteps} steps per run, {args.rounds} alternating rounds")
    worst = 0.0
    with tempfile.TemporaryDirectory() as log_dir:
        for algo in (PPO, A2C):
            totals = {name: np.zeros(3) for name in variants}
            for seed in range(args.rounds):
                order = list(variants) if seed % 2 == 0 else list(reversed(variants))
                for name in order:
                    totals[name] += train_seconds(algo, variants[name](), args.timesteps, seed, log_dir)
            base = totals["without"]
            print(f"{algo.__name__}: without  wall {base[0]:7.2f}s  cpu {base[1]:7.2f}s")
            for name, total in totals.items():
                if name == "without":
                    continue
                print(
                    f"{algo.__name__}: {name:8s} wall {total[0]:7.2f}s  cpu {total[1]:7.2f}s  "
                    f"ratio wall {total[0] / base[0]:.3f}  cpu {total[1] / base[1]:.3f}  "
                    f"in callback {total[2]:6.2f}s = {100 * total[2] / base[0]:.1f}% of training"
                )
            worst = max(worst, totals["with"][0] / base[0])
    print(f"worst wall ratio {worst:.3f} (target <= 1.10): {'OK' if worst <= 1.10 else 'ABOVE TARGET'}")


if __name__ == "__main__":
    main()
