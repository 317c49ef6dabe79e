"""Wall time of one comparison grid on local processes vs Ray, on this machine, in one run.

    python scripts/bench_ray.py                       # 8 runs of 2000 steps on deepsea-6
    python scripts/bench_ray.py --seeds 16 --timesteps 4000

The grid (``compare.py``'s runs, exploration metrics off) runs first on the local process pool, then on a
private local Ray instance, each into its own temporary results folder. A backend's time is the whole
sweep: start-up of the worker processes (and of Ray), every run, and for Ray the shutdown; Ray's parts are
also shown apart. Prints both times, the ratio ray/local, and whether both backends produced the same
numbers (same seeds on CPU). The run function reaches the Ray workers by reference (rlfloor, envs and
agents are installed), as on a cluster.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tyro

from agents import get_agent
from envs import resolve
from rlfloor.experiment import RunStore, grid, plan_spec, run_spec, run_sweep
from rlfloor.experiment.ray_backend import connect, import_ray
from rlfloor.experiment.run import Planner

SAME = ("final_score", "final_return", "episodes")  # result fields that must match across backends


@dataclass
class BenchConfig:
    """Time one grid on the local process pool and on a private local Ray instance."""

    envs: list[str] = field(default_factory=lambda: ["deepsea-6"])
    """env names (suite names, tags, Gymnasium ids)"""
    agents: list[str] = field(default_factory=lambda: ["ppo", "ppo-floor"])
    """agent presets"""
    seeds: int = 4
    """seeds per (env, agent): the grid has envs x agents x seeds runs"""
    timesteps: int = 2000
    """budget of every run in env steps"""
    workers: int | None = None
    """local processes (default: number of CPUs)"""


def time_sweep(backend: str, config: BenchConfig, out: Path) -> tuple[float, dict[str, tuple[object, ...]]]:
    """Seconds of ``run_sweep`` over the grid on ``backend``, and the results that must match."""
    planner = Planner(resolve.resolve, get_agent)
    specs = grid(resolve.expand(config.envs), config.agents, range(config.seeds), config.timesteps, {"metrics": False})
    specs = [plan_spec(spec, planner) for spec in specs]
    store = RunStore(out)
    start = time.perf_counter()
    summary = run_sweep(specs, run_spec, store, backend=backend, workers=config.workers, progress=False)
    seconds = time.perf_counter() - start
    if summary.failed or len(summary.finished) != len(specs):
        raise RuntimeError(f"{backend}: {summary}; see {out}/runs/*/error.json")
    results = {f"{r['env']}__{r['agent']}__s{r['seed']}": tuple(r[k] for k in SAME) for r in store.results()}
    return seconds, results


def main() -> None:
    config = tyro.cli(BenchConfig, description=__doc__)
    runs = len(config.envs) * len(config.agents) * config.seeds
    print(f"grid: {runs} runs ({config.envs} x {config.agents} x {config.seeds} seeds) of {config.timesteps} steps")
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        local, local_results = time_sweep("local", config, Path(tmp) / "local")
        print(f"local processes: {local:7.1f} s", flush=True)
        # Ray timed in three parts; the sweep uses the instance started here and leaves it running.
        start = time.perf_counter()
        connect(None)
        started = time.perf_counter() - start
        runs_time, ray_results = time_sweep("ray", config, Path(tmp) / "ray")
        start = time.perf_counter()
        import_ray().shutdown()
        stopped = time.perf_counter() - start
        ray = started + runs_time + stopped
        print(f"ray (local)    : {ray:7.1f} s  = start {started:.1f} + runs {runs_time:.1f} + shutdown {stopped:.1f}")
    print(f"ratio ray/local: {ray / local:7.2f}  (runs only: {runs_time / local:.2f})")
    print(f"same results   : {'yes' if ray_results == local_results else 'NO'} ({', '.join(SAME)} of every run)")


if __name__ == "__main__":
    main()
