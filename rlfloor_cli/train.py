"""Train one agent preset on one environment, with exploration metrics in TensorBoard.

    rlfloor-train --env deepsea-6 --agent ppo-floor --seed 0
    rlfloor-train --env CartPole-v1 --agent a2c --timesteps 20000 --n-envs 4
    rlfloor-train --env minigrid:MiniGrid-Empty-5x5-v0 --agent ppo --timesteps 10000

(``python scripts/train.py`` is the same command.) The run folder ``{out}/{env}__{agent}__s{seed}/`` gets
``config.json`` (the resolved settings and the hyperparameters applied), ``tb/`` (TensorBoard),
``result.json`` (learning curve and final metrics), ``model.zip`` and optional ``checkpoints/``. ``--env``
takes a suite name, a registered Gymnasium id or ``module:EnvId``; scores are normalized when both reference
returns are known (suite tasks, or ``--random-return``/``--optimal-return``), else the results hold raw
returns. Everything the run will use is built and checked before the run folder is created; a refusal is one
line (``error: ...``, exit status 2).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import tyro

from agents import get_agent, load_presets
from envs import resolve
from rlfloor.experiment import RunSettings, RunSpec, plan, train_run, write_json_atomic
from rlfloor.experiment.cli import check_out, check_run_dir, checked
from rlfloor.experiment.run import Plan


def _defaults() -> RunSettings:
    return RunSettings(env="deepsea-6", agent="ppo-floor", eval_episodes=10, progress_bar=True)


@dataclass
class TrainConfig:
    """Train one agent preset on one environment."""

    run: Annotated[RunSettings, tyro.conf.OmitArgPrefixes] = field(default_factory=_defaults)
    """the run's settings (the harness's RunSettings, flags without prefix)"""
    out: str = "runs"
    """folder the run folder is created in"""
    presets: str | None = None
    """JSON file of extra agent presets"""
    random_return: float | None = None
    """random reference return of the env (score 0), e.g. for a Gymnasium id outside the suite"""
    optimal_return: float | None = None
    """optimal reference return of the env (score 1), e.g. for a Gymnasium id outside the suite"""


def plan_train(config: TrainConfig) -> tuple[Plan, Path]:
    """Check and plan the run before anything is written: every setting, name, reference, the model and its
    callbacks built once (:func:`rlfloor.experiment.run.plan`), and the output folder."""
    given = {"random": config.random_return, "optimal": config.optimal_return}
    references = {config.run.env: {k: v for k, v in given.items() if v is not None}}
    presets = load_presets(config.presets) if config.presets else None
    env_resolver = functools.partial(resolve.resolve, references=references)
    run = plan(config.run, env_resolver, functools.partial(get_agent, presets=presets))
    check_out(config.out)
    run_id = RunSpec(config.run.env, config.run.agent, config.run.seed, run.timesteps).run_id
    return run, check_run_dir(Path(config.out) / run_id)


def main(args: Sequence[str] | None = None) -> None:
    """The ``rlfloor-train`` command."""
    config = tyro.cli(TrainConfig, prog="rlfloor-train", description=__doc__, args=args)
    run, run_dir = checked(lambda: plan_train(config))
    import torch

    torch.set_num_threads(1)
    result = train_run(run, run_dir)
    write_json_atomic(run_dir / "result.json", {**result, "settings": run.key_settings()})
    shown = {k: v for k, v in result.items() if k != "curve"}
    for key, value in shown.items():
        print(f"{key:>18}: {value:.4g}" if isinstance(value, float) else f"{key:>18}: {value}")
    print(f"run folder: {run_dir}")


__all__ = ["TrainConfig", "main", "plan_train"]
