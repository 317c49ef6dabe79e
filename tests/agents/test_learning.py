"""Long learning runs (``make test-slow``): the effects the comparison reports, on a few seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents import get_agent
from envs.resolve import resolve
from rlfloor.experiment import RunSettings, plan, train_run


def final_scores(env: str, agent: str, timesteps: int, seeds: range, out: Path) -> np.ndarray:
    """Final normalized scores of ``agent`` on ``env``, one run per seed, as ``scripts/train.py`` trains them."""
    scores = []
    for seed in seeds:
        settings = RunSettings(
            env=env, agent=agent, seed=seed, timesteps=timesteps, metrics=False, tensorboard=False, save_model=False
        )
        result = train_run(plan(settings, resolve, get_agent), out / f"{env}__{agent}__s{seed}")
        scores.append(result["final_score"])
    return np.array(scores)


@pytest.mark.slow
def test_floor_recovers_after_the_bandit_switches(tmp_path: Path) -> None:
    # The paying arm moves after 10k pulls. Stock A2C has collapsed on the old arm by then
    # and never finds the new one; with a 2% floor it keeps sampling every arm and follows.
    stock = final_scores("switching-bandit", "a2c", 20_000, range(3), tmp_path)
    floored = final_scores("switching-bandit", "a2c-floor", 20_000, range(3), tmp_path)
    assert np.all(floored >= 0.25), floored
    assert floored.mean() - stock.mean() >= 0.3, (stock, floored)


@pytest.mark.slow
def test_floor_does_not_solve_large_deepsea(tmp_path: Path) -> None:
    # The control: a floor is undirected dithering, and DeepSea-16 needs 16 lucky rights in a row.
    floored = final_scores("deepsea-16", "ppo-floor", 10_000, range(2), tmp_path)
    assert np.all(floored < 0.1), floored
