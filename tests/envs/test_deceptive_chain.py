"""DeceptiveChain: RiverSwim dynamics, the exact model, and scores of the two candidate policies."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs import suite
from envs.deceptive_chain import LEFT, RIGHT, DeceptiveChainEnv
from envs.scoring import score_returns
from tests.envs.helpers import run_actions


def test_transition_model_is_a_distribution_and_matches_sampled_moves() -> None:
    env = DeceptiveChainEnv(length=5, p_right=0.35, p_slip=0.05)
    transitions, rewards = env.transition_model()
    assert np.allclose(transitions.sum(axis=2), 1.0)
    # Sample "right" from state 2 many times and compare with the model's row.
    trials = 6000
    counts = np.zeros(5)
    env.reset(seed=0)
    for _ in range(trials):
        env.reset()
        env.step(RIGHT)
        env.step(RIGHT)  # now in state 0, 1 or 2
        _, _, _, _, info = env.step(RIGHT)
        counts[info["state"]] += 1
    # distribution after three "right"s from state 0, by the model
    start = np.zeros(5)
    start[0] = 1.0
    expected = start @ transitions[:, RIGHT] @ transitions[:, RIGHT] @ transitions[:, RIGHT]
    stderr = np.sqrt(expected * (1 - expected) / trials) + 1e-12
    assert np.all(np.abs(counts / trials - expected) < 4 * stderr + 1e-9)
    assert rewards[0, LEFT] == 0.005 and rewards[1, LEFT] == 0.0
    assert rewards[4, RIGHT] == pytest.approx(0.95) and rewards[3, RIGHT] == pytest.approx(0.35)


def test_deterministic_always_right_is_optimal_and_scores_1() -> None:
    env = DeceptiveChainEnv(length=6, p_right=1.0, p_slip=0.0, horizon=30)
    total, info, steps = run_actions(env, [RIGHT] * 30)
    assert steps == 30
    # arrives at state 5 on step 5, then is paid on steps 5..30
    assert total == 26.0 == env.optimal_return
    assert info["score"] == 1.0 and info["max_state"] == 5 and info["large_rewards"] == 26


def test_farming_the_small_reward_scores_about_0() -> None:
    env = DeceptiveChainEnv()
    total, info, steps = run_actions(env, [LEFT] * 100)
    assert steps == 100 and total == pytest.approx(0.5)
    assert info["small_rewards"] == 100 and info["large_rewards"] == 0 and info["max_state"] == 0
    assert info["score"] < 0.002


def test_riverswim_always_right_reaches_the_optimum_on_average() -> None:
    env = DeceptiveChainEnv()  # stochastic RiverSwim dynamics
    values = np.array([run_actions(env, [RIGHT] * 100, seed=seed)[0] for seed in range(300)])
    # "always right" is an optimal policy of this chain, so its mean return is optimal_return
    assert abs(values.mean() - env.optimal_return) < 4 * values.std(ddof=1) / np.sqrt(len(values))
    assert score_returns(values, env.random_return, env.optimal_return) > 0.97


def test_optimal_return_is_what_value_iteration_says_for_small_cases() -> None:
    # two states, deterministic: right once, then paid every step
    env = DeceptiveChainEnv(length=2, p_right=1.0, p_slip=0.0, horizon=3)
    assert env.optimal_return == 3.0
    # random: exact enumeration of 2**3 action sequences
    total = 0.0
    for code in range(8):
        actions = [(code >> i) & 1 for i in range(3)]
        total += run_actions(env, actions)[0]
    assert env.random_return == pytest.approx(total / 8)


def test_one_hot_observation_tracks_the_state() -> None:
    env = DeceptiveChainEnv(length=4, p_right=1.0, p_slip=0.0)
    obs, info = env.reset(seed=0)
    assert np.flatnonzero(obs).tolist() == [0] and info["state"] == 0
    for expected in (1, 2, 3, 3):
        obs, _, _, _, info = env.step(RIGHT)
        assert np.flatnonzero(obs).tolist() == [expected] == [info["state"]]
    obs, _, _, _, info = env.step(LEFT)
    assert np.flatnonzero(obs).tolist() == [2]


def test_truncates_itself_at_horizon_and_registration_matches() -> None:
    assert gym.spec("rlfloor/DeceptiveChain-v0").max_episode_steps == DeceptiveChainEnv().horizon == 100
    env = gym.make("rlfloor/DeceptiveChain-v0")
    env.reset(seed=0)
    for t in range(1, 101):
        _, _, terminated, truncated, info = env.step(LEFT)
        assert terminated is False
        assert truncated is (t == 100)
    assert "score" in info


def test_suite_make_extends_the_time_limit_with_the_horizon() -> None:
    env = suite.make("deceptive-chain", horizon=150)
    env.reset(seed=0)
    steps, done = 0, False
    info: dict[str, Any] = {}
    while not done:
        _, _, terminated, truncated, info = env.step(LEFT)
        done = terminated or truncated
        steps += 1
    assert steps == 150 and "score" in info


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length": 1}, r"length=1 is outside the allowed range \[2, 1000\]"),
        ({"p_right": 0.0}, r"p_right=0\.0 is outside the allowed range \(0, 1\]"),
        ({"p_right": 0.9, "p_slip": 0.2}, r"p_slip=.* is outside the allowed range \[0, 0.0999"),
        ({"small_reward": 1.0}, r"small_reward=1\.0 is outside the allowed range \[0, 1\)"),
        ({"large_reward": 0}, r"large_reward=0 is outside the allowed range \(0, 1e\+06\]"),
        ({"horizon": 0}, r"horizon=0 is outside the allowed range \[1, 100000\]"),
        ({"length": "6"}, r"length=.* must be an integer"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeceptiveChainEnv(**kwargs)
