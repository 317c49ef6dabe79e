"""DeepSea: dynamics, rewards, scores and counters against the bsuite description."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs  # noqa: F401
from envs.deep_sea import DeepSeaEnv


def right_path(env: DeepSeaEnv) -> list[int]:
    """The actions that mean "right" along the diagonal."""
    mapping = env.mapping
    return [int(mapping[t, t]) for t in range(env.size)]


def play(env: DeepSeaEnv, choose: Any, seed: int = 0) -> tuple[float, dict[str, Any], list[np.ndarray]]:
    """Play one episode; ``choose(row, col)`` returns True for "right". The cell is read from the obs."""
    obs, _ = env.reset(seed=seed)
    observations = [obs]
    total = 0.0
    info: dict[str, Any] = {}
    for t in range(env.size):
        row, col = divmod(int(np.flatnonzero(obs)[0]), env.size)
        assert row == t
        right = int(env.mapping[row, col])
        obs, reward, terminated, truncated, info = env.step(right if choose(row, col) else 1 - right)
        observations.append(obs)
        total += reward
        assert truncated is False
        assert terminated is (t == env.size - 1)
    return total, info, observations


@settings(max_examples=25, deadline=None)
@given(size=st.integers(2, 30), mapping_seed=st.integers(0, 2**31))
def test_all_right_returns_099_and_scores_1(size: int, mapping_seed: int) -> None:
    env = DeepSeaEnv(size=size, mapping_seed=mapping_seed)
    total, info, _ = play(env, lambda r, c: True)
    assert total == pytest.approx(0.99)
    assert info["reached_goal"] is True and info["left_diagonal"] is False
    assert info["score"] == 1.0
    assert info["denoised_return"] == pytest.approx(0.99)


@pytest.mark.parametrize("size", [2, 6, 12])
def test_all_left_returns_0_and_scores_about_0(size: int) -> None:
    env = DeepSeaEnv(size=size)
    total, info, _ = play(env, lambda r, c: False)
    assert total == 0.0
    assert info["reached_goal"] is False and info["left_diagonal"] is True
    # all-left saves the random policy's expected move cost, so it scores slightly above 0
    expected = (0.0 - env.random_return) / (env.optimal_return - env.random_return)
    assert info["score"] == pytest.approx(max(0.0, expected))
    assert info["score"] < 0.01


def test_one_wrong_turn_misses_the_goal_and_is_a_bad_episode() -> None:
    env = DeepSeaEnv(size=8)
    total, info, _ = play(env, lambda r, c: r != 3)
    assert info["reached_goal"] is False and info["left_diagonal"] is True
    assert total == pytest.approx(-7 * 0.01 / 8)
    assert info["score"] == 0.0


def test_left_diagonal_is_set_by_a_left_on_the_diagonal() -> None:
    env = DeepSeaEnv(size=6)
    env.reset(seed=0)
    m = env.mapping
    _, _, _, _, info = env.step(int(m[0, 0]))  # right: (1, 1), still on the diagonal
    assert info["left_diagonal"] is False
    _, _, _, _, info = env.step(1 - int(m[1, 1]))  # left on the diagonal
    assert info["left_diagonal"] is True
    env.reset()
    _, _, _, _, info = env.step(0)
    assert info["left_diagonal"] is False or m[0, 0] == 1  # flag resets with the episode


def test_left_after_a_failed_right_is_not_a_bad_episode() -> None:
    env = DeepSeaEnv(size=3, stochastic=True)
    m = env.mapping
    found = 0
    for seed in range(60):
        env.reset(seed=seed)
        obs, _, _, _, _ = env.step(int(m[0, 0]))
        if np.flatnonzero(obs)[0] != 3:  # the right move succeeded: (1, 1)
            continue
        found += 1  # failed: (1, 0), below the diagonal
        _, _, _, _, info = env.step(1 - int(m[1, 0]))
        assert info["left_diagonal"] is False
    assert found > 5


def test_observation_is_one_hot_of_the_cell_and_zero_at_the_end() -> None:
    env = DeepSeaEnv(size=5)
    _, _, observations = play(env, lambda r, c: r % 2 == 0)
    cols = [0]
    for r in range(5):
        cols.append(min(cols[-1] + 1, 4) if r % 2 == 0 else max(cols[-1] - 1, 0))
    for t, obs in enumerate(observations[:-1]):
        assert obs.shape == (25,) and obs.sum() == 1.0
        assert np.flatnonzero(obs).tolist() == [t * 5 + cols[t]]
    assert not observations[-1].any()


def test_mapping_is_fixed_by_mapping_seed_and_independent_of_reset_seed() -> None:
    a = DeepSeaEnv(size=12, mapping_seed=3)
    b = DeepSeaEnv(size=12, mapping_seed=3)
    a.reset(seed=1)
    b.reset(seed=2)
    assert np.array_equal(a.mapping, b.mapping)
    c = DeepSeaEnv(size=12, mapping_seed=4)
    assert not np.array_equal(a.mapping, c.mapping)
    # both actions mean "right" somewhere: no single action solves the task
    assert 0 < a.mapping.mean() < 1
    first = a.mapping
    a.reset(seed=99)
    assert np.array_equal(a.mapping, first)


def test_mapping_property_is_a_copy() -> None:
    env = DeepSeaEnv(size=4)
    m = env.mapping
    m[:] = 1 - m
    assert not np.array_equal(env.mapping, m)


def test_stochastic_right_fails_with_probability_one_over_n() -> None:
    n = 4
    env = DeepSeaEnv(size=n, stochastic=True)
    right = int(env.mapping[0, 0])
    env.reset(seed=0)
    trials = 4000
    failures = 0
    for _ in range(trials):
        env.reset()
        obs, _, _, _, _ = env.step(right)
        failures += int(np.flatnonzero(obs)[0] == n)  # row 1, column 0: the move failed
    rate = failures / trials
    assert abs(rate - 1 / n) < 4 * np.sqrt((1 / n) * (1 - 1 / n) / trials)


def test_stochastic_noise_only_at_the_end_columns_and_excluded_from_score() -> None:
    env = DeepSeaEnv(size=5, stochastic=True)
    noisy_differences = []
    for seed in range(200):
        total, info, _ = play(env, lambda r, c: False, seed=seed)  # ends in column 0: noisy
        noisy_differences.append(total - info["denoised_return"])
        assert info["denoised_return"] == 0.0 and info["score"] == pytest.approx(
            max(0.0, -env.random_return / (env.optimal_return - env.random_return))
        )
    diffs = np.array(noisy_differences)
    assert diffs.std() > 0.5 and abs(diffs.mean()) < 0.3  # N(0, 1) noise
    # noise exactly when the last step starts in an end column of the last row
    env = DeepSeaEnv(size=6, stochastic=True)
    seen = set()
    for seed in range(40):
        total, info, observations = play(env, lambda r, c: c == 0, seed=seed)  # zig-zag 0, 1, 0, 1, ...
        last_col = int(np.flatnonzero(observations[-2])[0]) % env.size
        at_end_column = last_col in (0, env.size - 1)
        assert (total != info["denoised_return"]) is at_end_column
        seen.add(at_end_column)
    assert seen == {True, False}


def test_stochastic_reference_returns_follow_bsuite() -> None:
    n = 8
    env = DeepSeaEnv(size=n, stochastic=True)
    path = (1 - 1 / n) ** (n - 1)
    assert env.optimal_return == pytest.approx(path - 0.01)
    assert env.random_return == pytest.approx(path * 2.0**-n - 0.005)


def test_stochastic_variant_is_registered() -> None:
    env = gym.make("rlfloor/DeepSeaStochastic-v0", size=7)
    assert env.unwrapped.stochastic is True and env.unwrapped.size == 7


def test_registered_without_time_limit_and_size_kwarg_sets_episode_length() -> None:
    env = gym.make("rlfloor/DeepSea-v0", size=20)
    assert gym.spec("rlfloor/DeepSea-v0").max_episode_steps is None
    env.reset(seed=0)
    steps = 0
    terminated = False
    while not terminated:
        _, _, terminated, truncated, _ = env.step(0)
        assert truncated is False
        steps += 1
    assert steps == 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 1}, r"size=1 is outside the allowed range \[2, 100\]"),
        ({"size": 101}, r"size=101 is outside the allowed range \[2, 100\]"),
        ({"size": 4.0}, r"size=.* must be an integer"),
        ({"size": True}, r"size=.* must be an integer"),
        ({"mapping_seed": -1}, r"mapping_seed=\-1 is outside the allowed range \[0, inf\)"),
        ({"move_cost": 1.0}, r"move_cost=1\.0 is outside the allowed range \[0, 1\)"),
        ({"move_cost": -0.1}, r"move_cost=.* is outside the allowed range"),
        ({"move_cost": float("nan")}, r"move_cost=.* is outside the allowed range"),
        ({"stochastic": "yes"}, r"stochastic must be a bool"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeepSeaEnv(**kwargs)
