"""Shared fixtures: small real environments for the SB3 integration tests, and SIGINT as Python handles it."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator

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


@pytest.fixture(autouse=True)
def _sigint_handler_is_left_alone() -> Iterator[None]:
    """Every test leaves SIGINT's handler as it found it (a library or test that replaces it and does not restore
    it would change how Ctrl-C behaves in every later test)."""
    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    assert after == before, f"SIGINT's handler was {before!r} before the test and is {after!r} after it"


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """SIGINT raises ``KeyboardInterrupt`` for the test's duration, however pytest was started.

    A shell without job control (a script or ``bash -c '... &'``; not a terminal) starts background commands with
    SIGINT ignored, Python keeps it ignored, and then ``_thread.interrupt_main()`` (a simulated Ctrl-C) does
    nothing: a test relying on it passes in a terminal and fails in such a run.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
