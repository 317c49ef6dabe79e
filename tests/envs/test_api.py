"""Gymnasium / SB3 API conformance of every registered ``rlfloor/`` environment."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

import envs
from tests.envs.helpers import episode_returns, random_action, rollout

ALL_IDS = envs.ENV_IDS
STOCHASTIC_IDS = (
    "rlfloor/DeepSeaStochastic-v0",
    "rlfloor/DeepSeaStochastic-v1",
    "rlfloor/DeceptiveChain-v0",
    "rlfloor/DriftingBandit-v0",
)
# Monte-Carlo episodes used to check each env's exact random_return against simulation.
MC_EPISODES = {
    "rlfloor/DeepSea-v0": 6000,
    "rlfloor/DeepSeaStochastic-v0": 6000,
    "rlfloor/DeepSea-v1": 6000,
    "rlfloor/DeepSeaStochastic-v1": 6000,
    "rlfloor/SwitchingBandit-v0": 6000,
    "rlfloor/DeceptiveChain-v0": 1500,
    "rlfloor/SymmetricGoals-v0": 3000,
    "rlfloor/MaskedGrid-v0": 1500,
    "rlfloor/DriftingBandit-v0": 6000,
    "rlfloor/PermutedGrid-v0": 1000,
    "rlfloor/MovingGoalGrid-v0": 3000,
}


def test_every_id_is_registered_and_versioned() -> None:
    assert len(ALL_IDS) == 11
    for env_id in ALL_IDS:
        assert env_id.startswith("rlfloor/") and env_id[-3:] in {"-v0", "-v1"}
        assert env_id in gym.registry
    assert {"rlfloor/DeepSea-v1", "rlfloor/DeepSeaStochastic-v1"} <= set(ALL_IDS)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_check_env_passes_without_warnings(env_id: str) -> None:
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sb3_check_env_passes_without_warnings(env_id: str) -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Gymnasium's "-v0 is out of date" once -v1 exists
        first, second = gym.make(env_id), gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_checker.check_env(first.unwrapped)
        sb3_checker.check_env(second)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_same_seed_gives_same_trajectory(env_id: str) -> None:
    first = rollout(gym.make(env_id), seed=7, steps=300)
    second = rollout(gym.make(env_id), seed=7, steps=300)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert data_equivalence(a, b, exact=True)


@pytest.mark.parametrize("env_id", STOCHASTIC_IDS)
def test_different_seeds_give_different_trajectories(env_id: str) -> None:
    first = rollout(gym.make(env_id), seed=1, steps=300)
    second = rollout(gym.make(env_id), seed=2, steps=300)
    assert not all(data_equivalence(a, b) for a, b in zip(first, second, strict=False))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_spaces_and_observations(env_id: str) -> None:
    env = gym.make(env_id)
    assert isinstance(env.action_space, gym.spaces.Discrete)
    assert isinstance(env.observation_space, gym.spaces.Box)
    assert env.observation_space.dtype == np.float32
    for obs, reward, terminated, truncated, info in rollout(env, seed=0, steps=200):
        assert env.observation_space.contains(obs)
        assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
        assert isinstance(info, dict)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_score_is_reported_exactly_on_episode_end(env_id: str) -> None:
    env = gym.make(env_id)
    u = env.unwrapped
    finished = 0
    total = 0.0
    for _, reward, terminated, truncated, info in rollout(env, seed=3, steps=600):
        total += reward
        if terminated or truncated:
            finished += 1
            assert 0.0 <= info["score"] <= 1.0
            if not env_id.startswith("rlfloor/DeepSeaStochastic"):  # its score uses the noise-free return
                expected = envs.scoring.normalized_score(total, u.random_return, u.optimal_return)
                assert info["score"] == pytest.approx(expected)
            total = 0.0
        else:
            assert "score" not in info
    assert finished >= 3


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_random_return_matches_simulation(env_id: str) -> None:
    """The exact reference ``random_return`` agrees with a Monte-Carlo estimate (4 standard errors)."""
    env = gym.make(env_id)
    returns = episode_returns(env, MC_EPISODES[env_id], seed=11)
    stderr = returns.std(ddof=1) / np.sqrt(len(returns))
    assert abs(returns.mean() - env.unwrapped.random_return) < 4 * stderr + 1e-9


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize("value", [-1, 99, 1.0, "1", None, np.array([0, 1])])
def test_out_of_range_action_raises_value_error_with_range(env_id: str, value: Any) -> None:
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    n = env.action_space.n
    with pytest.raises(ValueError, match=rf"\[0, {n - 1}\].*got"):
        env.step(value)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_numpy_integer_actions_are_accepted(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    action = env.action_space.sample()  # np.int64, valid in the current state
    assert isinstance(action, np.integer)
    env.step(action)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_render_modes(env_id: str) -> None:
    plain = gym.make(env_id)
    plain.reset(seed=0)
    assert plain.render() is None
    for mode in ("ansi", "rgb_array"):
        env = gym.make(env_id, render_mode=mode)
        rng = np.random.default_rng(0)
        env.reset(seed=0)
        first = env.render()
        if mode == "ansi":
            assert isinstance(first, str) and first.endswith("\n") and first.strip()
        else:
            assert isinstance(first, np.ndarray) and first.dtype == np.uint8
            assert first.ndim == 3 and first.shape[2] == 3
            assert first.shape[0] % 16 == 0 and first.shape[1] % 16 == 0
        changed = False
        for _ in range(20):  # the frame follows the agent: some random step must change it
            _, _, terminated, truncated, _ = env.step(random_action(env, rng))
            frame = env.render()
            assert type(frame) is type(first)
            if mode == "rgb_array":
                assert frame.shape == first.shape
            changed = changed or not np.array_equal(np.asarray(frame), np.asarray(first))
            if terminated or truncated:
                env.reset()
        assert changed


@pytest.mark.filterwarnings("ignore:.*not in the possible render_modes")
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_bad_render_mode_is_rejected(env_id: str) -> None:
    with pytest.raises(ValueError, match=r"render_mode must be None or one of \['ansi', 'rgb_array'\]"):
        gym.make(env_id, render_mode="video")


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_stepping_a_finished_episode_raises(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    done = False
    while not done:
        valid = np.flatnonzero(env.action_masks()) if hasattr(env, "action_masks") else np.arange(env.action_space.n)
        _, _, terminated, truncated, _ = env.step(int(rng.choice(valid)))
        done = terminated or truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_reference_returns_are_ordered_and_finite(env_id: str) -> None:
    u = gym.make(env_id).unwrapped
    assert np.isfinite(u.random_return) and np.isfinite(u.optimal_return)
    assert u.optimal_return > u.random_return
