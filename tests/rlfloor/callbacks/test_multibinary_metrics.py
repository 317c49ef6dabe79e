"""MultiBinary actions: the metrics log what applies to a Bernoulli policy (one two-action categorical per bit:
entropy, min_prob, floor mass, KL, action frequencies), not the Box tags (issue 22)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor

from rlfloor.callbacks import ExplorationMetricsCallback
from rlfloor.callbacks.rollout import evaluate_states
from rlfloor.policies import FlooredActorCriticPolicy
from tests.rlfloor.test_metrics import SMALL_PPO, assert_frequencies_sum_to_one, train, values

BITS = 3
BOX_TAGS = ("floor/min_std", "explore/action_std", "explore/action_std/0", "explore/std_min", "explore/std_mean")


class Switches(gym.Env[np.ndarray, np.ndarray]):
    """Three on/off switches; reward = switches on; 10-step episodes."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, (BITS,), np.float32)
        self.action_space = spaces.MultiBinary(BITS)
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._t = 0
        return np.zeros(BITS, np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._t += 1
        return np.asarray(action, np.float32), float(np.sum(action)), self._t >= 10, False, {}


def test_the_statistics_are_those_of_the_bernoulli_itself() -> None:
    """Per-bit categoricals: the same entropy and log-probabilities as the policy's Bernoulli (floored)."""
    model = PPO(FlooredActorCriticPolicy, Monitor(Switches()), policy_kwargs={"min_prob": 0.1}, **SMALL_PPO)
    obs = np.random.default_rng(0).random((32, BITS)).astype(np.float32)
    batch = evaluate_states(model.policy, obs)
    assert batch is not None and [lp.shape for lp in batch.log_probs] == [(32, 2)] * BITS  # type: ignore[union-attr]
    with th.no_grad():
        distribution = model.policy.get_distribution(th.as_tensor(obs))
        actions = th.as_tensor(np.random.default_rng(1).integers(0, 2, (32, BITS)), dtype=th.float32)
        assert th.allclose(batch.entropy(), distribution.entropy(), atol=1e-6)  # type: ignore[union-attr]
        assert th.allclose(batch.log_prob(actions), distribution.log_prob(actions), atol=1e-6)  # type: ignore[union-attr]
    assert all(float(p.min()) >= 0.1 - 1e-6 for p in batch.probs())  # type: ignore[union-attr]


@pytest.mark.parametrize(("policy", "min_prob"), [("MlpPolicy", 0.0), (FlooredActorCriticPolicy, 0.1)])
def test_multibinary_metrics(tmp_path: Path, policy: Any, min_prob: float) -> None:
    kwargs = {"policy_kwargs": {"min_prob": min_prob}} if min_prob else {}
    model = PPO(policy, Monitor(Switches()), **kwargs, **SMALL_PPO)
    scalars = train(model, tmp_path, 384, [ExplorationMetricsCallback(grad_coherence=True)])
    assert not set(BOX_TAGS) & set(scalars), sorted(scalars)
    entropy = values(scalars, "explore/entropy")
    assert entropy[0] == pytest.approx(BITS * math.log(2), rel=1e-3)  # a fresh policy: every bit near 1/2
    assert np.all(entropy <= BITS * math.log(2) + 1e-6)
    assert np.all(values(scalars, "explore/entropy_norm") <= 1.0 + 1e-6)
    assert np.all(values(scalars, "floor/min_prob") == pytest.approx(min_prob))
    assert np.all(values(scalars, "explore/min_prob") >= min_prob * (1 - 1e-5))
    assert np.all(values(scalars, "floor/mass") == pytest.approx(2 * min_prob))  # K * m per bit, K = 2
    kl = values(scalars, "explore/kl")
    assert len(kl) == 2 and np.all(kl >= 0.0)
    for bit in range(BITS):
        assert_frequencies_sum_to_one(scalars, f"explore/action_freq/{bit}/", 2)
    assert np.all(np.isfinite(values(scalars, "explore/logp_adv_cov")))
    assert "explore/grad_coherence" in scalars
