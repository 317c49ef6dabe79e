"""The grid CNN: shapes, channel order, no image scaling, and real learning with stock and floored policies."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.vec_env import VecTransposeImage

from rlfloor.networks import GRID_POLICY_KWARGS, GridCNN, grid_cnn, grid_layout
from rlfloor.policies import FlooredActorCriticPolicy

minigrid = pytest.importorskip("minigrid")
from envs.external.minigrid import ImgObsWrapper  # noqa: E402


def _doorkey() -> gym.Env:
    return ImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))


def test_layout_follows_sb3_channel_rule() -> None:
    last = spaces.Box(0, 255, (7, 7, 3), np.uint8)
    first = spaces.Box(0, 255, (3, 7, 7), np.uint8)
    assert grid_layout(last) == (False, 3, 7, 7)
    assert grid_layout(first) == (True, 3, 7, 7)
    cube = spaces.Box(0, 255, (8, 9, 10), np.uint8)
    assert grid_layout(cube) == (True, 8, 9, 10)
    assert grid_layout(cube, channels_first=False) == (False, 10, 8, 9)


@pytest.mark.parametrize(
    "space",
    [spaces.Box(0, 255, (5, 5, 3), np.uint8), spaces.Box(0, 1, (49,), np.float32), spaces.Discrete(4)],
)
def test_refuses_what_is_not_a_large_enough_grid(space: gym.Space) -> None:
    with pytest.raises(ValueError, match="grid"):
        GridCNN(space)


def test_rl_starter_files_shapes() -> None:
    extractor = GridCNN(spaces.Box(0, 255, (3, 7, 7), np.uint8))
    assert extractor.features_dim == 64  # ((7 - 1) // 2 - 2) ** 2 * 64, rl-starter-files' image_embedding_size
    big = GridCNN(spaces.Box(0, 255, (3, 9, 11), np.uint8))
    assert big.features_dim == ((9 - 1) // 2 - 2) * ((11 - 1) // 2 - 2) * 64
    with pytest.raises(ValueError, match="n_channels"):
        grid_cnn(0)


def test_channels_last_equals_channels_first_transposed() -> None:
    th.manual_seed(0)
    first = GridCNN(spaces.Box(0, 255, (3, 7, 7), np.uint8))
    last = GridCNN(spaces.Box(0, 255, (7, 7, 3), np.uint8))
    last.load_state_dict(first.state_dict())
    grids = th.randint(0, 11, (5, 7, 7, 3)).float()
    assert th.equal(last(grids), first(grids.permute(0, 3, 1, 2)))


def test_stock_ppo_sees_unscaled_channels_first_grids_and_learns_a_few_steps() -> None:
    model = PPO("MlpPolicy", _doorkey(), policy_kwargs=GRID_POLICY_KWARGS, n_steps=64, batch_size=32, seed=0)
    assert isinstance(model.get_env(), VecTransposeImage)
    assert isinstance(model.policy.features_extractor, GridCNN)
    assert model.policy.features_extractor.channels_first
    obs = model.get_env().reset()
    assert obs.shape == (1, 3, 7, 7)
    # normalize_images=False: the policy's features are the CNN of the raw integer codes (no division by 255)
    tensor = th.as_tensor(obs)
    features = model.policy.extract_features(tensor, model.policy.features_extractor)
    assert th.equal(features, model.policy.features_extractor.cnn(tensor.float()))
    before = [p.detach().clone() for p in model.policy.features_extractor.parameters()]
    model.learn(128)
    after = list(model.policy.features_extractor.parameters())
    assert any(not th.equal(a, b) for a, b in zip(before, after, strict=True))


def test_floored_a2c_on_the_grid_keeps_its_floor() -> None:
    model = A2C(
        FlooredActorCriticPolicy,
        _doorkey(),
        policy_kwargs={**GRID_POLICY_KWARGS, "min_prob": 0.05},
        n_steps=8,
        seed=0,
    )
    model.learn(64)
    obs = th.as_tensor(model.get_env().reset())
    with th.no_grad():
        probs = model.policy.get_distribution(obs).distribution.probs
    assert float(probs.min()) >= 0.05 - 1e-6
    assert th.allclose(probs.sum(-1), th.ones(1))
