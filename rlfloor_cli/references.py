"""Measure the suite's reference returns that no environment computes, and print them as envs.suite stores them.

* Random references: the mean and standard error of ``--episodes`` uniform-random episodes of each entry of
  ``envs.suite.RANDOM_REFERENCES`` (built with ``envs.suite.make``, so with the entry's wrappers). Episode ``i``
  is reset with seed ``i``; actions come from ``numpy.random.default_rng(--action-seed)``.
* With ``--optimal``: MiniGrid's optimal return, the reward of the shortest solution found by breadth-first
  search, averaged over ``--layouts`` layouts (seeds ``0..layouts-1``).

rlfloor's own tasks are not measured: their envs compute both references exactly and the suite reads them.

    nice -n 10 rlfloor-references --optimal
    rlfloor-references --names cartpole acrobot --episodes 5000

(``python scripts/measure_references.py`` is the same command.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tyro

from envs import suite
from envs.references import mean_and_se, minigrid_optimal_return, random_episode_returns
from rlfloor.checks import check_int
from rlfloor.experiment.cli import check_out, checked
from rlfloor.experiment.run import MAX_EPISODES


@dataclass(frozen=True)
class Config:
    """Which references to measure, and how many episodes or layouts."""

    names: tuple[str, ...] = field(default_factory=lambda: tuple(suite.RANDOM_REFERENCES))
    """Suite entries to measure (default: every entry of envs.suite.RANDOM_REFERENCES)."""
    episodes: int = 1000
    """Uniform-random episodes per entry (the suite requires at least 1000)."""
    action_seed: int = 0
    """Seed of the random actions; episode i is reset with seed i."""
    optimal: bool = False
    """Also compute MiniGrid's optimal return by breadth-first search."""
    layouts: int = 100
    """MiniGrid layouts (reset seeds 0..layouts-1) searched per entry with --optimal."""
    out: Path | None = None
    """Optional JSON file the numbers are also written to."""


def check(config: Config) -> list[suite.SuiteEntry]:
    """The entries to measure; one-line ``ValueError`` for a bad flag or name (a standard error needs two values)."""
    check_int("--episodes", config.episodes, 2, MAX_EPISODES)
    check_int("--layouts", config.layouts, 2 if config.optimal else 1)
    if config.out is not None:  # written after the measurement: checked before it
        if config.out.is_dir():
            raise ValueError(f"--out={str(config.out)!r} is a folder; give a JSON file name")
        check_out(str(config.out.parent))
    entries = [suite.get_entry(name) for name in config.names]
    for entry in entries:
        suite.require(entry)
    return entries


def measure(config: Config) -> None:
    """Measure and print the references."""
    entries = checked(lambda: check(config))
    results: dict[str, dict[str, float | int]] = {}
    for entry in entries:
        start = time.perf_counter()
        env = suite.make(entry)
        mean, se = mean_and_se(random_episode_returns(env, config.episodes, action_seed=config.action_seed))
        results[entry.name] = {"random_return": mean, "random_return_se": se, "random_episodes": config.episodes}
        if config.optimal and entry.env_id.startswith("MiniGrid"):
            values = [float(minigrid_optimal_return(env, seed)) for seed in range(config.layouts)]
            optimal, optimal_se = mean_and_se(np.asarray(values))
            results[entry.name].update(optimal_return=optimal, optimal_return_se=optimal_se, layouts=config.layouts)
        env.close()
        print(f"# {entry.name}: {results[entry.name]} ({time.perf_counter() - start:.0f}s)", flush=True)
    print("RANDOM_REFERENCES = {")
    for name, row in results.items():
        print(f'    "{name}": ({row["random_return"]:.6g}, {row["random_return_se"]:.3g}, {row["random_episodes"]}),')
    print("}")
    if config.optimal:
        print("MINIGRID_OPTIMAL = {")
        for name, row in results.items():
            if "optimal_return" in row:
                print(f'    "{name}": ({row["optimal_return"]:.6g}, {row["optimal_return_se"]:.3g}, {row["layouts"]}),')
        print("}")
    if config.out is not None:
        config.out.write_text(json.dumps(results, indent=2) + "\n")


def main(args: Sequence[str] | None = None) -> None:
    """The ``rlfloor-references`` command."""
    measure(tyro.cli(Config, prog="rlfloor-references", description=__doc__, args=args))


__all__ = ["Config", "main", "measure"]
