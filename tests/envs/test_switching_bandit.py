"""SwitchingBandit: the schedule, the per-instance counter and what a collapsed policy earns."""

from __future__ import annotations

import itertools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs.switching_bandit import SwitchingBanditEnv


def pull(env: gym.Env[Any, Any], arm: int) -> tuple[float, dict[str, Any]]:
    env.reset()
    _, reward, terminated, truncated, info = env.step(arm)
    assert terminated is True and truncated is False
    return reward, info


def test_paying_arm_follows_the_schedule_and_switches_every_switch_every_pulls() -> None:
    env = SwitchingBanditEnv(n_arms=5, switch_every=7, schedule_seed=2)
    env.reset(seed=0)
    schedule = env.schedule
    assert sorted(schedule) == list(range(5))
    for p in range(7 * 12):
        best = schedule[(p // 7) % 5]
        assert env.best_arm() == best == env.best_arm(p)
        reward, info = pull(env, best)
        assert reward == 1.0 and info["score"] == 1.0
        assert info["best_arm"] == best
        assert info["switches"] == p // 7
        assert info["pulls_since_switch"] == p % 7 + 1
    assert env.pulls == 84


def test_consecutive_phases_pay_different_arms() -> None:
    for seed in range(20):
        env = SwitchingBanditEnv(n_arms=3, switch_every=1, schedule_seed=seed)
        arms = [env.best_arm(p) for p in range(10)]
        assert all(a != b for a, b in itertools.pairwise(arms))


def test_other_arms_pay_nothing() -> None:
    env = SwitchingBanditEnv(n_arms=4, switch_every=100)
    env.reset(seed=0)
    best = env.best_arm()
    for arm in range(4):
        reward, info = pull(env, arm)
        assert reward == (1.0 if arm == best else 0.0)
        assert info["score"] == (1.0 if arm == best else 0.0)


def test_a_collapsed_policy_earns_nothing_after_a_switch() -> None:
    env = SwitchingBanditEnv(n_arms=4, switch_every=50)
    env.reset(seed=0)
    first = env.best_arm()
    rewards = np.array([pull(env, first)[0] for _ in range(4 * 50)])
    assert rewards[:50].mean() == 1.0
    assert rewards[50:].sum() == 0.0  # the schedule is a permutation: arm `first` pays once per cycle


def test_counter_survives_unseeded_resets_and_restarts_on_seeded_reset() -> None:
    env = SwitchingBanditEnv(n_arms=2, switch_every=3)
    env.reset(seed=5)
    for _ in range(4):
        pull(env, 0)
    assert env.pulls == 4
    env.reset()
    assert env.pulls == 4
    _, info = pull(env, 0)
    assert info["switches"] == 1
    env.reset(seed=5)
    assert env.pulls == 0
    env.step(0)
    assert env.pulls == 1


def test_schedule_is_independent_of_the_reset_seed_and_shared_by_instances() -> None:
    a = SwitchingBanditEnv(n_arms=6, schedule_seed=1)
    b = SwitchingBanditEnv(n_arms=6, schedule_seed=1)
    a.reset(seed=1)
    b.reset(seed=2)
    assert a.schedule == b.schedule
    assert SwitchingBanditEnv(n_arms=6, schedule_seed=2).schedule != a.schedule


def test_observation_is_constant() -> None:
    env = SwitchingBanditEnv(switch_every=2)
    obs, _ = env.reset(seed=0)
    for arm in range(4):
        assert np.array_equal(obs, np.ones(1, dtype=np.float32))
        obs, _, _, _, _ = env.step(arm)
        env.reset()


def test_second_pull_without_reset_raises() -> None:
    env = SwitchingBanditEnv()
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(RuntimeError, match="single pull"):
        env.step(1)


def test_reference_returns() -> None:
    env = SwitchingBanditEnv(n_arms=8)
    assert env.random_return == 1 / 8 and env.optimal_return == 1.0


def test_switch_every_kwarg_through_gym_make() -> None:
    env = gym.make("rlfloor/SwitchingBandit-v0", switch_every=2)
    env.reset(seed=0)
    infos = []
    for _ in range(5):
        env.reset()
        infos.append(env.step(0)[4]["switches"])
    assert infos == [0, 0, 1, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_arms": 1}, r"n_arms=1 is outside the allowed range \[2, 64\]"),
        ({"n_arms": 65}, r"n_arms=65 is outside the allowed range \[2, 64\]"),
        ({"switch_every": 0}, r"switch_every=0 is outside the allowed range \[1, inf\)"),
        ({"switch_every": 2.5}, r"switch_every=.* must be an integer"),
        ({"schedule_seed": -3}, r"schedule_seed=\-3 is outside the allowed range \[0, inf\)"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SwitchingBanditEnv(**kwargs)


def test_best_arm_rejects_negative_pull_index() -> None:
    with pytest.raises(ValueError, match=r"pull=\-1 is outside the allowed range \[0, inf\)"):
        SwitchingBanditEnv().best_arm(-1)
