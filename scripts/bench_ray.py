"""Wall time of one comparison grid on local processes vs Ray, on this machine, in one run.

    python scripts/bench_ray.py                       # 8 runs of 2000 steps on deepsea-6
    python scripts/bench_ray.py --seeds 16 --timesteps 4000

The grid (``compare.py``'s runs, exploration metrics off) runs first on the local process
pool, then on a private local Ray instance, each into its own temporary results folder.
A backend's time is the whole sweep: start-up of the worker processes (and of Ray), every
run, and for Ray the shutdown; Ray's parts are also shown apart. Prints both times, the
ratio ray/local, and whether both backends produced the same numbers (same seeds on CPU).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ (for compare.py, train.py)

import compare

from rlfloor import ray_backend
from rlfloor.config import parse_config
from rlfloor.sweep import RunStore, run_sweep

SAME = ("final_score", "final_return", "episodes")  # result fields that must match across backends


@dataclass
class BenchConfig:
    envs: list[str] = field(default_factory=lambda: ["deepsea-6"], metadata={"help": "suite names"})
    agents: list[str] = field(default_factory=lambda: ["ppo", "ppo-floor"], metadata={"help": "agent presets"})
    seeds: int = field(default=4, metadata={"help": "seeds per (env, agent): the grid has envs x agents x seeds runs"})
    timesteps: int = field(default=2000, metadata={"help": "budget of every run in env steps"})
    workers: int | None = field(default=None, metadata={"help": "local processes (default: number of CPUs)"})


def time_sweep(backend: str, config: BenchConfig, out: Path) -> tuple[float, dict[str, tuple[object, ...]]]:
    """Seconds of ``run_sweep`` over the grid on ``backend``, and the results that must match."""
    compare_config = compare.CompareConfig(
        envs=config.envs,
        agents=config.agents,
        seeds=config.seeds,
        timesteps=config.timesteps,
        out=str(out),
        workers=config.workers,
        backend=backend,
        metrics=False,
        progress=False,
    )
    specs = compare.validate(compare_config)
    store = RunStore(out)
    start = time.perf_counter()
    summary = run_sweep(specs, compare.run_one, store, backend=backend, workers=config.workers, progress=False)
    seconds = time.perf_counter() - start
    if summary.failed or len(summary.finished) != len(specs):
        raise RuntimeError(f"{backend}: {summary}; see {out}/runs/*/error.json")
    results = {f"{r['env']}__{r['agent']}__s{r['seed']}": tuple(r[k] for k in SAME) for r in store.results()}
    return seconds, results


def main() -> None:
    config = parse_config(BenchConfig, description=__doc__)
    ray_backend.ship_by_value(sys.modules["compare"], sys.modules["train"])  # as on a cluster: scripts/ not installed
    runs = len(config.envs) * len(config.agents) * config.seeds
    print(f"grid: {runs} runs ({config.envs} x {config.agents} x {config.seeds} seeds) of {config.timesteps} steps")
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        local, local_results = time_sweep("local", config, Path(tmp) / "local")
        print(f"local processes: {local:7.1f} s", flush=True)
        # Ray timed in three parts; run_ray uses the instance started here and leaves it running.
        start = time.perf_counter()
        ray_backend.connect(None)
        started = time.perf_counter() - start
        runs_time, ray_results = time_sweep("ray", config, Path(tmp) / "ray")
        start = time.perf_counter()
        ray_backend.import_ray().shutdown()
        stopped = time.perf_counter() - start
        ray = started + runs_time + stopped
        print(f"ray (local)    : {ray:7.1f} s  = start {started:.1f} + runs {runs_time:.1f} + shutdown {stopped:.1f}")
    print(f"ratio ray/local: {ray / local:7.2f}  (runs only: {runs_time / local:.2f})")
    print(f"same results   : {'yes' if ray_results == local_results else 'NO'} ({', '.join(SAME)} of every run)")


if __name__ == "__main__":
    main()
