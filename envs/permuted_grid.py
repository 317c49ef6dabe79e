"""PermutedGrid: a gridworld whose action meanings are permuted every ``switch_every`` steps.

Description
-----------
Probes **non-stationarity of the dynamics**: the task (start, goal, rewards) never changes, but what the
actions *do* does. The agent walks an open ``N x N`` grid from the top-left cell to the bottom-right goal.
Each of the 4 actions moves one cell in one of the 4 directions; which direction is the *action mapping*,
and the mapping changes every ``switch_every`` environment steps (counted by this instance across
episodes). At every switch the actions that meant a useful direction (right or down, the only moves on a
shortest path) are given the two useless ones (up and left) and vice versa, in an order drawn from the
schedule. A policy committed to the old mapping therefore presses an action that now walks it into the
wall of its start corner: it earns nothing until it samples the other actions again in every cell of its
path. Nothing in the observation announces a switch. (Where the switching bandit moves the reward, this
task keeps the reward and permutes the actions, as in the "permuted actions" probes of the continual-RL
literature, e.g. Dohare et al., "Loss of plasticity in deep continual learning", Nature 2024.)

The mappings are a fixed cycle of :data:`SCHEDULE_PHASES` phases drawn from ``schedule_seed`` (not from the
reset seed), so every copy of the environment -- e.g. every worker of a vectorized env -- has the same task.
Phase ``p`` uses mapping ``schedule[p % SCHEDULE_PHASES]``. An episode keeps the mapping in force at its
start (phase = this instance's steps before its ``reset()``, divided by ``switch_every``): a switch never
changes the dynamics within an episode.

The step counter belongs to the instance: it keeps counting across ``reset()`` calls. A reset with an
explicit ``seed`` restarts the whole task (counter back to 0, phase 0). With a vectorized env every worker
counts its own steps, so switches happen every ``switch_every * n_envs`` total steps;
``envs.suite.make(entry, n_envs=...)`` divides ``switch_every`` for you.

Action Space
------------
``Discrete(4)``; action ``a`` moves in direction ``env.unwrapped.mapping()[a]`` (0 up, 1 right, 2 down,
3 left). A move into the outer wall leaves the agent in place.

Observation Space
-----------------
``Box(0, 1, (N*N,), float32)``: one-hot encoding of the agent's cell ``row * N + col``.

Rewards
-------
``-step_cost`` every step, plus 1 on the step that reaches the goal. The optimal return is
``1 - 2 * (N - 1) * step_cost`` under every mapping; ``random_return`` is the exact expected return of the
uniform-random policy over ``horizon`` steps (dynamic programming; a uniform choice of action is a uniform
choice of direction under any mapping, so it is the same in every phase). Both references hold in every
phase, so the score of a run is the normalized mean return of its training episodes.

Score: ``info["score"]`` on the last step is ``envs.scoring.normalized_score`` of the episode return.
Score the training episodes: a fresh evaluation env starts again at phase 0.

``info`` on every step: ``switches`` (phase of this episode), ``steps_since_switch`` (this instance's steps
since its phase began, counting this one), ``direction`` (the direction the action moved, 0-3; -1 on reset),
``optimal_action`` (the action moved along a shortest path, i.e. closer to the goal) and ``reached_goal``.

Episode End
-----------
Terminates (``terminated=True``) on reaching the goal. Otherwise truncated (``truncated=True``) after
``horizon`` steps by the environment itself, because the references depend on it; ``max_episode_steps``
is registered equal to the default ``horizon`` (:data:`DEFAULT_HORIZON`).

Arguments
---------
``gymnasium.make("rlfloor/PermutedGrid-v0", size=5, switch_every=20_000, schedule_seed=0, step_cost=0.01,
horizon=50)``

* ``size`` (int in [2, 20]): ``N``.
* ``switch_every`` (int >= 1): steps per phase, counted per instance.
* ``schedule_seed`` (int >= 0): seed of the mapping schedule (fixed task).
* ``step_cost`` (float in [0, 1 / (2 (N - 1)))): cost of every step (keeps the optimum positive).
* ``horizon`` (int in [2 (N - 1), 100000]): episode length limit.
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
from envs._grid import DOWN, LEFT, RIGHT, UP, PhasedGridEnv, goal_model, move
from envs.scoring import normalized_score
from rlfloor.checks import check_int, check_number

MAX_SIZE = 20
MAX_HORIZON = 100_000
DEFAULT_HORIZON = 50
"""Default ``horizon``; also the registered ``max_episode_steps``."""
SCHEDULE_PHASES = 16
"""Length of the cycle of action mappings (even: phase ``p`` and ``p + 16`` have the same useful actions)."""
_USEFUL = (RIGHT, DOWN)
_USELESS = (UP, LEFT)


def mapping_schedule(schedule_seed: int, phases: int = SCHEDULE_PHASES) -> list[tuple[int, ...]]:
    """The cycle of action mappings: entry ``p`` lists the direction of each action in phase ``p``.

    Phase 0 is a uniformly random permutation; at every later phase the actions that meant right or down get
    up and left (in random order) and the others get right and down, so a committed path never survives a
    switch. ``phases`` must be even so that the cycle closes the same way.
    """
    if phases % 2:
        raise ValueError(f"phases must be even, got {phases!r}")
    rng = np.random.default_rng(schedule_seed)
    mapping = [int(d) for d in rng.permutation(4)]
    schedule = [tuple(mapping)]
    for _ in range(phases - 1):
        useful_actions = [a for a in range(4) if mapping[a] in _USEFUL]
        other_actions = [a for a in range(4) if mapping[a] in _USELESS]
        new = [0, 0, 0, 0]
        for actions, directions in ((useful_actions, _USELESS), (other_actions, _USEFUL)):
            for action, direction in zip(actions, rng.permutation(directions).tolist(), strict=True):
                new[action] = int(direction)
        mapping = new
        schedule.append(tuple(mapping))
    return schedule


class PermutedGridEnv(PhasedGridEnv):
    """Open ``size x size`` grid whose action meanings are permuted every ``switch_every`` steps; see the module."""

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
        """Draw the mapping schedule from ``schedule_seed`` and compute the exact references."""
        self.size = check_int("size", size, 2, MAX_SIZE)
        self.switch_every = check_int("switch_every", switch_every, 1)
        self.schedule_seed = check_int("schedule_seed", schedule_seed, 0)
        path = 2 * (self.size - 1)
        self.step_cost = check_number("step_cost", step_cost, 0.0, 1.0 / path, high_open=True)
        self.horizon = check_int("horizon", horizon, path, MAX_HORIZON)
        self.render_mode = check_render_mode(render_mode)

        n_cells = self.size * self.size
        self.action_space = spaces.Discrete(4)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n_cells,), dtype=np.float32)
        self._one_hot = one_hot_table(n_cells)
        self.goal = n_cells - 1
        """The goal cell (bottom-right)."""
        self._schedule = mapping_schedule(self.schedule_seed)

        transitions, rewards = goal_model(self.size, self.goal, {self.goal}, self.step_cost)
        start = np.zeros(n_cells)
        start[0] = 1.0
        self.random_return, self.optimal_return = finite_horizon_returns(transitions, rewards, start, self.horizon)

        self._clear_episode()

    def _clear_episode(self) -> None:
        self._cell = 0
        self._t = 0
        self._return = 0.0
        self._done = False
        self._direction = -1

    def mapping(self, phase: int | None = None) -> tuple[int, ...]:
        """Direction of each action in ``phase`` (default: the current episode's)."""
        index = self._phase if phase is None else check_int("phase", phase, 0)
        return self._schedule[index % SCHEDULE_PHASES]

    def _distance(self, cell: int) -> int:
        row, col = divmod(cell, self.size)
        return 2 * (self.size - 1) - row - col

    def _info(self, optimal_action: bool) -> dict[str, Any]:
        return {
            **self._phase_info(),
            "direction": self._direction,
            "optimal_action": optimal_action,
            "reached_goal": self._cell == self.goal,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start in the top-left cell under the mapping now in force; a ``seed`` also restarts the schedule."""
        super().reset(seed=seed)
        self._clear_episode()
        return self._one_hot[0].copy(), self._info(False)

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Move in the direction ``action`` means in this episode's phase."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, 4)
        if self._done:
            raise RuntimeError("episode has ended; call reset() first")
        self._direction = self.mapping()[int(action)]
        before = self._cell
        self._cell = move(before, self._direction, self.size)
        self._t += 1
        self._count_step()
        terminated = self._cell == self.goal
        reward = (1.0 if terminated else 0.0) - self.step_cost
        self._return += reward
        truncated = not terminated and self._t >= self.horizon
        self._done = terminated or truncated
        info = self._info(self._distance(self._cell) < self._distance(before))
        if self._done:
            info["score"] = normalized_score(self._return, self.random_return, self.optimal_return)
        return self._one_hot[self._cell].copy(), reward, terminated, truncated, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """The grid as text (``"ansi"``: ``A`` agent, ``G`` goal, and the action mapping) or an RGB image."""
        if self.render_mode is None:
            return None
        n = self.size
        if self.render_mode == "ansi":
            rows = []
            for r in range(n):
                chars = ["." for _ in range(n)]
                chars[n - 1] = "G" if r == n - 1 else "."
                if self._cell // n == r:
                    chars[self._cell % n] = "A"
                rows.append("".join(chars))
            names = "urdl"
            rows.append(f"phase={self._phase} actions->" + "".join(names[d] for d in self.mapping()))
            return ansi_grid(rows)
        codes = np.zeros((n, n), dtype=np.int64)
        codes[n - 1, n - 1] = GOAL
        codes[self._cell // n, self._cell % n] = AGENT
        return cells_to_rgb(codes)
