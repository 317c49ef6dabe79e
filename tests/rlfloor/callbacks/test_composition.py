"""The one-job callbacks: standalone use, one shared evaluation per rollout."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3 import A2C, PPO

import rlfloor.callbacks.rollout as rollout_module
from rlfloor.callbacks import (
    ExplorationMetricsCallback,
    GradientCoherenceCallback,
    PolicyStatisticsCallback,
    VisitsCallback,
)
from tests.rlfloor.test_metrics import read_events, values


def test_one_forward_pass_per_rollout(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = rollout_module.evaluate_states

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(rollout_module, "evaluate_states", counting)
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(256, callback=ExplorationMetricsCallback(grad_coherence=True))
    assert len(calls) == 4  # statistics, KL (previous states) and coherence schedule share it


def test_callbacks_work_alone(tmp_path: Path) -> None:
    model = A2C("MlpPolicy", "CartPole-v1", n_steps=16, seed=0, device="cpu", tensorboard_log=str(tmp_path))
    callbacks = [PolicyStatisticsCallback(), VisitsCallback(), GradientCoherenceCallback(grad_samples=8)]
    model.learn(320, callback=callbacks, tb_log_name="run", log_interval=10)
    scalars, histograms = read_events(tmp_path)
    assert [step for step, _ in scalars["explore/entropy"]] == [160, 320]
    assert len(values(scalars, "explore/grad_coherence")) == 2
    assert len(values(scalars, "explore/first_reward_step")) == 2
    assert "explore/actions" in histograms
    assert not any(tag.startswith("loss/") for tag in scalars)


def test_values_kept_for_the_dump_reach_the_logger_when_training_ends_before_it() -> None:
    """Statistics and loss terms wait for the dump; a learn() that ends first still hands them over."""
    model = A2C("MlpPolicy", "CartPole-v1", n_steps=5, seed=0, device="cpu")
    callback = ExplorationMetricsCallback(policy_every=2)
    model.learn(5 * 10, callback=callback, log_interval=100)  # 10 rollouts: no dump
    recorded = model.logger.name_to_value
    for key in ("explore/entropy", "explore/min_prob", "explore/logp_adv_cov", "floor/mass", "loss/value"):
        assert key in recorded, key
    assert model.logger.name_to_count["explore/entropy"] == 5  # rollouts 2, 4, ..., 10
    assert model.logger.name_to_count["loss/value"] == 9  # the updates after rollouts 1..9
    assert 0.0 < recorded["explore/entropy"] <= math.log(2) + 1e-6
