"""Measured references: a small re-measurement falls inside each stored reference's confidence interval.

The small sample uses the stored measurement's protocol (episode i reset with seed i, actions from
default_rng(0)), so it is the first episodes of the stored measurement: the test is deterministic and
cannot flake, yet fails if the env, its wrappers or the stored number change.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from envs import suite
from envs.references import mean_and_se, minigrid_optimal_return, random_episode_returns

SAMPLE = {"acrobot": 50, "mountaincar": 50, "minatar-freeway": 10, "minatar-space-invaders": 100}
"""Episodes re-measured per entry (200 unless listed); MiniGrid entries use 50."""


def sample_size(name: str) -> int:
    return SAMPLE.get(name, 50 if name.startswith("minigrid") else 200)


def tolerance(entry: suite.SuiteEntry, se_small: float, n: int) -> float:
    """5 standard errors of the difference, plus one episode's worth of the return range (for an SE of 0)."""
    spread = (entry.optimal_return - entry.random_return) if entry.optimal_return is not None else 10.0
    return 5.0 * math.hypot(se_small, entry.random_return_se) + spread / n


@pytest.mark.parametrize("name", list(suite.RANDOM_REFERENCES), ids=str)
def test_random_reference_is_reproduced_by_a_small_sample(name: str) -> None:
    entry = suite.get_entry(name)
    if entry.requires is not None:
        pytest.importorskip(
            entry.requires, reason=f"{entry.requires} is not installed: pip install -e '.[{entry.extra}]'"
        )
    assert entry.random_episodes is not None and entry.random_episodes >= 1000
    n = sample_size(name)
    mean, se = mean_and_se(random_episode_returns(suite.make(entry), n))
    assert abs(mean - entry.random_return) <= tolerance(entry, se, n), (mean, se, entry.random_return)


def test_exact_references_come_from_the_envs() -> None:
    for entry in suite.SUITE:
        if entry.env_id.startswith("rlfloor/"):
            env: Any = suite.make(entry).unwrapped
            assert entry.random_return == env.random_return and entry.optimal_return == env.optimal_return
            assert entry.random_episodes is None and entry.random_return_se == 0.0


def test_random_episode_returns_is_reproducible_and_matches_the_exact_value() -> None:
    """On an rlfloor task the measurement agrees with the env's exact dynamic-programming value."""
    entry = suite.get_entry("deepsea-6")
    first = random_episode_returns(suite.make(entry), 3000)
    np.testing.assert_array_equal(first, random_episode_returns(suite.make(entry), 3000))
    mean, se = mean_and_se(first)
    assert abs(mean - entry.random_return) < 5 * se


def test_random_episode_returns_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"episodes=0 is outside the allowed range \[1, inf\)"):
        random_episode_returns(suite.make("cartpole"), 0)
    pendulum = random_episode_returns(gym.make("Pendulum-v1"), 2)  # any action space: its own sample()
    np.testing.assert_array_equal(pendulum, random_episode_returns(gym.make("Pendulum-v1"), 2))
    with pytest.raises(ValueError, match="MiniGrid env"):
        minigrid_optimal_return(suite.make("cartpole"), 0)


SEARCHED = {"minigrid-doorkey-8": 1, "minigrid-multiroom-n4-s5": 1, "minigrid-keycorridor": 1}
"""Layouts re-searched per entry (4 unless listed: the larger rungs' search takes 10-150 s a layout)."""
SLOW_SEARCH = {"minigrid-keycorridor"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SEARCH else n for n in suite.MINIGRID_OPTIMAL],
    ids=str,
)
def test_minigrid_optimal_reference_is_reproduced_and_bounds_random_successes(name: str) -> None:
    entry = suite.get_entry(name)
    pytest.importorskip("minigrid", reason="minigrid is not installed: pip install -e '.[minigrid]'")
    mean, se, layouts = suite.MINIGRID_OPTIMAL[name]
    assert entry.optimal_return == mean and layouts >= 30
    env = suite.make(entry)
    values = np.array([minigrid_optimal_return(env, seed) for seed in range(SEARCHED.get(name, 4))])
    assert np.all((values > 0) & (values < 1))
    # each layout's optimum is within the spread of the stored mean (prefix of the same layouts)
    assert abs(values.mean() - mean) <= 5 * se * math.sqrt(layouts) / 2 + 1e-9
    # no random episode on the same layouts beats the searched optimum
    returns = random_episode_returns(env, len(values))
    assert np.all(returns <= values + 1e-9)
