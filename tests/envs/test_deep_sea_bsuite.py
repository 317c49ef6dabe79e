"""rlfloor/DeepSea-v1 is bsuite's deep_sea: same mapping, rewards, observations and bad-episode counters."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs.deep_sea import DeepSeaEnv, bsuite_action_mapping

deep_sea = pytest.importorskip(
    "bsuite.environments.deep_sea", reason="bsuite is not installed: pip install -e '.[bsuite]'"
)


@pytest.mark.parametrize("size", [2, 5, 10, 21, 50])
@pytest.mark.parametrize("mapping_seed", [0, 1, 7, 42, 2**31 - 1])
def test_v1_mapping_is_bsuites(size: int, mapping_seed: int) -> None:
    reference = deep_sea.DeepSea(size=size, mapping_seed=mapping_seed, seed=0)
    env = gym.make("rlfloor/DeepSea-v1", size=size, mapping_seed=mapping_seed)
    np.testing.assert_array_equal(env.unwrapped.mapping, reference._action_mapping)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(bsuite_action_mapping(size, mapping_seed), reference._action_mapping)


def test_v0_keeps_its_own_mapping() -> None:
    """-v0 is not changed by -v1 (Gymnasium's versioning rule): about half its cells differ from bsuite's."""
    v0 = DeepSeaEnv(size=20, mapping_seed=42).mapping
    np.testing.assert_array_equal(v0, np.random.default_rng(42).integers(0, 2, size=(20, 20)))
    agree = float(np.mean(v0 == bsuite_action_mapping(20, 42)))
    assert 0.3 < agree < 0.7


@pytest.mark.parametrize(("size", "mapping_seed"), [(4, 0), (8, 42), (12, 3)])
def test_v1_trajectories_match_bsuite_step_for_step(size: int, mapping_seed: int) -> None:
    reference = deep_sea.DeepSea(size=size, mapping_seed=mapping_seed, seed=0)
    env = gym.make("rlfloor/DeepSea-v1", size=size, mapping_seed=mapping_seed)
    rng = np.random.default_rng(size)
    right = reference._action_mapping
    bad_total = 0
    for episode in range(60):
        timestep = reference.reset()
        obs, _ = env.reset(seed=episode)
        np.testing.assert_array_equal(obs, timestep.observation.ravel())
        # mix random episodes with all-right ones so the goal is reached too
        all_right = episode % 5 == 0
        while not timestep.last():
            row, col = divmod(int(np.flatnonzero(obs)[0]), size)
            action = int(right[row, col]) if all_right else int(rng.integers(2))
            timestep = reference.step(action)
            obs, reward, terminated, truncated, info = env.step(action)
            assert reward == pytest.approx(timestep.reward, abs=1e-12)
            np.testing.assert_array_equal(obs, timestep.observation.ravel())
            assert terminated is timestep.last() and truncated is False
        assert info["bad_episode"] == reference._bad_episode
        bad_total += reference._bad_episode
        assert info["total_bad_episodes"] == reference.bsuite_info()["total_bad_episodes"] == bad_total
        assert info["reached_goal"] or not all_right


def test_shimmy_bsuite_deep_sea_is_the_same_task() -> None:
    """bsuite's own env through shimmy (the suite's ``bsuite-deepsea-*`` entries) gives the same rewards."""
    pytest.importorskip("shimmy", reason="shimmy is not installed: pip install -e '.[bsuite]'")
    import shimmy  # noqa: F401  (registers bsuite/ ids)

    ours = gym.make("rlfloor/DeepSea-v1", size=6, mapping_seed=42)
    theirs = gym.make("bsuite/deep_sea-v0", size=6, mapping_seed=42)
    rng = np.random.default_rng(0)
    for episode in range(20):
        obs, _ = ours.reset(seed=episode)
        their_obs, _ = theirs.reset(seed=episode)
        done = False
        while not done:
            np.testing.assert_array_equal(obs, np.asarray(their_obs).ravel())
            action = int(rng.integers(2))
            obs, reward, done, _, _ = ours.step(action)
            their_obs, their_reward, their_done, _, _ = theirs.step(action)
            assert reward == pytest.approx(their_reward) and done == their_done


def test_v1_rejects_a_seed_randomstate_cannot_take() -> None:
    with pytest.raises(ValueError, match="mapping_seed must be < 2\\*\\*32 with bsuite_mapping"):
        DeepSeaEnv(size=4, mapping_seed=2**32, bsuite_mapping=True)
    with pytest.raises(ValueError, match="bsuite_mapping must be a bool"):
        DeepSeaEnv(size=4, bsuite_mapping="yes")  # type: ignore[arg-type]
