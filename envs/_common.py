"""Shared helpers for the rlfloor environments: render-mode and action checks, exact baselines, rendering.

Number checks are :mod:`rlfloor.checks` (pure Python, the one check module of the project).

Nothing here holds random state. The helpers are private to ``envs``; their behaviour is pinned by the
environments' own tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

RENDER_MODES: tuple[str, ...] = ("ansi", "rgb_array")
"""Render modes every rlfloor environment supports."""

CELL_PIXELS = 16
"""Side length, in pixels, of one grid cell in ``rgb_array`` frames."""

# Palette shared by the rgb renderers: index -> RGB colour.
PALETTE: NDArray[np.uint8] = np.array(
    [
        [235, 235, 235],  # 0 free cell
        [40, 40, 40],  # 1 wall
        [30, 110, 230],  # 2 agent
        [40, 170, 60],  # 3 goal / large reward
        [230, 160, 30],  # 4 small reward / decoy
        [200, 60, 60],  # 5 last choice / warning
        [150, 150, 150],  # 6 visited / inactive
    ],
    dtype=np.uint8,
)
FREE, WALL, AGENT, GOAL, SMALL, MARK, DIM = range(7)


def check_render_mode(render_mode: str | None) -> str | None:
    """Return ``render_mode`` if it is ``None`` or one of :data:`RENDER_MODES`, else raise ``ValueError``."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {list(RENDER_MODES)}, got {render_mode!r}")
    return render_mode


def invalid_action_error(action: object, n: int) -> ValueError:
    """The error every environment raises for an action outside ``Discrete(n)``."""
    return ValueError(f"action must be an integer in [0, {n - 1}] (Discrete({n})), got {action!r}")


def one_hot_table(n: int) -> NDArray[np.float32]:
    """``n x n`` float32 identity; row ``i`` is the one-hot observation of state ``i`` (copy before use)."""
    return np.eye(n, dtype=np.float32)


def cells_to_rgb(codes: NDArray[np.integer[Any]], cell: int = CELL_PIXELS) -> NDArray[np.uint8]:
    """Turn a 2-D array of palette indices into an ``(rows*cell, cols*cell, 3)`` uint8 image."""
    image = PALETTE[codes]
    return np.ascontiguousarray(image.repeat(cell, axis=0).repeat(cell, axis=1))


def finite_horizon_returns(
    transitions: NDArray[np.float64],
    rewards: NDArray[np.float64],
    start: NDArray[np.float64],
    horizon: int,
    valid: NDArray[np.bool_] | None = None,
) -> tuple[float, float]:
    """Exact expected undiscounted return of the uniform-random and the optimal policy over ``horizon`` steps.

    Args:
        transitions: ``(S, A, S)`` array, ``transitions[s, a, t] = P(t | s, a)``. Terminal states must be
            absorbing with zero reward.
        rewards: ``(S, A)`` expected immediate reward of taking ``a`` in ``s``.
        start: ``(S,)`` start-state distribution.
        horizon: number of decisions in an episode.
        valid: optional ``(S, A)`` mask; the random policy is uniform over valid actions and the optimal one
            only picks valid actions. Every state needs at least one valid action.

    Returns:
        ``(random_return, optimal_return)`` as Python floats.
    """
    n_states, n_actions = rewards.shape
    mask = np.ones((n_states, n_actions), dtype=bool) if valid is None else valid
    if not mask.any(axis=1).all():
        raise ValueError("every state needs at least one valid action")
    policy = mask / mask.sum(axis=1, keepdims=True)
    v_random = np.zeros(n_states)
    v_optimal = np.zeros(n_states)
    for _ in range(horizon):
        v_random = (policy * (rewards + transitions @ v_random)).sum(axis=1)
        v_optimal = np.where(mask, rewards + transitions @ v_optimal, -np.inf).max(axis=1)
    return float(start @ v_random), float(start @ v_optimal)


def ansi_grid(rows: Sequence[str]) -> str:
    """Join text rows into one ``ansi`` frame (a trailing newline, no colour codes)."""
    return "\n".join(rows) + "\n"


Observation = NDArray[np.float32]
"""Observation type of every rlfloor environment: a flat float32 vector."""

Action = int | np.integer[Any]
"""Action type accepted by ``step``: a Python or NumPy integer."""
