"""SymmetricGoals: K equally good goals that can only be reached by committing to one of them.

Description
-----------
Probes **symmetric optima**: the cost of not committing, and gradient cancellation. A hub has ``K``
corridors ("branches") of length ``L``; each ends in a goal worth the same reward. Action ``k`` means
"go along branch ``k``": in the hub it enters branch ``k``; on branch ``b`` it moves one cell outward if
``k == b`` and one cell back toward the hub otherwise. Reaching the end of any branch ends the episode.

The observation is only the distance from the hub, not the branch, so the agent must repeat the *same*
action ``L`` times: the optimal policies are the ``K`` deterministic ones "always ``k``". In a fully
observed MDP any mixture of optimal actions is optimal and non-commitment costs nothing; here a policy
that spreads its probability over the ``K`` optima performs a random walk, so exploration pressure that
keeps the policy from committing shows up directly in the return. For the same reason the policy gradient
at the symmetric point cancels: episodes that reach goal ``j`` push every depth toward action ``j``.

Action Space
------------
``Discrete(K)``: the branch to move along.

Observation Space
-----------------
``Box(0, 1, (L + 1,), float32)``: one-hot encoding of the depth ``0 .. L`` (0 is the hub, ``L`` a goal, seen
only in the terminal observation).

Rewards
-------
``-step_cost`` every step, plus 1 on the step that reaches a goal. The optimal return is
``1 - L * step_cost``; ``random_return`` (an attribute of the env) is the exact expected return of the
uniform-random policy over ``horizon`` steps, by dynamic programming on
:meth:`SymmetricGoalsEnv.transition_model`.

Score: ``info["score"]`` on the last step is ``envs.scoring.normalized_score`` of the episode return.
``info`` on every step: ``branch`` (current branch, -1 in the hub), ``depth``, ``hub_returns`` (times the
agent fell back to the hub this episode -- a direct count of indecision) and ``optimum`` (index of the goal
reached, -1 if none yet).

Episode End
-----------
Terminates (``terminated=True``) when a goal is reached. Otherwise truncated (``truncated=True``) after
``horizon`` steps by the environment itself, because the reference returns depend on it;
``max_episode_steps`` is registered equal to the default ``horizon`` (50). If you pass a larger ``horizon``
to ``gymnasium.make``, pass ``max_episode_steps`` as well (``envs.suite.make`` does this for you).

Arguments
---------
``gymnasium.make("rlfloor/SymmetricGoals-v0", n_goals=3, length=5, step_cost=0.01, horizon=50)``

* ``n_goals`` (int in [2, 16]): ``K``, the number of branches, goals and actions.
* ``length`` (int in [2, 100]): ``L``, steps from the hub to a goal.
* ``step_cost`` (float in [0, 1 / L)): cost of every step (keeps the optimum positive).
* ``horizon`` (int in [L, 100000]): episode length limit.
* ``render_mode`` (None, ``"ansi"`` or ``"rgb_array"``).

Version History
---------------
* v0: initial version.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from envs._common import (
    AGENT,
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

HUB = -1
MAX_GOALS = 16
MAX_LENGTH = 100
MAX_HORIZON = 100_000
DEFAULT_HORIZON = 50
"""Default ``horizon``; also the registered ``max_episode_steps``."""


class SymmetricGoalsEnv(gym.Env[Observation, Action]):
    """Hub with ``n_goals`` aliased branches of ``length`` cells; see the module docstring."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        n_goals: int = 3,
        length: int = 5,
        step_cost: float = 0.01,
        horizon: int = DEFAULT_HORIZON,
        render_mode: str | None = None,
    ) -> None:
        """Validate the arguments and compute the exact random and optimal reference returns."""
        self.n_goals = check_int("n_goals", n_goals, 2, MAX_GOALS)
        self.length = check_int("length", length, 2, MAX_LENGTH)
        self.step_cost = check_number("step_cost", step_cost, 0.0, 1.0 / self.length, high_open=True)
        self.horizon = check_int("horizon", horizon, self.length, MAX_HORIZON)
        self.render_mode = check_render_mode(render_mode)

        self.action_space = spaces.Discrete(self.n_goals)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.length + 1,), dtype=np.float32)
        self._one_hot = one_hot_table(self.length + 1)

        transitions, rewards = self.transition_model()
        start = np.zeros(transitions.shape[0])
        start[0] = 1.0
        self.random_return, self.optimal_return = finite_horizon_returns(transitions, rewards, start, self.horizon)

        self._clear_episode()

    def _clear_episode(self) -> None:
        """Per-episode state at the start of an episode (used by ``__init__`` and ``reset``)."""
        self._branch = HUB
        self._depth = 0
        self._t = 0
        self._return = 0.0
        self._hub_returns = 0
        self._optimum = -1

    def state_index(self, branch: int, depth: int) -> int:
        """Row of ``(branch, depth)`` in :meth:`transition_model` (hub: ``branch=-1, depth=0``)."""
        if depth == 0:
            return 0
        if depth >= self.length:
            return 1 + self.n_goals * (self.length - 1)
        return 1 + branch * (self.length - 1) + depth - 1

    def transition_model(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Exact model ``(P, R)``; state 0 is the hub, the last state the (absorbing) goal.

        Branch ``b`` at depth ``d`` in ``1 .. L-1`` is state :meth:`state_index` ``(b, d)``.
        """
        k, n = self.n_goals, self.length
        n_states = 2 + k * (n - 1)
        done = n_states - 1
        transitions = np.zeros((n_states, k, n_states))
        rewards = np.full((n_states, k), -self.step_cost)
        for a in range(k):
            transitions[0, a, self.state_index(a, 1)] = 1.0
            transitions[done, a, done] = 1.0
            rewards[done, a] = 0.0
        for b in range(k):
            for d in range(1, n):
                s = self.state_index(b, d)
                for a in range(k):
                    if a == b:
                        transitions[s, a, self.state_index(b, d + 1)] = 1.0
                        if d + 1 == n:
                            rewards[s, a] += 1.0
                    else:
                        transitions[s, a, self.state_index(b, d - 1)] = 1.0
        return transitions, rewards

    def _info(self) -> dict[str, Any]:
        return {
            "branch": self._branch,
            "depth": self._depth,
            "hub_returns": self._hub_returns,
            "optimum": self._optimum,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start in the hub. ``options`` is not used."""
        super().reset(seed=seed)
        self._clear_episode()
        return self._one_hot[0].copy(), self._info()

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Move along branch ``action``: outward on that branch, back toward the hub on any other."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, self.n_goals)
        if self._optimum >= 0 or self._t >= self.horizon:
            raise RuntimeError("episode has ended; call reset() first")
        a = int(action)
        reward = -self.step_cost
        if self._depth == 0:
            self._branch = a
            self._depth = 1
        elif a == self._branch:
            self._depth += 1
        else:
            self._depth -= 1
            if self._depth == 0:
                self._branch = HUB
                self._hub_returns += 1
        terminated = self._depth == self.length
        if terminated:
            reward += 1.0
            self._optimum = self._branch
        self._t += 1
        self._return += reward
        truncated = not terminated and self._t >= self.horizon
        info = self._info()
        if terminated or truncated:
            info["score"] = normalized_score(self._return, self.random_return, self.optimal_return)
        return self._one_hot[self._depth].copy(), reward, terminated, truncated, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """Branches as rows (``"ansi"``: ``H`` hub, ``G`` goal, ``A`` agent) or the same as an RGB image."""
        if self.render_mode is None:
            return None
        k, n = self.n_goals, self.length
        if self.render_mode == "ansi":
            rows = []
            for b in range(k):
                chars = ["A" if self._branch == HUB and b == 0 else "H"] + ["."] * (n - 1) + ["G"]
                if self._branch == b:
                    chars[self._depth] = "A"
                if b > 0:
                    chars[0] = "|"
                rows.append(f"{b}: " + "".join(chars))
            return ansi_grid(rows)
        codes = np.zeros((k, n + 1), dtype=np.int64)
        codes[:, 0] = WALL
        codes[:, n] = GOAL
        if self._branch == HUB:
            codes[:, 0] = AGENT
        else:
            codes[self._branch, self._depth] = AGENT
        return cells_to_rgb(codes)
