"""Train one agent preset on one environment, with exploration metrics in TensorBoard.

    python scripts/train.py --env deepsea-6 --agent ppo-floor --seed 0
    python scripts/train.py --env CartPole-v1 --agent a2c --timesteps 20000 --n-envs 4

The run folder ``{out}/{env}__{agent}__s{seed}/`` gets ``config.json`` (the resolved
settings), ``tb/`` (TensorBoard), ``result.json`` (learning curve and final metrics),
``model.zip`` and optional ``checkpoints/``. ``--env`` takes a suite name (see
``envs.suite``) or any registered gymnasium id; scores are normalized for suite tasks only.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env

from agents import AgentSpec, build_agent, get_agent, load_presets
from envs import suite
from rlfloor.config import parse_config
from rlfloor.sweep import RunSpec, write_json_atomic


@dataclass
class TrainConfig:
    env: str = field(default="deepsea-6", metadata={"help": "suite name (e.g. deepsea-6) or gymnasium id"})
    agent: str = field(default="ppo-floor", metadata={"help": "agent preset name (see agents.presets)"})
    seed: int = field(default=0, metadata={"help": "seed of the network, the sampling and the env resets"})
    timesteps: int | None = field(
        default=None, metadata={"help": "training budget in env steps (default: the suite budget, else 50000)"}
    )
    n_envs: int = field(default=1, metadata={"help": "number of parallel envs in the DummyVecEnv"})
    out: str = field(default="runs", metadata={"help": "folder the run folder is created in"})
    presets: str | None = field(default=None, metadata={"help": "JSON file of extra agent presets"})
    eval_episodes: int = field(default=10, metadata={"help": "deterministic evaluation episodes at the end (0: off)"})
    checkpoint_freq: int = field(default=0, metadata={"help": "save a checkpoint every N env steps (0: off)"})
    save_model: bool = field(default=True, metadata={"help": "save the trained model as model.zip"})
    metrics: bool = field(default=True, metadata={"help": "log exploration metrics to TensorBoard"})
    tensorboard: bool = field(default=True, metadata={"help": "write TensorBoard logs under tb/"})
    progress_bar: bool = field(default=True, metadata={"help": "show a progress bar while training"})
    curve_points: int = field(default=20, metadata={"help": "points of the learning curve in result.json"})
    verbose: int = field(default=0, metadata={"help": "SB3 verbosity (0, 1 or 2)"})


DEFAULT_TIMESTEPS = 50_000
FINAL_FRACTION = 0.25  # "final" metrics average the training episodes of the last quarter of the budget


def resolve_env(name: str, n_envs: int = 1) -> tuple[suite.SuiteEntry | None, Any]:
    """The suite entry (or None) and an env factory for a suite name or a gymnasium id.

    ``n_envs`` is the number of copies that will run side by side: suite tasks that count
    events per copy (the bandit's switches) are scaled so they happen at the same total step.
    """
    if name in suite.NAMES:
        entry = suite.get_entry(name)
        return entry, lambda: suite.make(entry, n_envs=n_envs)
    if name in gym.registry:
        return None, lambda: gym.make(name)
    raise ValueError(f"unknown env {name!r}: neither a suite name ({', '.join(suite.NAMES)}) nor a gymnasium id")


def check_compatible(agent: AgentSpec, entry: suite.SuiteEntry | None, env_name: str) -> None:
    """Masked envs need a mask-aware agent and vice versa; raise a clear error otherwise."""
    needs_masks = entry is not None and entry.action_masks
    if needs_masks and not agent.uses_masks:
        raise ValueError(f"env {env_name!r} has invalid actions; agent {agent.name!r} ignores masks (use ppo-mask*)")
    if agent.uses_masks and not needs_masks:
        raise ValueError(f"agent {agent.name!r} needs an env with action_masks(); {env_name!r} has none")


def suite_record(entry: suite.SuiteEntry) -> dict[str, Any]:
    """The parts of a suite entry that define the task and its score, for config.json."""
    return {
        "name": entry.name,
        "env_id": entry.env_id,
        "kwargs": dict(entry.kwargs),
        "budget": entry.budget,
        "random_return": entry.random_return,
        "optimal_return": entry.optimal_return,
    }


class EpisodeLog(BaseCallback):
    """Collects (end step, return, length) of every training episode from SB3's Monitor."""

    def __init__(self) -> None:
        super().__init__()
        self.episodes: list[tuple[int, float, int]] = []

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            episode = info.get("episode")
            if episode is not None:
                self.episodes.append((self.num_timesteps, float(episode["r"]), int(episode["l"])))
        return True


def learning_curve(
    episodes: list[tuple[int, float, int]], timesteps: int, points: int, entry: suite.SuiteEntry | None
) -> dict[str, list[float]]:
    """Mean return (and its normalized score) of the episodes ending in each of ``points`` equal step bins.

    Empty bins repeat the previous value (the first ones the first non-empty value).
    """
    edges = np.linspace(0, timesteps, points + 1)
    ends = np.array([e[0] for e in episodes], dtype=float)
    returns = np.array([e[1] for e in episodes], dtype=float)
    values = []
    for low, high in itertools.pairwise(edges):
        inside = (ends > low) & (ends <= high)
        values.append(float(returns[inside].mean()) if inside.any() else math.nan)
    filled = _fill_forward(values)
    return {
        "steps": edges[1:].tolist(),
        "return": filled,
        "score": [score_of(entry, value) for value in filled],
    }


def _fill_forward(values: list[float]) -> list[float]:
    known = [v for v in values if not math.isnan(v)]
    last = known[0] if known else math.nan
    out = []
    for value in values:
        last = last if math.isnan(value) else value
        out.append(last)
    return out


def score_of(entry: suite.SuiteEntry | None, mean_return: float) -> float:
    """Normalized score of a mean return (NaN outside the suite or without episodes)."""
    if entry is None or math.isnan(mean_return):
        return math.nan
    return suite.normalize_score(entry, mean_return)


def evaluate(model: Any, make_env: Any, episodes: int, seed: int, uses_masks: bool) -> float:
    """Mean return of the deterministic policy over ``episodes`` fresh episodes."""
    env = make_vec_env(make_env, n_envs=1, seed=seed + 10_000)
    if uses_masks:
        from sb3_contrib.common.maskable.evaluation import evaluate_policy as evaluate_masked

        mean_return, _ = evaluate_masked(model, env, n_eval_episodes=episodes, deterministic=True)
    else:
        from stable_baselines3.common.evaluation import evaluate_policy

        mean_return, _ = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True)
    env.close()
    return float(mean_return)  # type: ignore[arg-type]


def train(config: TrainConfig, run_dir: Path | None = None) -> dict[str, Any]:
    """Train as configured; write the run folder; return the run's results."""
    if config.n_envs < 1 or config.curve_points < 1 or config.eval_episodes < 0 or config.checkpoint_freq < 0:
        raise ValueError(f"n_envs, curve_points must be >= 1, eval_episodes, checkpoint_freq >= 0: {config}")
    presets = load_presets(config.presets) if config.presets else None
    agent = get_agent(config.agent, presets)
    entry, make_env = resolve_env(config.env, config.n_envs)
    check_compatible(agent, entry, config.env)
    timesteps = config.timesteps or (entry.budget if entry is not None else DEFAULT_TIMESTEPS)
    if timesteps <= 0:
        raise ValueError(f"timesteps={timesteps!r} must be positive")
    if run_dir is None:
        run_dir = Path(config.out) / RunSpec(config.env, config.agent, config.seed, timesteps).run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        run_dir / "config.json",
        {
            "train": {**dataclasses.asdict(config), "timesteps": timesteps},
            "agent": agent.to_dict(),
            "env": {"name": config.env, "suite": None if entry is None else suite_record(entry)},
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        },
    )

    env = make_vec_env(make_env, n_envs=config.n_envs, seed=config.seed)
    model, callbacks = build_agent(
        agent, env, seed=config.seed, tensorboard_log=str(run_dir / "tb") if config.tensorboard else None
    )
    episodes = EpisodeLog()
    callbacks.append(episodes)
    if config.metrics and config.tensorboard:
        from rlfloor.callbacks import ExplorationMetricsCallback

        callbacks.append(ExplorationMetricsCallback())
    if config.checkpoint_freq:
        every = max(config.checkpoint_freq // config.n_envs, 1)
        callbacks.append(CheckpointCallback(every, str(run_dir / "checkpoints"), name_prefix="model"))
    start = time.perf_counter()
    model.learn(timesteps, callback=callbacks, tb_log_name="run", progress_bar=config.progress_bar)
    wall_time = time.perf_counter() - start
    env.close()

    curve = learning_curve(episodes.episodes, timesteps, config.curve_points, entry)
    late = [r for end, r, _ in episodes.episodes if end > (1 - FINAL_FRACTION) * timesteps]
    final_return = float(np.mean(late)) if late else math.nan
    result: dict[str, Any] = {
        "env": config.env,
        "agent": config.agent,
        "seed": config.seed,
        "timesteps": timesteps,
        "episodes": len(episodes.episodes),
        "final_return": final_return,
        "final_score": score_of(entry, final_return),
        "auc_score": float(np.nanmean(curve["score"])) if entry is not None and episodes.episodes else math.nan,
        "curve": curve,
        "wall_time": wall_time,
        "steps_per_second": timesteps / wall_time,
    }
    if config.eval_episodes:
        eval_return = evaluate(model, make_env, config.eval_episodes, config.seed, agent.uses_masks)
        result["eval_return"] = eval_return
        result["eval_score"] = score_of(entry, eval_return)
    if config.save_model:
        tmp = run_dir / ".model.tmp.zip"
        model.save(tmp)
        os.replace(tmp, run_dir / "model.zip")
    return result


def main() -> None:
    config = parse_config(TrainConfig, description=__doc__)
    th.set_num_threads(1)
    try:
        result = train(config)
    except ValueError as error:
        sys.exit(f"error: {error}")
    run_dir = Path(config.out) / RunSpec(config.env, config.agent, config.seed, result["timesteps"]).run_id
    write_json_atomic(run_dir / "result.json", result)
    shown = {k: v for k, v in result.items() if k != "curve"}
    for key, value in shown.items():
        print(f"{key:>18}: {value:.4g}" if isinstance(value, float) else f"{key:>18}: {value}")
    print(f"run folder: {run_dir}")


if __name__ == "__main__":
    main()
