"""Shared helpers of the non-stationary gridworlds: moves on an open square grid and its transition model.

Private to ``envs``; the environments' own tests pin the behaviour. Cells are numbered ``row * size + col``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from envs._common import Action, Observation

UP, RIGHT, DOWN, LEFT = range(4)
DIRECTION_NAMES: tuple[str, ...] = ("up", "right", "down", "left")
"""Names of the four directions, indexed by direction."""
_DELTAS: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))


def move(cell: int, direction: int, size: int) -> int:
    """The cell reached from ``cell`` by one step in ``direction``; a step into the outer wall stays put."""
    row, col = divmod(cell, size)
    d_row, d_col = _DELTAS[direction]
    row = min(max(row + d_row, 0), size - 1)
    col = min(max(col + d_col, 0), size - 1)
    return row * size + col


def corners(size: int) -> tuple[int, int, int, int]:
    """The four corner cells: top-left, top-right, bottom-right, bottom-left."""
    last = size - 1
    return (0, last, last * size + last, last * size)


def goal_model(
    size: int, goal: int, terminal: Collection[int], step_cost: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transition and reward arrays of an open grid for :func:`envs._common.finite_horizon_returns`.

    Action ``a`` moves in direction ``a``. Every step costs ``step_cost``; entering ``goal`` pays 1 more.
    Cells in ``terminal`` (which must hold ``goal``) end the episode: they are absorbing with reward 0.

    Returns:
        ``(transitions, rewards)`` of shapes ``(S, 4, S)`` and ``(S, 4)`` with ``S = size * size``.
    """
    if goal not in terminal:
        raise ValueError(f"goal {goal} must be one of the terminal cells {sorted(terminal)}")
    n_cells = size * size
    transitions = np.zeros((n_cells, 4, n_cells))
    rewards = np.zeros((n_cells, 4))
    for cell in range(n_cells):
        for direction in range(4):
            if cell in terminal:
                transitions[cell, direction, cell] = 1.0
                continue
            target = move(cell, direction, size)
            transitions[cell, direction, target] = 1.0
            rewards[cell, direction] = (1.0 if target == goal else 0.0) - step_cost
    return transitions, rewards


class PhasedGridEnv(gym.Env[Observation, Action]):
    """Base of the gridworlds whose task changes every ``switch_every`` steps of one instance.

    The instance counts its steps across episodes (the subclass's ``step`` calls :meth:`_count_step`). An
    episode keeps the phase in force at its reset: ``phase = steps before the reset // switch_every``, so a
    switch never changes the task in the middle of an episode. A reset with an explicit ``seed`` restarts the
    count at 0 (phase 0), so a seeded reset reproduces the whole task. The subclass sets ``switch_every``.
    """

    switch_every: int
    _steps: int = 0
    _phase: int = 0

    @property
    def steps(self) -> int:
        """Steps taken by this instance since construction or the last seeded reset."""
        return self._steps

    @property
    def phase(self) -> int:
        """Phase of the current episode (the number of switches before it)."""
        return self._phase

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        """Seed the generator (gymnasium's reset) and fix this episode's phase; the subclass builds the rest."""
        super().reset(seed=seed)
        if seed is not None:
            self._steps = 0
        self._phase = self._steps // self.switch_every

    def _count_step(self) -> None:
        self._steps += 1

    def _phase_info(self) -> dict[str, int]:
        """``switches`` (this episode's phase) and ``steps_since_switch`` (counting the current step)."""
        return {"switches": self._phase, "steps_since_switch": self._steps - self._phase * self.switch_every}
