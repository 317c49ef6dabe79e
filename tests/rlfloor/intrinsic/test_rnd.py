"""RND: networks for vectors and grids, observation normalization, predictor training, save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO

from envs import suite
from rlfloor.intrinsic import RND, IntrinsicRewardCallback, IntrinsicState
from rlfloor.intrinsic.rnd import OBS_CLIP


@pytest.mark.parametrize(
    "space",
    [
        spaces.Box(0, 255, (7, 7, 3), np.uint8),  # MiniGrid image
        spaces.Box(0, 1, (10, 10, 4), np.float32),  # MinAtar grid
        spaces.Box(0, 255, (3, 40, 40), np.uint8),  # channels first, strided
        spaces.Discrete(6),
        spaces.Box(-1, 1, (5,), np.float32),
    ],
)
def test_rnd_networks_embed_every_supported_space(space: spaces.Space) -> None:
    rnd = RND(space, embedding_dim=16, hidden=32)
    obs = np.stack([space.sample() for _ in range(8)])
    rnd.update_normalizer(obs)
    novelty = rnd.novelty(obs)
    assert novelty.shape == (8,)
    assert np.isfinite(novelty).all() and (novelty >= 0).all()
    uses_conv = any(isinstance(m, th.nn.Conv2d) for m in rnd.target.modules())
    assert uses_conv == (len(getattr(space, "shape", ())) == 3)


def test_rnd_space_errors() -> None:
    with pytest.raises(ValueError, match="not supported by RND"):
        RND(spaces.Box(0, 1, (2, 3), np.float32))
    with pytest.raises(ValueError, match="learning_rate"):
        RND(spaces.Discrete(3), learning_rate=-1.0)


def test_rnd_normalizes_and_clips_observations() -> None:
    rnd = RND(spaces.Box(-100, 100, (3,), np.float32))
    rnd.update_normalizer(np.random.default_rng(0).normal(10.0, 2.0, (500, 3)).astype(np.float32))
    x = rnd._normalized(np.array([[10.0, 10.0, 1000.0]], np.float32))
    assert abs(float(x[0, 0])) < 0.3
    assert float(x[0, 2]) == OBS_CLIP


def test_predictor_learns_seen_states_not_unseen_ones() -> None:
    rnd = RND(spaces.Discrete(20), learning_rate=1e-2, epochs=20, batch_size=32)
    seen, unseen = np.arange(10).repeat(10), np.arange(10, 20)
    rnd.update_normalizer(np.arange(20))
    before_seen, before_unseen = rnd.novelty(seen).mean(), rnd.novelty(unseen).mean()
    target_before = [p.clone() for p in rnd.target.parameters()]
    rnd.train(seen)
    assert rnd.novelty(seen).mean() < 0.2 * before_seen
    assert rnd.novelty(unseen).mean() > 3 * rnd.novelty(seen).mean()
    assert before_unseen > 0
    assert all(th.equal(a, b) for a, b in zip(target_before, rnd.target.parameters(), strict=True))


def test_rnd_state_round_trips_save_and_load(tmp_path: Path) -> None:
    env = suite.make("deepsea-6")
    model: Any = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128, callback=IntrinsicRewardCallback(method="rnd", coef=1.0))
    state = model.intrinsic_state
    assert isinstance(state, IntrinsicState) and state.return_rms.count > 1
    assert isinstance(state.novelty, RND)
    model.save(tmp_path / "model.zip")

    loaded: Any = PPO.load(tmp_path / "model.zip", env=suite.make("deepsea-6"), device="cpu")
    restored = loaded.intrinsic_state
    assert isinstance(restored, IntrinsicState) and isinstance(restored.novelty, RND)
    before, after = state.novelty, restored.novelty
    for net in ("target", "predictor"):
        for a, b in zip(getattr(before, net).parameters(), getattr(after, net).parameters(), strict=True):
            assert th.equal(a, b)
    assert before.obs_rms is not None and after.obs_rms is not None
    np.testing.assert_array_equal(before.obs_rms.mean, after.obs_rms.mean)
    assert restored.return_rms.var == state.return_rms.var
    probe = np.eye(36, dtype=np.float32)
    np.testing.assert_allclose(after.novelty(probe), before.novelty(probe))

    # Continuing learn() after load reuses the restored state instead of starting a fresh one.
    count_before = restored.return_rms.count
    callback = IntrinsicRewardCallback(method="rnd", coef=1.0)
    loaded.learn(64, callback=callback, reset_num_timesteps=False)
    assert callback.state is restored and loaded.intrinsic_state is restored
    assert restored.return_rms.count > count_before


def test_count_table_round_trips_save_and_load(tmp_path: Path) -> None:
    env = suite.make("deepsea-6")
    model: Any = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128, callback=IntrinsicRewardCallback(method="count", coef=0.1))
    model.save(tmp_path / "model.zip")
    loaded: Any = PPO.load(tmp_path / "model.zip", device="cpu")
    assert loaded.intrinsic_state.novelty.counts == model.intrinsic_state.novelty.counts
    assert sum(loaded.intrinsic_state.novelty.counts.values()) == 128
