"""Shared fixtures: small real environments for the SB3 integration tests."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import pytest
import torch as th

th.set_num_threads(1)


def frozen_lake_masks(env: gym.Env) -> np.ndarray:
    """Moves that would leave the 4x4 FrozenLake grid are invalid (left, down, right, up)."""
    state = int(env.unwrapped.s)  # type: ignore[attr-defined]
    row, col = divmod(state, 4)
    return np.array([col > 0, row < 3, col < 3, row > 0])


@pytest.fixture
def masked_env_factory() -> Callable[[], gym.Env]:
    """FrozenLake-v1 (deterministic) behind sb3-contrib's ActionMasker with state-dependent masks."""
    wrappers = pytest.importorskip("sb3_contrib.common.wrappers")

    def make() -> gym.Env:
        return wrappers.ActionMasker(gym.make("FrozenLake-v1", is_slippery=False), frozen_lake_masks)

    return make
