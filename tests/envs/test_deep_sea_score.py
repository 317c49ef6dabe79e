"""bsuite's deep_sea score (``envs.scoring.deep_sea_score``) on synthetic episode logs."""

from __future__ import annotations

import numpy as np
import pytest

from envs.deep_sea import DeepSeaEnv
from envs.scoring import bsuite_logged_episodes, deep_sea_score, deep_sea_solved_episode


def flags(n_bad_first: int, total: int) -> list[bool]:
    """``n_bad_first`` bad episodes, then good ones."""
    return [True] * n_bad_first + [False] * (total - n_bad_first)


def test_logged_episodes_follow_bsuites_logarithmic_schedule() -> None:
    assert bsuite_logged_episodes(130).tolist() == [
        *range(1, 11), 12, 14, 17, 20, 25, 30, *range(40, 101, 10), 120,
    ]  # fmt: skip
    logged = bsuite_logged_episodes(10_000)
    assert logged[-1] == 10_000 and 1_700 in logged and 1_800 not in logged


def test_solved_episode_is_the_first_logged_episode_below_the_threshold() -> None:
    # 1000 bad then good: cumulative bad / e < 0.9 first at e = 1112 (1000/1112 = 0.899)
    log = flags(1000, 3000)
    assert deep_sea_solved_episode(log, bsuite_logging=False) == 1112
    # bsuite only looks at logged episodes: 1112 is not one, the next is 1200
    assert deep_sea_solved_episode(log) == 1200
    assert deep_sea_solved_episode([True] * 500) is None
    # a good first episode solves at episode 1 (0 / 1 < 0.9)
    assert deep_sea_solved_episode([False, True, True]) == 1


def test_episodes_after_num_episodes_do_not_count() -> None:
    log = flags(10_000, 20_000)
    assert deep_sea_solved_episode(log) is None
    assert deep_sea_solved_episode(log, num_episodes=20_000) == 12_000


def test_score_is_the_fraction_of_sizes_beating_dithering() -> None:
    # size 10: 2**10 + 100 = 1124. Solved at 1112 (every-episode) -> beats; at 1200 (bsuite logging) -> not.
    # size 12: 2**12 + 100 = 4196. Solved at 1200 -> beats.  size 14: never solved.
    logs = {10: flags(1000, 3000), 12: flags(1000, 3000), 14: [True] * 3000}
    assert deep_sea_score(logs) == pytest.approx(1 / 3)
    assert deep_sea_score(logs, bsuite_logging=False) == pytest.approx(2 / 3)
    assert deep_sea_score({10: [False] * 10}) == 1.0


def test_score_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one size"):
        deep_sea_score({})
    with pytest.raises(ValueError, match="positive integers"):
        deep_sea_score({0: [True]})
    with pytest.raises(ValueError, match="at least one episode"):
        deep_sea_solved_episode([])


def test_env_reports_the_flags_the_score_needs() -> None:
    """A random agent on size 3 logs its bad episodes in info; the score of an all-right agent is 1."""
    env = DeepSeaEnv(size=3, mapping_seed=0, bsuite_mapping=True)
    rng = np.random.default_rng(0)
    recorded, counter = [], 0
    for _ in range(50):
        env.reset()
        done = False
        while not done:
            _, _, done, _, info = env.step(int(rng.integers(2)))
        recorded.append(info["bad_episode"])
        counter = info["total_bad_episodes"]
    assert counter == sum(recorded) and 0 < counter < 50
    right = env.mapping
    perfect = []
    for _ in range(20):
        obs, _ = env.reset()
        done = False
        while not done:
            row, col = divmod(int(np.flatnonzero(obs)[0]), 3)
            obs, _, done, _, info = env.step(int(right[row, col]))
        perfect.append(info["bad_episode"])
    assert not any(perfect) and deep_sea_score({3: perfect}) == 1.0
