"""The rl-zoo3 recipe: scripts/zoo/ configs train floored policies through rl-zoo3's own train script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml  # type: ignore[import-untyped]
from stable_baselines3 import PPO

ROOT = Path(__file__).resolve().parents[2]
ZOO = ROOT / "scripts" / "zoo"

pytest.importorskip("rl_zoo3", reason="rl_zoo3 is not installed: pip install -e '.[zoo]'")


def zoo_train(config: Path, tmp_path: Path, timesteps: int = 512) -> Path:
    """Run ``python -m rl_zoo3.train`` on CartPole-v1 with ``config``; return the saved model's path."""
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", str(config)]
    command += ["-n", str(timesteps), "-f", str(tmp_path / "logs"), "--seed", "0", "--eval-freq", "-1"]
    command += ["--device", "cpu", "--vec-env", "dummy", "--verbose", "0"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    (model,) = (tmp_path / "logs" / "ppo").glob("CartPole-v1_*/CartPole-v1.zip")
    return model


def test_yaml_recipe_trains_a_floored_policy(tmp_path: Path) -> None:
    model = PPO.load(zoo_train(ZOO / "ppo_floor.yml", tmp_path), device="cpu")
    policy: Any = model.policy
    assert type(policy).__name__ == "FlooredActorCriticPolicy"
    assert policy.min_prob == pytest.approx(0.02)
    assert model.num_timesteps == 512
    observations = np.stack([gym.make("CartPole-v1").reset(seed=seed)[0] for seed in range(16)])
    probs = policy.get_distribution(policy.obs_to_tensor(observations)[0]).distribution.probs
    assert float(probs.min()) >= 0.02 - 1e-6


def test_python_recipe_anneals_the_floor(tmp_path: Path) -> None:
    """LinearSchedule(0.05, 0) with FloorScheduleCallback: the floor in force has moved below its start."""
    model = PPO.load(zoo_train(ZOO / "ppo_floor_annealed.py", tmp_path, timesteps=768), device="cpu")
    policy: Any = model.policy
    floor = policy.min_prob
    assert 0.0 <= floor < 0.05
    saved = (tmp_path / "logs" / "ppo").glob("CartPole-v1_*/CartPole-v1/config.yml")
    assert "rlfloor.schedules.LinearSchedule" in next(saved).read_text()


def test_yaml_minigrid_block_matches_the_suites_hyperparameters() -> None:
    """The recipe's DoorKey block and envs.suite's minigrid-flat-doorkey-5 carry the same rl-zoo3 settings."""
    from envs.suite import get_entry

    block = yaml.safe_load((ZOO / "ppo_floor.yml").read_text())["MiniGrid-DoorKey-5x5-v0"]
    entry = get_entry("minigrid-flat-doorkey-5")
    assert {k: block[k] for k in entry.hyperparams["ppo"]} == dict(entry.hyperparams["ppo"])
    assert block["n_timesteps"] == entry.budget
    assert block["env_wrapper"] == "minigrid.wrappers.FlatObsWrapper"
