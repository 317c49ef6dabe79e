"""Under SB3's VecNormalize the bonus is the novelty of the env's own observations, not of the normalized ones."""

from __future__ import annotations

from collections import Counter
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from envs import suite
from rlfloor.intrinsic import RND, IntrinsicRewardCallback, SimHashCounter
from rlfloor.stats.coverage import StateVisitCounter, state_keys


class Recorder(gym.Wrapper[Any, Any, Any, Any]):
    """Keeps every observation ``step`` returns (the terminal one where an episode ends)."""

    def __init__(self, env: gym.Env[Any, Any], seen: list[np.ndarray]) -> None:
        super().__init__(env)
        self.seen = seen

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.seen.append(np.array(obs, copy=True))
        return obs, reward, terminated, truncated, info


def train(method: str, clip_obs: float) -> tuple[PPO, list[np.ndarray]]:
    seen: list[np.ndarray] = []
    venv = make_vec_env(lambda: Recorder(suite.make("deepsea-6"), seen), n_envs=2, seed=0)
    env = VecNormalize(venv, norm_obs=True, norm_reward=True, clip_obs=clip_obs)
    model = PPO("MlpPolicy", env, n_steps=48, batch_size=48, n_epochs=1, seed=0, device="cpu")
    model.learn(192, callback=IntrinsicRewardCallback(method=method, coef=0.1))
    return model, seen


def test_exact_counts_key_the_raw_observations_terminal_ones_included() -> None:
    # clip_obs far out, so that VecNormalize clips nothing (clipped values cannot be mapped back).
    model, seen = train("count", clip_obs=1e6)
    counter = model.intrinsic_state.novelty  # type: ignore[attr-defined]
    assert isinstance(counter, StateVisitCounter)
    expected = Counter(state_keys(np.stack(seen)))
    assert len(seen) == 192 and sum(expected.values()) == 192
    assert counter.counts == dict(expected)
    # DeepSea-6's episodes last 6 steps: 32 terminal observations (bottom row) are among them.
    assert sum(1 for obs in seen if obs.reshape(6, 6)[-1].any()) == 32


def test_simhash_buckets_the_raw_observations() -> None:
    model, seen = train("simhash", clip_obs=1e6)
    counter = model.intrinsic_state.novelty  # type: ignore[attr-defined]
    assert isinstance(counter, SimHashCounter)
    expected = np.bincount(counter.codes(np.stack(seen)), minlength=len(counter.table))
    np.testing.assert_array_equal(counter.table, expected)


def test_rnd_normalizes_the_raw_observations_itself() -> None:
    model, seen = train("rnd", clip_obs=10.0)
    rnd = model.intrinsic_state.novelty  # type: ignore[attr-defined]
    assert isinstance(rnd, RND) and rnd.obs_rms is not None
    # Its running mean is the mean of the one-hot positions the env returned (VecNormalize's would be ~0),
    # up to terminal values VecNormalize may have clipped at 10 standard deviations.
    np.testing.assert_allclose(rnd.obs_rms.mean, np.stack(seen).mean(axis=0), atol=0.02)
    assert rnd.obs_rms.mean.min() >= 0.0  # VecNormalize's outputs are centered: some means would be < 0
