"""Cost of the exploration metrics: PPO and A2C on CartPole-v1, stock vs. with ``ExplorationMetricsCallback``.

Like with like: both sides train the same seeds and budgets with SB3's default ``log_interval``
(1 for PPO, 100 for A2C) and both write TensorBoard event files (the callback's records too).
Each round trains both, alternating the order (stock first, then metrics first, ...), so drift and
other load hit both alike. Per algorithm the script prints the metrics/stock ratio of summed
training time -- wall clock, and this process's CPU time (all threads, the TensorBoard writer's
included), which other jobs on a shared machine blur far less -- with the spread of the per-round
ratios. The timed runs use the callback as users do; the time spent inside its hooks comes from one
extra run with timers around the hooks (their own cost, about a microsecond per env step, would
otherwise count as metrics overhead). Target: CPU ratio <= 1.05 on both.

    python scripts/bench_metrics.py --timesteps 10000 --rounds 4
    python scripts/bench_metrics.py --grad-coherence          # also time gradient coherence
    python scripts/bench_metrics.py --profile-dir /tmp/prof   # cProfile one run of each side

With ``--control`` (on by default) each round also trains stock a second time: the A/A ratio shows
how much of a difference the machine alone produces, and the baseline is the mean of both stock runs.
The order of the variants alternates and rotates from round to round, so none always runs first.
"""

from __future__ import annotations

import cProfile
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
import tyro
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks import ExplorationMetricsCallback


@dataclass
class Args:
    """Time PPO and A2C with and without the exploration metrics."""

    timesteps: int = 10_000
    """environment steps per training run"""
    rounds: int = 4
    """alternating (stock, metrics) pairs per algorithm; the order flips every round"""
    grad_coherence: bool = False
    """also time the callback with gradient coherence on (costly by design; not part of the target)"""
    target: float = 1.05
    """largest acceptable metrics/stock ratio of CPU time"""
    control: bool = True
    """also time a second stock run per round (A/A): its ratio to stock is the noise floor of the machine"""
    profile_dir: Path | None = None
    """write a cProfile of one stock and one metrics run per algorithm here (``{algo}_{side}.prof``)"""


class TimedMetrics(ExplorationMetricsCallback):
    """The callback, with the wall time spent in its hooks added up in ``spent``."""

    spent = 0.0

    def _timed(self, hook: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = hook(*args)
        self.spent += time.perf_counter() - start
        return result

    def on_step(self) -> bool:
        return bool(self._timed(super().on_step))

    def update_locals(self, locals_: dict[str, Any]) -> None:
        self._timed(super().update_locals, locals_)

    def on_rollout_start(self) -> None:
        self._timed(super().on_rollout_start)

    def on_rollout_end(self) -> None:
        self._timed(super().on_rollout_end)


def train_seconds(algo: type, callback: BaseCallback | None, timesteps: int, seed: int, log_dir: str) -> np.ndarray:
    """Train on CartPole-v1 with TensorBoard logging and time ``learn()``: ``[wall, cpu, in-callback]`` seconds.

    Model construction is not timed.
    """
    model = algo("MlpPolicy", gym.make("CartPole-v1"), seed=seed, device="cpu", tensorboard_log=log_dir)
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps, callback=callback)
    spent = callback.spent if isinstance(callback, TimedMetrics) else 0.0
    return np.array([time.perf_counter() - wall, time.process_time() - cpu, spent])


def profile(algo: type, args: Args) -> None:
    """One cProfile per side, for ``python -m pstats`` or snakeviz."""
    assert args.profile_dir is not None
    args.profile_dir.mkdir(parents=True, exist_ok=True)
    for side, make in (("stock", lambda: None), ("metrics", ExplorationMetricsCallback)):
        with tempfile.TemporaryDirectory() as log_dir:
            model = algo("MlpPolicy", gym.make("CartPole-v1"), seed=0, device="cpu", tensorboard_log=log_dir)
            profiler = cProfile.Profile()
            profiler.runcall(model.learn, args.timesteps, callback=make())
            profiler.dump_stats(args.profile_dir / f"{algo.__name__}_{side}.prof")


AGAIN = "stock again (A/A)"


def _ratios(timed: np.ndarray, base: np.ndarray) -> str:
    """Summed wall and CPU time of ``timed`` and their ratios to ``base`` (rows: rounds), with the per-round spread."""
    wall, cpu = timed[:, 0].sum() / base[:, 0].sum(), timed[:, 1].sum() / base[:, 1].sum()
    per_round = timed[:, 1] / base[:, 1]
    return (
        f"wall {timed[:, 0].sum():7.2f}s  cpu {timed[:, 1].sum():7.2f}s  ratio wall {wall:.3f}  cpu {cpu:.3f} "
        f"(per round {per_round.min():.3f}..{per_round.max():.3f}, median {np.median(per_round):.3f})"
    )


def main(args: Args) -> int:
    """Run the benchmark; returns the exit status (2 for a bad argument; the verdict is printed)."""
    for name, value, low in (("timesteps", args.timesteps, 1), ("rounds", args.rounds, 1)):
        if value < low:
            print(f"error: --{name}={value} must be >= {low}", file=sys.stderr)
            return 2
    if not args.target > 0:
        print(f"error: --target={args.target} must be > 0", file=sys.stderr)
        return 2
    th.set_num_threads(1)
    variants: dict[str, Any] = {"stock": lambda: None, "metrics": ExplorationMetricsCallback}
    if args.control:
        variants[AGAIN] = lambda: None
    if args.grad_coherence:
        variants["grad_coherence"] = lambda: ExplorationMetricsCallback(grad_coherence=True)
    print(f"CartPole-v1, {args.timesteps} steps per run, {args.rounds} alternating rounds, TensorBoard on both sides")
    worst = 0.0
    for algo in (PPO, A2C):
        if args.profile_dir is not None:
            profile(algo, args)
        runs: dict[str, list[np.ndarray]] = {name: [] for name in variants}
        for seed in range(args.rounds):
            names = list(variants) if seed % 2 == 0 else list(reversed(variants))
            order = names[seed // 2 % len(names) :] + names[: seed // 2 % len(names)]  # every variant in every slot
            for name in order:
                with tempfile.TemporaryDirectory() as log_dir:
                    runs[name].append(train_seconds(algo, variants[name](), args.timesteps, seed, log_dir))
        stock = np.array(runs.pop("stock"))
        again = np.array(runs.pop(AGAIN)) if AGAIN in runs else None
        base = stock if again is None else (stock + again) / 2  # with the control: two samples of the baseline
        print(f"{algo.__name__}: stock             wall {base[:, 0].sum():7.2f}s  cpu {base[:, 1].sum():7.2f}s")
        if again is not None:
            print(f"{algo.__name__}: {AGAIN:17s} {_ratios(again, stock)}  <- the machine's own noise")
        for name, rows in runs.items():
            timed = np.array(rows)
            print(f"{algo.__name__}: {name:17s} {_ratios(timed, base)}")
            if name == "metrics":
                worst = max(worst, timed[:, 1].sum() / base[:, 1].sum())
        with tempfile.TemporaryDirectory() as log_dir:  # hook time: one more run, with timers (not in the ratios)
            hooks = train_seconds(algo, TimedMetrics(), args.timesteps, 0, log_dir)
        print(
            f"{algo.__name__}: in hooks {hooks[2]:.2f}s = {100 * hooks[2] / hooks[0]:.1f}% of that run's wall "
            f"(one extra timed run, seed 0)"
        )
    verdict = "OK" if worst <= args.target else "ABOVE TARGET"
    print(f"worst cpu ratio {worst:.3f} (target <= {args.target:.2f}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(tyro.cli(Args)))
