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

A run folder is keyed by the run's settings, as ``rlfloor-compare`` keys its runs (the key is written to
``.key`` before training and into ``result.json`` after): the same command again reuses the finished run (it
prints its results and trains nothing); other settings (another ``--timesteps``, an edited preset) go to
``{env}__{agent}__s{seed}__{key}/``, never over another run; an interrupted run is trained again in its folder.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import tyro
from filelock import FileLock, Timeout

from agents import get_agent, load_presets
from envs import resolve
from rlfloor.experiment import RunSettings, RunSpec, plan, train_run, write_json_atomic, write_text_atomic
from rlfloor.experiment.cli import (
    RUN_KEY_FILE,
    check_out,
    checked,
    choose_run_dir,
    finished_record,
    folder_key,
    is_finished,
    refuse,
)
from rlfloor.experiment.run import Plan
from rlfloor.experiment.store import settings_key


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
    callbacks built once (:func:`rlfloor.experiment.run.plan`), and the run folder, chosen by the run's content
    key so that no other run is overwritten (:func:`~rlfloor.experiment.cli.choose_run_dir`)."""
    given = {"random": config.random_return, "optimal": config.optimal_return}
    references = {config.run.env: {k: v for k, v in given.items() if v is not None}}
    presets = load_presets(config.presets) if config.presets else None
    env_resolver = functools.partial(resolve.resolve, references=references)
    run = plan(config.run, env_resolver, functools.partial(get_agent, presets=presets))
    out = check_out(config.out)
    run_id = RunSpec(config.run.env, config.run.agent, config.run.seed, run.timesteps).run_id
    return run, choose_run_dir(out, run_id, settings_key(run.key_settings()))


def _show(result: dict[str, Any], run_dir: Path, note: str = "") -> None:
    """Print a run's results (not its curve or settings) and its folder."""
    for key, value in result.items():
        if key not in ("curve", "settings", "key"):
            print(f"{key:>18}: {value:.4g}" if isinstance(value, float) else f"{key:>18}: {value}")
    print(f"run folder: {run_dir}{note}")


_REUSED = " (finished before with these settings: its results above, nothing retrained; remove it to train again)"


def main(args: Sequence[str] | None = None) -> None:
    """The ``rlfloor-train`` command."""
    config = tyro.cli(TrainConfig, prog="rlfloor-train", description=__doc__, args=args)
    run, run_dir = checked(lambda: plan_train(config))
    key = settings_key(run.key_settings())
    if is_finished(run_dir, key):
        _show(finished_record(run_dir) or {}, run_dir, _REUSED)
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run_dir / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        refuse(ValueError(f"run folder {str(run_dir)!r} is being trained by another process; wait for it"))
    try:
        if folder_key(run_dir) not in (None, key):  # another run took the folder since it was chosen
            refuse(ValueError(f"run folder {str(run_dir)!r} was just taken by a run of other settings; try again"))
        if is_finished(run_dir, key):  # another process trained this run meanwhile
            _show(finished_record(run_dir) or {}, run_dir, _REUSED)
            return
        if run_dir.name.endswith(f"__{key[:8]}"):
            print(f"note: {run_dir.name.removesuffix(f'__{key[:8]}')} holds a run of other settings; kept")
        write_text_atomic(run_dir / RUN_KEY_FILE, key + "\n")
        import torch

        torch.set_num_threads(1)
        result = train_run(run, run_dir)
        write_json_atomic(run_dir / "result.json", {**result, "key": key, "settings": run.key_settings()})
    finally:
        lock.release()
    _show(result, run_dir)


__all__ = ["TrainConfig", "main", "plan_train"]
