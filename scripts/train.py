"""Train one agent preset on one environment, with exploration metrics in TensorBoard.

    python scripts/train.py --env deepsea-6 --agent ppo-floor --seed 0
    python scripts/train.py --env CartPole-v1 --agent a2c --timesteps 20000 --n-envs 4
    python scripts/train.py --env minigrid:MiniGrid-Empty-5x5-v0 --agent ppo --timesteps 10000

The run folder ``{out}/{env}__{agent}__s{seed}/`` gets ``config.json`` (the resolved settings and the
hyperparameters applied), ``tb/`` (TensorBoard), ``result.json`` (learning curve and final metrics),
``model.zip`` and optional ``checkpoints/``. ``--env`` takes a suite name, a registered Gymnasium id or
``module:EnvId``; scores are normalized when both reference returns are known (suite tasks, or
``--random-return``/``--optimal-return``), else the results hold raw returns.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import torch as th
import tyro

from agents import resolve_agent
from envs import resolve
from rlfloor.experiment import RunSettings, RunSpec, plan, train_run, write_json_atomic


@dataclass
class TrainConfig:
    """Train one agent preset on one environment."""

    env: str = "deepsea-6"
    """suite name (e.g. deepsea-6), registered Gymnasium id or module:EnvId"""
    agent: str = "ppo-floor"
    """agent preset name (see agents.presets)"""
    seed: int = 0
    """seed of the network, the sampling and the env resets"""
    timesteps: int | None = None
    """training budget in env steps, >= 1 (default: the suite budget, else 50000)"""
    n_envs: int | None = None
    """parallel envs in the DummyVecEnv (default: the env's hyperparameters, else 1)"""
    out: str = "runs"
    """folder the run folder is created in"""
    presets: str | None = None
    """JSON file of extra agent presets"""
    random_return: float | None = None
    """random reference return of the env (score 0), e.g. for a Gymnasium id outside the suite"""
    optimal_return: float | None = None
    """optimal reference return of the env (score 1), e.g. for a Gymnasium id outside the suite"""
    eval_episodes: int = 10
    """deterministic evaluation episodes at the end (0: off)"""
    checkpoint_freq: int = 0
    """save a checkpoint every N env steps (0: off)"""
    save_model: bool = True
    """save the trained model as model.zip"""
    metrics: bool = True
    """log exploration metrics to TensorBoard"""
    tensorboard: bool = True
    """write TensorBoard logs under tb/"""
    progress_bar: bool = True
    """show a progress bar while training"""
    curve_points: int = 20
    """points of the learning curve in result.json"""
    verbose: int = 0
    """SB3 verbosity (0, 1 or 2)"""


def settings_of(config: TrainConfig) -> RunSettings:
    """The library's run settings for this configuration."""
    fields = {f.name for f in dataclasses.fields(RunSettings)}
    return RunSettings(**{k: v for k, v in dataclasses.asdict(config).items() if k in fields})


def main() -> None:
    config = tyro.cli(TrainConfig, description=__doc__)
    try:
        given = {"random": config.random_return, "optimal": config.optimal_return}
        references = {config.env: {k: v for k, v in given.items() if v is not None}}
        env_resolver = functools.partial(resolve.resolve, references=references)
        agent_resolver = functools.partial(resolve_agent, presets=config.presets)
        run = plan(settings_of(config), env_resolver, agent_resolver)  # every check, before any folder exists
        run_dir = Path(config.out) / RunSpec(config.env, config.agent, config.seed, run.timesteps).run_id
    except ValueError as error:
        sys.exit(f"error: {error}")
    th.set_num_threads(1)
    result = train_run(run, run_dir)
    write_json_atomic(run_dir / "result.json", {**result, "settings": run.key_settings()})
    shown = {k: v for k, v in result.items() if k != "curve"}
    for key, value in shown.items():
        print(f"{key:>18}: {value:.4g}" if isinstance(value, float) else f"{key:>18}: {value}")
    print(f"run folder: {run_dir}")


if __name__ == "__main__":
    main()
