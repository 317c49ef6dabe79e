"""The non-stationary tier: DriftingBandit, PermutedGrid and MovingGoalGrid (schedules, counters, references)."""

from __future__ import annotations

import itertools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from envs import suite
from envs._common import finite_horizon_returns
from envs._grid import DOWN, LEFT, RIGHT, UP, goal_model, move
from envs.drifting_bandit import DriftingBanditEnv
from envs.moving_goal import MovingGoalGridEnv
from envs.permuted_grid import SCHEDULE_PHASES, PermutedGridEnv, mapping_schedule

TIER = ("drifting-bandit", "permuted-grid", "moving-goal-grid")


def play(env: gym.Env[Any, Any], choose: Any) -> tuple[float, list[dict[str, Any]]]:
    """One (unseeded-reset) episode with ``choose(env) -> action``; its return and infos."""
    env.reset()
    total, infos, done = 0.0, [], False
    while not done:
        _, reward, terminated, truncated, info = env.step(choose(env))
        total += reward
        infos.append(info)
        done = terminated or truncated
    return total, infos


# --- PermutedGrid -------------------------------------------------------------------------------------------


def test_every_switch_sends_the_useful_actions_to_useless_directions() -> None:
    for seed in range(10):
        schedule = mapping_schedule(seed)
        assert len(schedule) == SCHEDULE_PHASES
        for before, after in itertools.pairwise([*schedule, schedule[0]]):  # the cycle closes the same way
            assert sorted(before) == sorted(after) == [0, 1, 2, 3]
            for action in range(4):
                assert (before[action] in (RIGHT, DOWN)) is (after[action] in (UP, LEFT))
    assert mapping_schedule(0) != mapping_schedule(1)
    with pytest.raises(ValueError, match="phases must be even, got 3"):
        mapping_schedule(0, phases=3)


def _greedy_permuted(env: PermutedGridEnv, phase: int) -> int:
    """The action meaning right (or down on the last column) under ``phase``'s mapping."""
    _, col = divmod(env._cell, env.size)
    direction = RIGHT if col < env.size - 1 else DOWN
    return env.mapping(phase).index(direction)


def test_a_policy_committed_to_the_first_mapping_never_reaches_the_goal_after_a_switch() -> None:
    env = PermutedGridEnv(size=4, switch_every=60, horizon=20)
    env.reset(seed=0)
    returns, phases = [], []
    for _ in range(12):
        total, infos = play(env, lambda e: _greedy_permuted(e, 0))
        returns.append(total)
        phases.append(infos[-1]["switches"])
    first = [r for r, p in zip(returns, phases, strict=True) if p == 0]
    later = [r for r, p in zip(returns, phases, strict=True) if p % 2 == 1]
    assert first and all(r == pytest.approx(env.optimal_return) for r in first)
    assert later and all(r == pytest.approx(-env.step_cost * env.horizon) for r in later)  # stuck in its corner


def test_the_optimal_policy_of_each_phase_earns_the_optimal_return_in_every_phase() -> None:
    env = PermutedGridEnv(size=5, switch_every=17)
    env.reset(seed=0)
    for _ in range(20):
        total, infos = play(env, lambda e: _greedy_permuted(e, e.phase))
        assert total == pytest.approx(env.optimal_return) == pytest.approx(1 - 8 * 0.01)
        assert all(info["optimal_action"] for info in infos) and infos[-1]["reached_goal"]
        assert infos[-1]["score"] == 1.0


def test_the_phase_is_fixed_at_reset_and_counted_per_instance_across_episodes() -> None:
    env = PermutedGridEnv(size=3, switch_every=5, horizon=4)
    _, info = env.reset(seed=0)
    assert info["switches"] == 0 and info["direction"] == -1
    seen = []
    for _ in range(6):
        _, infos = play(env, lambda e: e.mapping().index(UP))  # walks into the wall: every episode lasts 4 steps
        seen.append([(i["switches"], i["steps_since_switch"], i["direction"]) for i in infos])
    assert [episode[0][0] for episode in seen] == [0, 0, 1, 2, 3, 4]  # steps at reset: 0, 4, 8, 12, 16, 20
    assert seen[1] == [(0, 5, UP), (0, 6, UP), (0, 7, UP), (0, 8, UP)]  # the switch at 5 waits for the reset
    assert env.steps == 24
    env.reset(seed=0)
    assert env.steps == 0 and env.phase == 0


def test_permuted_grid_references_do_not_depend_on_the_mapping() -> None:
    env = PermutedGridEnv(size=5)
    transitions, rewards = goal_model(5, 24, {24}, 0.01)
    start = np.zeros(25)
    start[0] = 1.0
    for mapping in mapping_schedule(0)[:4]:
        permuted = (transitions[:, list(mapping)], rewards[:, list(mapping)])  # action a moves in mapping[a]
        assert finite_horizon_returns(*permuted, start, 50) == pytest.approx((env.random_return, env.optimal_return))


# --- MovingGoalGrid -----------------------------------------------------------------------------------------


def _towards(env: MovingGoalGridEnv, corner: int) -> int:
    """A shortest-path move from the agent's cell toward ``corner``."""
    target_row, target_col = divmod(env.corners[corner], env.size)
    row, col = divmod(env._cell, env.size)
    if row != target_row:
        return DOWN if target_row > row else UP
    return RIGHT if target_col > col else LEFT


def test_moving_goal_references_are_the_same_for_every_corner() -> None:
    env = MovingGoalGridEnv(size=5)
    start = np.zeros(25)
    start[12] = 1.0
    for corner in env.corners:
        transitions, rewards = goal_model(5, corner, set(env.corners), 0.01)
        expected = finite_horizon_returns(transitions, rewards, start, env.horizon)
        assert expected == pytest.approx((env.random_return, env.optimal_return))
    assert env.optimal_return == pytest.approx(1 - 4 * 0.01)


def test_a_policy_committed_to_the_first_corner_ends_unpaid_after_a_switch() -> None:
    env = MovingGoalGridEnv(size=5, switch_every=8)
    env.reset(seed=0)
    first = env.goal
    for episode in range(8):
        total, infos = play(env, lambda e: _towards(e, first))
        phase = infos[-1]["switches"]
        assert phase == episode // 2 and infos[-1]["corner"] == first and len(infos) == 4
        paid = env.schedule[phase % 4] == first
        assert infos[-1]["reached_goal"] is paid
        assert total == pytest.approx(env.optimal_return if paid else -4 * 0.01)
        assert infos[-1]["score"] == (1.0 if paid else 0.0)


def test_the_goal_follows_a_permutation_and_consecutive_phases_pay_different_corners() -> None:
    for seed in range(10):
        env = MovingGoalGridEnv(switch_every=4, schedule_seed=seed)
        assert sorted(env.schedule) == [0, 1, 2, 3]
        env.reset(seed=0)
        goals = []
        for _ in range(10):
            _, infos = play(env, lambda e: _towards(e, e.goal))  # 4 steps: one phase per episode
            goals.append(infos[-1]["goal"])
        assert all(a != b for a, b in itertools.pairwise(goals))


def test_moving_goal_counters_and_argument_checks() -> None:
    env = MovingGoalGridEnv(size=3, switch_every=3, horizon=2)
    _, info = env.reset(seed=0)
    expected = {"goal": env.schedule[0], "switches": 0, "steps_since_switch": 0, "corner": -1, "reached_goal": False}
    assert info == expected
    _, _, terminated, truncated, info = env.step(UP)
    assert (terminated, truncated, info["corner"]) == (False, False, -1)
    _, _, terminated, truncated, info = env.step(UP)  # still the top edge's middle: truncated at the horizon
    assert (terminated, truncated) == (False, True) and "score" in info
    with pytest.raises(ValueError, match="size must be odd"):
        MovingGoalGridEnv(size=4)
    with pytest.raises(ValueError, match=r"horizon=3 is outside the allowed range \[4, 100000\]"):
        MovingGoalGridEnv(size=5, horizon=3)


# --- DriftingBandit -----------------------------------------------------------------------------------------


def test_payoffs_are_complementary_pairs_in_the_unit_interval() -> None:
    env = DriftingBanditEnv(n_arms=6, drift_pulls=500, reference_pulls=3_000, schedule_seed=4)
    payoffs = env.payoffs(np.arange(20_000))  # beyond reference_pulls: more knots are drawn on demand
    assert payoffs.shape == (20_000, 6)
    assert payoffs.min() >= 0.0 and payoffs.max() <= 1.0
    np.testing.assert_allclose(payoffs.mean(axis=1), 0.5, atol=1e-12)  # so the random reference is exact
    expected = [0.1, 0.5 - 0.8 / 3, 0.5 - 0.4 / 3, 0.5 + 0.4 / 3, 0.5 + 0.8 / 3, 0.9]  # 1/2 +- 0.4 (j + 1) / 3
    assert np.sort(payoffs[0]).tolist() == pytest.approx(expected)
    assert np.abs(np.diff(payoffs, axis=0)).max() < 0.05  # slow drift: no jumps


def test_the_payoff_curve_depends_on_time_in_units_of_drift_pulls_only() -> None:
    """Dividing drift_pulls by n_envs (envs.suite.make) gives each worker the same curve over the run."""
    one = DriftingBanditEnv(drift_pulls=8_000, reference_pulls=32_000, schedule_seed=3)
    four = DriftingBanditEnv(drift_pulls=2_000, reference_pulls=8_000, schedule_seed=3)
    np.testing.assert_allclose(one.payoffs(np.arange(0, 32_000, 4)), four.payoffs(np.arange(8_000)), atol=1e-12)
    assert four.optimal_return == pytest.approx(one.optimal_return, abs=2e-3)


def test_optimal_return_is_the_oracles_mean_and_the_counters_follow_the_best_arm() -> None:
    env = DriftingBanditEnv(drift_pulls=1_000, reference_pulls=4_000, schedule_seed=3)
    env.reset(seed=0)
    payoffs = env.payoffs(np.arange(4_000))
    rewards, changes = [], 0
    for t in range(4_000):
        best = int(payoffs[t].argmax())
        _, reward, _, _, info = env.step(best)
        env.reset()
        rewards.append(reward)
        assert info["best_arm"] == best and info["optimal_arm"] and info["regret"] == 0.0
        if t and best != int(payoffs[t - 1].argmax()):
            changes += 1
            assert info["pulls_since_change"] == 1
        assert info["best_changes"] == changes
    assert changes == env.reference_best_changes > 0
    assert env.optimal_return == pytest.approx(payoffs.max(axis=1).mean())
    stderr = np.std(rewards) / np.sqrt(len(rewards))
    assert abs(np.mean(rewards) - env.optimal_return) < 4 * stderr


def test_drifting_bandit_regret_and_argument_checks() -> None:
    env = DriftingBanditEnv(drift_pulls=100, reference_pulls=10)
    env.reset(seed=0)
    payoffs = env.payoffs(0)
    worst = int(payoffs.argmin())
    info = env.step(worst)[4]
    assert info["regret"] == pytest.approx(payoffs.max() - payoffs.min()) and not info["optimal_arm"]
    with pytest.raises(RuntimeError, match="single pull"):
        env.step(0)
    with pytest.raises(ValueError, match="n_arms must be even"):
        DriftingBanditEnv(n_arms=3)
    with pytest.raises(ValueError, match=r"drift_pulls=99 is outside the allowed range \[100, inf\)"):
        DriftingBanditEnv(drift_pulls=99)


# --- the tier in the suite ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TIER)
def test_tier_entries_are_tagged_and_divide_their_schedules_by_n_envs(name: str) -> None:
    entry = suite.get_entry(name)
    assert {"non-stationary", "nonstationary-tier"} <= set(entry.tags) and entry.per_instance
    single, split = suite.make(entry).unwrapped, suite.make(entry, n_envs=4).unwrapped
    for key in entry.per_instance:
        assert getattr(single, key) == entry.kwargs[key] and getattr(split, key) == entry.kwargs[key] // 4
    assert entry.random_source.startswith("exact") and entry.optimal_source.startswith("exact")


def test_suite_drifting_bandit_punishes_committing_to_the_first_best_arm() -> None:
    """With schedule_seed 3 the first best arm sinks after ~20k pulls: committing to it scores ~0.19."""
    entry = suite.get_entry("drifting-bandit")
    env = suite.make(entry).unwrapped
    payoffs = env.payoffs(np.arange(entry.budget))
    first = int(payoffs[0].argmax())
    committed = suite.normalize_score(entry, float(payoffs[:, first].mean()))
    assert 0.1 < committed < 0.3
    assert env.reference_best_changes >= 3


def test_moves_stay_inside_the_grid() -> None:
    for cell, direction in itertools.product(range(9), range(4)):
        target = move(cell, direction, 3)
        assert 0 <= target < 9
        assert abs(target // 3 - cell // 3) + abs(target % 3 - cell % 3) <= 1
