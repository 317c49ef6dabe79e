"""Gaussian (Box) policies log explore/ metrics: read back from the TensorBoard event file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stable_baselines3 import PPO

from rlfloor.callbacks import ExplorationMetricsCallback
from rlfloor.policies import FlooredActorCriticPolicy
from tests.rlfloor.test_metrics import read_events, values

SMALL_PPO: dict[str, Any] = dict(n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu")


def test_pendulum_with_min_std(tmp_path: Path) -> None:
    min_std = 0.1
    model = PPO(FlooredActorCriticPolicy, "Pendulum-v1", policy_kwargs={"min_std": min_std}, **SMALL_PPO)
    model.tensorboard_log = str(tmp_path)
    model.learn(384, callback=ExplorationMetricsCallback(), tb_log_name="run")
    scalars, _ = read_events(tmp_path)
    # first dump: after the first rollout, before any update: SB3's log_std starts at 0, so std = 0.1 + 1
    std0 = min_std + 1.0
    assert values(scalars, "explore/std_min")[0] == pytest.approx(std0, rel=1e-5)
    assert values(scalars, "explore/entropy")[0] == pytest.approx(
        math.log(std0) + 0.5 * math.log(2 * math.pi * math.e), rel=1e-5
    )
    assert values(scalars, "explore/std_floor_share")[0] == pytest.approx(min_std / std0, rel=1e-5)
    assert np.all(values(scalars, "explore/std_min") >= min_std)
    assert np.all(values(scalars, "explore/entropy_min") <= values(scalars, "explore/entropy") + 1e-9)
    shares = values(scalars, "explore/std_floor_share")
    assert np.all((shares > 0.0) & (shares <= 1.0))
    # the spread of the actions taken (unclipped samples): close to the policy's std on a fresh policy
    spread = values(scalars, "explore/action_std/0")
    assert spread[0] == pytest.approx(std0, rel=0.25)
    assert np.all(values(scalars, "explore/action_std") == spread)  # one dimension: the mean is the value
    kl = values(scalars, "explore/kl")
    assert len(kl) == 2 and np.all(kl >= 0.0)
    assert np.all(np.isfinite(values(scalars, "explore/logp_adv_cov")))
    assert np.all(np.isfinite(values(scalars, "explore/logp_adv_cov_state")))
    assert np.all(values(scalars, "floor/min_std") == pytest.approx(min_std))
    assert "explore/min_prob" not in scalars and "explore/action_freq/0" not in scalars


def test_stock_gaussian_policy(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", "Pendulum-v1", **SMALL_PPO)
    model.tensorboard_log = str(tmp_path)
    model.learn(128, callback=ExplorationMetricsCallback(), tb_log_name="run")
    scalars, _ = read_events(tmp_path)
    assert values(scalars, "explore/std_min") == pytest.approx([1.0])
    assert values(scalars, "explore/std_floor_share") == [0.0]
    assert values(scalars, "floor/min_std") == [0.0]
