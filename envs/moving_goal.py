"""MovingGoalGrid: a gridworld whose paying corner moves every ``switch_every`` steps.

Description
-----------
Probes **non-stationarity of the goal in a sequential task**: the switching bandit's change, but the agent
must *walk* to the paying place, so re-discovering it takes a sequence of decisions, not one pull. The
agent starts in the centre of an open ``N x N`` grid (``N`` odd). Each of the four corners ends the
episode; only one of them -- the goal -- pays. Every ``switch_every`` environment steps (counted by this
instance across episodes) the goal moves to another corner. The observation is the agent's cell only: it
does not show which corner pays. A policy committed to the old corner walks there and ends its episode
with nothing, every time; a policy that still samples other moves finds the corners again (a floor has to
make the agent go a whole path elsewhere, which is harder than a bandit's single pull).

The goal schedule is a permutation of the corners drawn from ``schedule_seed`` (not from the reset seed), so
every copy of the environment has the same task; phase ``p``'s goal is corner ``schedule[p % 4]`` (corners
numbered top-left 0, top-right 1, bottom-right 2, bottom-left 3), and consecutive phases always pay
different corners. An episode keeps the goal in force at its start (phase = this instance's steps before its
``reset()``, divided by ``switch_every``).

The step counter belongs to the instance: it keeps counting across ``reset()`` calls. A reset with an
explicit ``seed`` restarts the whole task (counter back to 0, phase 0). With a vectorized env every worker
counts its own steps, so switches happen every ``switch_every * n_envs`` total steps;
``envs.suite.make(entry, n_envs=...)`` divides ``switch_every`` for you.

Action Space
------------
``Discrete(4)``: move up, right, down or left (a move into the outer wall stays put).

Observation Space
-----------------
``Box(0, 1, (N*N,), float32)``: one-hot encoding of the agent's cell ``row * N + col``.

Rewards
-------
``-step_cost`` every step, plus 1 on the step that reaches the goal corner (another corner pays nothing
more). The optimal return is ``1 - (N - 1) * step_cost``; ``random_return`` is the exact expected return of
the uniform-random policy over ``horizon`` steps (dynamic programming). Both are the same for every corner
(the start is the centre), so they hold in every phase and the score of a run is the normalized mean return
of its training episodes.

Score: ``info["score"]`` on the last step is ``envs.scoring.normalized_score`` of the episode return.
Score the training episodes: a fresh evaluation env starts again at phase 0.

``info`` on every step: ``goal`` (index of the paying corner), ``switches`` (phase of this episode),
``steps_since_switch`` (this instance's steps since its phase began, counting this one), ``corner`` (index
of the corner the episode ended in, -1 while in none) and ``reached_goal``.

Episode End
-----------
Terminates (``terminated=True``) on reaching any corner. Otherwise truncated (``truncated=True``) after
``horizon`` steps by the environment itself, because the references depend on it; ``max_episode_steps``
is registered equal to the default ``horizon`` (:data:`DEFAULT_HORIZON`).

Arguments
---------
``gymnasium.make("rlfloor/MovingGoalGrid-v0", size=5, switch_every=20_000, schedule_seed=0,
step_cost=0.01, horizon=30)``

* ``size`` (odd int in [3, 21]): ``N``.
* ``switch_every`` (int >= 1): steps per phase, counted per instance.
* ``schedule_seed`` (int >= 0): seed of the corner schedule (fixed task).
* ``step_cost`` (float in [0, 1 / (N - 1))): cost of every step (keeps the optimum positive).
* ``horizon`` (int in [N - 1, 100000]): episode length limit.
* ``render_mode`` (None, ``"ansi"`` or ``"rgb_array"``).

Version History
---------------
* v0: initial version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from envs._common import (
    AGENT,
    DIM,
    GOAL,
    RENDER_MODES,
    Action,
    Observation,
    ansi_grid,
    cells_to_rgb,
    check_render_mode,
    finite_horizon_returns,
    invalid_action_error,
    one_hot_table,
)
from envs._grid import PhasedGridEnv, corners, goal_model, move
from envs.scoring import normalized_score
from rlfloor.checks import check_int, check_number

MAX_SIZE = 21
MAX_HORIZON = 100_000
DEFAULT_HORIZON = 30
"""Default ``horizon``; also the registered ``max_episode_steps``."""


class MovingGoalGridEnv(PhasedGridEnv):
    """Open grid, start in the centre, the paying corner moves every ``switch_every`` steps; see the module."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        size: int = 5,
        switch_every: int = 20_000,
        schedule_seed: int = 0,
        step_cost: float = 0.01,
        horizon: int = DEFAULT_HORIZON,
        render_mode: str | None = None,
    ) -> None:
        """Draw the corner schedule from ``schedule_seed`` and compute the exact references."""
        self.size = check_int("size", size, 3, MAX_SIZE)
        if self.size % 2 == 0:
            raise ValueError(f"size must be odd (the start is the centre cell), got {size!r}")
        self.switch_every = check_int("switch_every", switch_every, 1)
        self.schedule_seed = check_int("schedule_seed", schedule_seed, 0)
        path = self.size - 1
        self.step_cost = check_number("step_cost", step_cost, 0.0, 1.0 / path, high_open=True)
        self.horizon = check_int("horizon", horizon, path, MAX_HORIZON)
        self.render_mode = check_render_mode(render_mode)

        n_cells = self.size * self.size
        self.action_space = spaces.Discrete(4)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n_cells,), dtype=np.float32)
        self._one_hot = one_hot_table(n_cells)
        self.corners: tuple[int, ...] = corners(self.size)
        """Cells of the corners: top-left, top-right, bottom-right, bottom-left."""
        self.start = n_cells // 2
        """The start cell (centre)."""
        self._schedule: list[int] = [int(c) for c in np.random.default_rng(self.schedule_seed).permutation(4)]

        # Every corner is equally far from the centre: the references of corner 0 hold for each (tested).
        transitions, rewards = goal_model(self.size, self.corners[0], set(self.corners), self.step_cost)
        start = np.zeros(n_cells)
        start[self.start] = 1.0
        self.random_return, self.optimal_return = finite_horizon_returns(transitions, rewards, start, self.horizon)

        self._clear_episode()

    def _clear_episode(self) -> None:
        self._cell = self.start
        self._t = 0
        self._return = 0.0
        self._done = False

    @property
    def schedule(self) -> tuple[int, ...]:
        """Goal corner of phases ``0 .. 3``; phase ``p`` pays corner ``schedule[p % 4]``."""
        return tuple(self._schedule)

    @property
    def goal(self) -> int:
        """Index (0-3) of the corner that pays in the current episode."""
        return self._schedule[self._phase % 4]

    def _info(self) -> dict[str, Any]:
        corner = self.corners.index(self._cell) if self._cell in self.corners else -1
        return {
            "goal": self.goal,
            **self._phase_info(),
            "corner": corner,
            "reached_goal": corner == self.goal,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start in the centre under the goal now in force; a ``seed`` also restarts the schedule."""
        super().reset(seed=seed)
        self._clear_episode()
        return self._one_hot[self._cell].copy(), self._info()

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Move one cell; reaching a corner ends the episode, and the goal corner pays 1."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, 4)
        if self._done:
            raise RuntimeError("episode has ended; call reset() first")
        self._cell = move(self._cell, int(action), self.size)
        self._t += 1
        self._count_step()
        info = self._info()
        terminated = info["corner"] >= 0
        reward = (1.0 if info["reached_goal"] else 0.0) - self.step_cost
        self._return += reward
        truncated = not terminated and self._t >= self.horizon
        self._done = terminated or truncated
        if self._done:
            info["score"] = normalized_score(self._return, self.random_return, self.optimal_return)
        return self._one_hot[self._cell].copy(), reward, terminated, truncated, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """The grid as text (``"ansi"``: ``A`` agent, ``G`` paying corner, ``c`` other corners) or RGB."""
        if self.render_mode is None:
            return None
        n = self.size
        goal_cell = self.corners[self.goal]
        if self.render_mode == "ansi":
            chars = [["." for _ in range(n)] for _ in range(n)]
            for cell in self.corners:
                chars[cell // n][cell % n] = "G" if cell == goal_cell else "c"
            chars[self._cell // n][self._cell % n] = "A"
            return ansi_grid(["".join(row) for row in chars])
        codes = np.zeros((n, n), dtype=np.int64)
        for cell in self.corners:
            codes[cell // n, cell % n] = GOAL if cell == goal_cell else DIM
        codes[self._cell // n, self._cell % n] = AGENT
        return cells_to_rgb(codes)
