"""SymmetricGoals: every committed policy is optimal, mixing them is costly, branches are aliased."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs  # noqa: F401
from envs.symmetric_goals import SymmetricGoalsEnv
from tests.envs.helpers import run_actions


@settings(max_examples=20, deadline=None)
@given(n_goals=st.integers(2, 6), length=st.integers(2, 12), data=st.data())
def test_every_committed_policy_reaches_its_goal_optimally(n_goals: int, length: int, data: Any) -> None:
    env = SymmetricGoalsEnv(n_goals=n_goals, length=length, horizon=4 * length)
    goal = data.draw(st.integers(0, n_goals - 1))
    total, info, steps = run_actions(env, [goal] * (4 * length))
    assert steps == length
    assert info["optimum"] == goal and info["hub_returns"] == 0
    assert total == pytest.approx(env.optimal_return) and total == pytest.approx(1 - length * 0.01)
    assert info["score"] == 1.0


def test_all_goals_are_equally_good() -> None:
    env = SymmetricGoalsEnv(n_goals=4, length=3)
    returns = {run_actions(env, [k] * 10)[0] for k in range(4)}
    assert len(returns) == 1


def test_alternating_between_optima_never_arrives() -> None:
    env = SymmetricGoalsEnv(n_goals=2, length=3, horizon=40)
    total, info, steps = run_actions(env, [0, 1] * 20)
    assert steps == 40 and info["optimum"] == -1
    assert info["hub_returns"] == 20  # 0 enters branch 0, 1 steps back to the hub, every time
    assert total == pytest.approx(-0.4) and info["score"] == 0.0


def test_mixing_over_optima_costs_return() -> None:
    """A policy 90% committed to one goal beats a uniform mixture over the goals, in exact expectation."""
    env = SymmetricGoalsEnv(n_goals=3, length=5)
    transitions, rewards = env.transition_model()
    start = np.zeros(transitions.shape[0])
    start[0] = 1.0

    def value(policy: np.ndarray) -> float:
        v = np.zeros(transitions.shape[0])
        for _ in range(env.horizon):
            v = (policy * (rewards + transitions @ v)).sum(axis=1)
        return float(start @ v)

    committed = np.tile([0.9, 0.05, 0.05], (transitions.shape[0], 1))
    uniform = np.full_like(committed, 1 / 3)
    assert value(uniform) == pytest.approx(env.random_return)
    assert value(committed) > env.random_return + 0.5 * (env.optimal_return - env.random_return)
    assert value(committed) < env.optimal_return


def test_observation_is_depth_only() -> None:
    env = SymmetricGoalsEnv(n_goals=3, length=4)
    seen: dict[int, list[np.ndarray]] = {}
    for goal in range(3):
        obs, _ = env.reset(seed=0)
        for _ in range(4):
            obs, _, _, _, info = env.step(goal)
            seen.setdefault(info["depth"], []).append(obs)
    for depth, observations in seen.items():
        assert all(np.array_equal(o, observations[0]) for o in observations)  # same obs on every branch
        assert np.flatnonzero(observations[0]).tolist() == [depth]


def test_info_tracks_branch_depth_and_hub_returns() -> None:
    env = SymmetricGoalsEnv(n_goals=3, length=4)
    env.reset(seed=0)
    trace = [env.step(a)[4] for a in (2, 2, 0, 0, 1)]
    assert [(i["branch"], i["depth"]) for i in trace] == [(2, 1), (2, 2), (2, 1), (-1, 0), (1, 1)]
    assert [i["hub_returns"] for i in trace] == [0, 0, 0, 1, 1]


def test_transition_model_matches_the_dynamics() -> None:
    env = SymmetricGoalsEnv(n_goals=3, length=4)
    transitions, rewards = env.transition_model()
    assert np.allclose(transitions.sum(axis=2), 1.0)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    state = 0
    for _ in range(500):
        action = int(rng.integers(3))
        _, reward, terminated, truncated, info = env.step(action)
        nxt = env.state_index(info["branch"], info["depth"]) if not terminated else transitions.shape[0] - 1
        assert transitions[state, action, nxt] == 1.0
        assert rewards[state, action] == pytest.approx(reward)
        state = nxt
        if terminated or truncated:
            env.reset()
            state = 0


def test_truncates_at_horizon_and_registration_matches() -> None:
    assert gym.spec("rlfloor/SymmetricGoals-v0").max_episode_steps == SymmetricGoalsEnv().horizon == 50
    env = gym.make("rlfloor/SymmetricGoals-v0")
    _, info, steps = run_actions(env, [0, 1] * 100)
    assert steps == 50 and "score" in info


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_goals": 1}, r"n_goals=1 is outside the allowed range \[2, 16\]"),
        ({"length": 1}, r"length=1 is outside the allowed range \[2, 100\]"),
        ({"step_cost": 0.2}, r"step_cost=0\.2 is outside the allowed range \[0, 0\.2\)"),
        ({"horizon": 4}, r"horizon=4 is outside the allowed range \[5, 100000\]"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SymmetricGoalsEnv(**kwargs)
