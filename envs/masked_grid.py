"""MaskedGrid: a maze whose walls make some moves invalid, exposed through ``action_masks()``.

Description
-----------
Probes exploration under **state-dependent invalid actions**. The agent walks a small maze from ``S`` to
``G``. Moving into a wall or off the map is not a legal move: in every cell only the moves to open
neighbours are valid, :meth:`MaskedGridEnv.action_masks` says which, and stepping an invalid action raises
``ValueError``. The default maze has corridors (2 valid moves), junctions (3) and dead ends (exactly 1
valid move), so a policy with a probability floor must apply the floor over the valid actions only --
including the one-action case -- and must never sample a masked action. Use it with sb3-contrib's
``MaskablePPO`` (``get_action_masks`` finds ``action_masks`` through wrappers) or any agent that reads the
masks; an agent that ignores them crashes loudly instead of silently learning a different task.

Every open cell has at least one valid action: layouts are checked when the environment is built.

Action Space
------------
``Discrete(4)``: 0 = up, 1 = right, 2 = down, 3 = left. ``action_masks()`` returns a ``(4,)`` bool array,
True where the move is valid in the current cell.

Observation Space
-----------------
``Box(0, 1, (C,), float32)``: one-hot encoding of the agent's cell among the ``C`` open cells, numbered in
row-major order (``env.unwrapped.cells`` lists their ``(row, column)``).

Rewards
-------
``-step_cost`` every step, plus 1 on the step that reaches ``G``. ``optimal_return`` is
``1 - D * step_cost`` for the shortest path length ``D``; ``random_return`` is the exact expected return of
the policy that is uniform over the *valid* actions, over ``horizon`` steps (dynamic programming on
:meth:`MaskedGridEnv.transition_model`).

Score: ``info["score"]`` on the last step is ``envs.scoring.normalized_score`` of the episode return.
``info`` on every step: ``cell`` (``(row, column)``), ``visited_cells`` (distinct cells visited this
episode, a coverage count) and ``reached_goal``.

Episode End
-----------
Terminates (``terminated=True``) on reaching ``G``. Otherwise truncated (``truncated=True``) after
``horizon`` steps by the environment itself, because the reference returns depend on it;
``max_episode_steps`` is registered equal to the default ``horizon`` (100). If you pass a larger ``horizon``
to ``gymnasium.make``, pass ``max_episode_steps`` as well (``envs.suite.make`` does this for you).

Arguments
---------
``gymnasium.make("rlfloor/MaskedGrid-v0", layout=None, step_cost=0.01, horizon=100)``

* ``layout`` (sequence of equal-length strings, or None for :data:`DEFAULT_LAYOUT`): ``#`` wall, ``.``
  open, ``S`` start (exactly one), ``G`` goal (exactly one). Every open cell needs an open neighbour and
  ``G`` must be reachable from ``S``.
* ``step_cost`` (float in [0, 1 / D)): cost of every step.
* ``horizon`` (int in [D, 100000]): episode length limit.
* ``render_mode`` (None, ``"ansi"`` or ``"rgb_array"``).

Version History
---------------
* v0: initial version.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces.space import MaskNDArray
from numpy.typing import NDArray

from envs._common import (
    AGENT,
    FREE,
    GOAL,
    RENDER_MODES,
    WALL,
    Action,
    Observation,
    ansi_grid,
    cells_to_rgb,
    check_render_mode,
    finite_horizon_returns,
    invalid_action_error,
    one_hot_table,
)
from envs.scoring import normalized_score
from rlfloor.checks import check_int, check_number

ACTION_NAMES: tuple[str, ...] = ("up", "right", "down", "left")
"""Names of actions 0..3."""
MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))
"""``(d_row, d_column)`` of actions 0..3."""
MAX_HORIZON = 100_000
DEFAULT_HORIZON = 100
"""Default ``horizon``; also the registered ``max_episode_steps``."""

DEFAULT_LAYOUT: tuple[str, ...] = (
    "#########",
    "#...#...#",
    "#.S.#.#.#",
    "#.....#.#",
    "##.##.#.#",
    "#...#.#.#",
    "#.#.#.#.#",
    "#.#...#G#",
    "#########",
)
"""The default maze: 34 open cells, a loop, a dead end (and a goal) with one valid move, shortest path 14.

``S`` sits in a 3 x 3 room, so all four moves are valid at the start (Gymnasium's ``check_env`` samples an
action in one state and steps it after a reset). The policy uniform over valid actions reaches ``G``
within 100 steps with probability about 0.07.
"""


class StateMaskedDiscrete(spaces.Discrete):
    """``Discrete(n)`` whose ``sample()`` without a mask draws only actions valid in the env's current state.

    The owning environment keeps :attr:`valid` up to date, so random-action loops, Gymnasium's and SB3's
    env checkers work without knowing about masks. An explicit ``mask`` or ``probability`` is honoured as
    in :class:`gymnasium.spaces.Discrete`. The space compares equal to ``Discrete(n)``.
    """

    def __init__(self, n: int, valid: NDArray[np.bool_], seed: int | np.random.Generator | None = None) -> None:
        """``valid`` is the initial ``(n,)`` bool mask."""
        super().__init__(n, seed=seed)
        self.valid: NDArray[np.bool_] = valid
        """Mask of the actions valid in the current state (set by the environment)."""

    def sample(self, mask: MaskNDArray | None = None, probability: MaskNDArray | None = None) -> np.int64:
        """Uniform over the currently valid actions, unless ``mask`` or ``probability`` is given."""
        if mask is None and probability is None:
            mask = self.valid.astype(np.int8)
        return super().sample(mask=mask, probability=probability)


def parse_layout(layout: Sequence[str]) -> tuple[list[tuple[int, int]], int, int]:
    """Validate ``layout``; return the open cells (row-major), the start index and the goal index.

    Raises:
        ValueError: naming the offending row, character or cell.
    """
    if isinstance(layout, str) or not isinstance(layout, Sequence) or len(layout) == 0:
        raise ValueError(f"layout must be a non-empty sequence of strings, got {layout!r}")
    width = len(layout[0]) if isinstance(layout[0], str) else -1
    for r, row in enumerate(layout):
        if not isinstance(row, str) or len(row) != width or width == 0:
            raise ValueError(f"layout rows must be non-empty strings of equal length {width}, row {r} is {row!r}")
        bad = set(row) - set("#.SG")
        if bad:
            raise ValueError(f"layout row {r} has characters {sorted(bad)}; allowed are '#', '.', 'S', 'G'")
    text = "".join(layout)
    if text.count("S") != 1 or text.count("G") != 1:
        raise ValueError(f"layout needs exactly one 'S' and one 'G', got {text.count('S')} and {text.count('G')}")
    cells = [(r, c) for r, row in enumerate(layout) for c, ch in enumerate(row) if ch != "#"]
    index = {cell: i for i, cell in enumerate(cells)}
    for r, c in cells:
        if not any((r + dr, c + dc) in index for dr, dc in MOVES):
            raise ValueError(f"cell {(r, c)} has no open neighbour, so no valid action; open a neighbour")
    start = next(i for i, (r, c) in enumerate(cells) if layout[r][c] == "S")
    goal = next(i for i, (r, c) in enumerate(cells) if layout[r][c] == "G")
    return cells, start, goal


class MaskedGridEnv(gym.Env[Observation, Action]):
    """Maze with wall-dependent action masks; see the module docstring for the full specification."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        layout: Sequence[str] | None = None,
        step_cost: float = 0.01,
        horizon: int = DEFAULT_HORIZON,
        render_mode: str | None = None,
    ) -> None:
        """Parse and check the layout, build move tables and compute the reference returns."""
        rows = DEFAULT_LAYOUT if layout is None else layout
        self.cells, self._start, self._goal = parse_layout(rows)
        self.layout: tuple[str, ...] = tuple(rows)
        self.render_mode = check_render_mode(render_mode)
        n_cells = len(self.cells)
        index = {cell: i for i, cell in enumerate(self.cells)}

        # _next[i][a]: cell reached by action a from cell i, or -1 if the move is invalid.
        self._next: list[list[int]] = [[index.get((r + dr, c + dc), -1) for dr, dc in MOVES] for r, c in self.cells]
        self._masks = np.array([[j >= 0 for j in row] for row in self._next], dtype=bool)
        self._masks.flags.writeable = False
        self._valid: list[list[int]] = [[a for a, j in enumerate(row) if j >= 0] for row in self._next]

        self.shortest_path = self._distance(self._start, self._goal)
        if self.shortest_path < 0:
            raise ValueError(f"goal {self.cells[self._goal]} is not reachable from {self.cells[self._start]}")
        self.step_cost = check_number("step_cost", step_cost, 0.0, 1.0 / self.shortest_path, high_open=True)
        self.horizon = check_int("horizon", horizon, self.shortest_path, MAX_HORIZON)

        self._actions = StateMaskedDiscrete(len(MOVES), self._masks[self._start])
        self.action_space = self._actions
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n_cells,), dtype=np.float32)
        self._one_hot = one_hot_table(n_cells)

        transitions, rewards, valid = self.transition_model()
        start = np.zeros(n_cells + 1)
        start[self._start] = 1.0
        self.random_return, self.optimal_return = finite_horizon_returns(
            transitions, rewards, start, self.horizon, valid
        )

        self._cell = self._start
        self._t = 0
        self._return = 0.0
        self._done = False
        self._visited = [False] * n_cells
        self._n_visited = 0

    def _distance(self, source: int, target: int) -> int:
        """Breadth-first shortest path length in moves, -1 if unreachable."""
        dist = {source: 0}
        queue = deque([source])
        while queue:
            i = queue.popleft()
            if i == target:
                return dist[i]
            for j in self._next[i]:
                if j >= 0 and j not in dist:
                    dist[j] = dist[i] + 1
                    queue.append(j)
        return -1

    def transition_model(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """Exact model ``(P, R, valid)`` over the open cells plus one absorbing "done" state (the last).

        Invalid actions have no transitions and ``valid[s, a] = False``; in the done state every action is
        marked valid and loops with reward 0.
        """
        n_cells = len(self.cells)
        done = n_cells
        transitions = np.zeros((n_cells + 1, 4, n_cells + 1))
        rewards = np.zeros((n_cells + 1, 4))
        valid = np.ones((n_cells + 1, 4), dtype=bool)
        valid[:n_cells] = self._masks
        transitions[done, :, done] = 1.0
        for i, row in enumerate(self._next):
            for a, j in enumerate(row):
                if j < 0:
                    continue
                rewards[i, a] = -self.step_cost
                if j == self._goal:
                    transitions[i, a, done] = 1.0
                    rewards[i, a] += 1.0
                else:
                    transitions[i, a, j] = 1.0
        return transitions, rewards, valid

    def action_masks(self) -> NDArray[np.bool_]:
        """``(4,)`` bool array, True for the moves that are valid in the current cell (a new array)."""
        return self._masks[self._cell].copy()

    def _info(self) -> dict[str, Any]:
        return {
            "cell": self.cells[self._cell],
            "visited_cells": self._n_visited,
            "reached_goal": self._done,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Put the agent on ``S``. ``options`` is not used."""
        super().reset(seed=seed)
        self._cell = self._start
        self._t = 0
        self._return = 0.0
        self._done = False
        self._visited = [False] * len(self.cells)
        self._visited[self._start] = True
        self._n_visited = 1
        self._actions.valid = self._masks[self._cell]
        return self._one_hot[self._cell].copy(), self._info()

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Move one cell; raises ``ValueError`` if the move is masked in the current cell."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, len(MOVES))
        if self._done or self._t >= self.horizon:
            raise RuntimeError("episode has ended; call reset() first")
        a = int(action)
        target = self._next[self._cell][a]
        if target < 0:
            valid = self._valid[self._cell]
            names = ", ".join(f"{v} ({ACTION_NAMES[v]})" for v in valid)
            raise ValueError(
                f"action {a} ({ACTION_NAMES[a]}) is invalid in cell {self.cells[self._cell]}: "
                f"it moves into a wall; valid actions here are [{names}] -- see action_masks()"
            )
        self._cell = target
        self._actions.valid = self._masks[target]
        if not self._visited[target]:
            self._visited[target] = True
            self._n_visited += 1
        reward = -self.step_cost
        terminated = target == self._goal
        if terminated:
            reward += 1.0
            self._done = True
        self._t += 1
        self._return += reward
        truncated = not terminated and self._t >= self.horizon
        info = self._info()
        if terminated or truncated:
            info["score"] = normalized_score(self._return, self.random_return, self.optimal_return)
        return self._one_hot[target].copy(), reward, terminated, truncated, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """The maze as text (``"ansi"``: ``A`` marks the agent) or as an RGB image (``"rgb_array"``)."""
        if self.render_mode is None:
            return None
        row, col = self.cells[self._cell]
        if self.render_mode == "ansi":
            rows = [line.replace("S", ".") for line in self.layout]
            rows[row] = rows[row][:col] + "A" + rows[row][col + 1 :]
            return ansi_grid(rows)
        codes = np.array([[WALL if ch == "#" else FREE for ch in line] for line in self.layout], dtype=np.int64)
        goal_row, goal_col = self.cells[self._goal]
        codes[goal_row, goal_col] = GOAL
        codes[row, col] = AGENT
        return cells_to_rgb(codes)
