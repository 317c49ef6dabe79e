"""DeceptiveChain: a RiverSwim-style chain with a small sure reward at the start and a large one far away.

Description
-----------
Probes **premature commitment** (deception). States ``0 .. N-1`` form a chain; the agent starts in state 0.
"Left" is deterministic and pays a small reward when taken in state 0, so a policy finds and exploits it
at once. "Right" swims against a current: it moves right with probability ``p_right``, slips back left with
probability ``p_slip`` and otherwise stays put. Every "right" that ends in the far state ``N-1`` pays the
large reward. A uniformly random policy drifts left and rarely reaches the far end, so an agent that
commits to the small reward early never learns that the far end is worth two orders of magnitude more.

The dynamics follow RiverSwim (Strehl & Littman 2008; defaults ``p_right=0.35``, ``p_slip=0.05`` and
the ``5/1000`` versus ``1`` rewards), simplified so that "right" has the same probabilities in every state
(moves are clipped at both ends) and the start state is always 0. Set ``p_right=1, p_slip=0`` for a
deterministic chain.

Action Space
------------
``Discrete(2)``: 0 = left, 1 = right.

Observation Space
-----------------
``Box(0, 1, (N,), float32)``: one-hot encoding of the state.

Rewards
-------
* left in state 0: ``small_reward`` (default 0.005); left elsewhere: 0;
* right that ends in state ``N-1`` (arriving or staying there): ``large_reward`` (default 1).
``random_return`` and ``optimal_return`` (attributes of the env) are the exact expected episode returns of
the uniform-random and the optimal policy over ``horizon`` steps, computed by dynamic programming on
:meth:`DeceptiveChainEnv.transition_model`. With the defaults they are about 0.415 and 73.2; a policy that
farms the small reward earns ``0.005 * horizon = 0.5``, a score of about 0.001.

Score: ``info["score"]`` on the last step of the episode is ``envs.scoring.normalized_score`` of the episode
return. ``info`` on every step: ``state``, ``max_state`` (farthest state reached this episode),
``small_rewards`` and ``large_rewards`` (how many steps paid each reward this episode).

Episode End
-----------
No terminal state. The episode is truncated (``truncated=True``) after ``horizon`` steps by the environment
itself, because the reference returns depend on it; ``max_episode_steps`` is registered equal to the default
``horizon`` (100). If you pass a larger ``horizon`` to ``gymnasium.make``, pass ``max_episode_steps`` as
well (``envs.suite.make`` does this for you).

Arguments
---------
``gymnasium.make("rlfloor/DeceptiveChain-v0", length=6, p_right=0.35, p_slip=0.05, small_reward=0.005,
large_reward=1.0, horizon=100)``

* ``length`` (int in [2, 1000]): ``N``, the number of states.
* ``p_right`` (float in (0, 1]): probability that "right" moves right.
* ``p_slip`` (float in [0, 1 - p_right]): probability that "right" moves left.
* ``small_reward`` (float in [0, large_reward)): reward of "left" in state 0.
* ``large_reward`` (float in (0, 1e6]): reward of "right" ending in state ``N-1``.
* ``horizon`` (int in [1, 100000]): episode length.
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
    SMALL,
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

LEFT, RIGHT = 0, 1
MAX_LENGTH = 1000
MAX_HORIZON = 100_000
DEFAULT_HORIZON = 100
"""Default ``horizon``; also the registered ``max_episode_steps``."""


class DeceptiveChainEnv(gym.Env[Observation, Action]):
    """RiverSwim-style chain of ``length`` states; see the module docstring for the full specification."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        length: int = 6,
        p_right: float = 0.35,
        p_slip: float = 0.05,
        small_reward: float = 0.005,
        large_reward: float = 1.0,
        horizon: int = DEFAULT_HORIZON,
        render_mode: str | None = None,
    ) -> None:
        """Validate the arguments and compute the exact random and optimal reference returns."""
        self.length = check_int("length", length, 2, MAX_LENGTH)
        self.p_right = check_number("p_right", p_right, 0.0, 1.0, low_open=True)
        self.p_slip = check_number("p_slip", p_slip, 0.0, 1.0 - self.p_right)
        self.large_reward = check_number("large_reward", large_reward, 0.0, 1e6, low_open=True)
        self.small_reward = check_number("small_reward", small_reward, 0.0, self.large_reward, high_open=True)
        self.horizon = check_int("horizon", horizon, 1, MAX_HORIZON)
        self.render_mode = check_render_mode(render_mode)

        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.length,), dtype=np.float32)
        self._one_hot = one_hot_table(self.length)
        self._slip_threshold = self.p_right + self.p_slip

        transitions, rewards = self.transition_model()
        start = np.zeros(self.length)
        start[0] = 1.0
        self.random_return, self.optimal_return = finite_horizon_returns(transitions, rewards, start, self.horizon)

        self._clear_episode()

    def _clear_episode(self) -> None:
        """Per-episode state at the start of an episode (used by ``__init__`` and ``reset``)."""
        self._state = 0
        self._t = 0
        self._return = 0.0
        self._max_state = 0
        self._small = 0
        self._large = 0

    def transition_model(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Exact model: ``(P, R)`` with ``P[s, a, s'] = P(s' | s, a)`` and ``R[s, a]`` the expected reward."""
        n = self.length
        transitions = np.zeros((n, 2, n))
        rewards = np.zeros((n, 2))
        for s in range(n):
            transitions[s, LEFT, max(s - 1, 0)] = 1.0
            rewards[s, LEFT] = self.small_reward if s == 0 else 0.0
            transitions[s, RIGHT, min(s + 1, n - 1)] += self.p_right
            transitions[s, RIGHT, max(s - 1, 0)] += self.p_slip
            transitions[s, RIGHT, s] += 1.0 - self.p_right - self.p_slip
            rewards[s, RIGHT] = self.large_reward * transitions[s, RIGHT, n - 1]
        return transitions, rewards

    def _info(self) -> dict[str, Any]:
        return {
            "state": self._state,
            "max_state": self._max_state,
            "small_rewards": self._small,
            "large_rewards": self._large,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start in state 0. ``options`` is not used."""
        super().reset(seed=seed)
        self._clear_episode()
        return self._one_hot[0].copy(), self._info()

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Move left (deterministic) or try to swim right; see the module docstring for rewards."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, 2)
        if self._t >= self.horizon:
            raise RuntimeError(f"episode was truncated after horizon={self.horizon} steps; call reset() first")
        s = self._state
        reward = 0.0
        if int(action) == LEFT:
            if s == 0:
                reward = self.small_reward
                self._small += 1
            else:
                s -= 1
        else:
            u = self.np_random.random()
            if u < self.p_right:
                if s < self.length - 1:
                    s += 1
            elif u < self._slip_threshold and s > 0:
                s -= 1
            if s == self.length - 1:
                reward = self.large_reward
                self._large += 1
        self._state = s
        if s > self._max_state:
            self._max_state = s
        self._t += 1
        self._return += reward
        truncated = self._t >= self.horizon
        info = self._info()
        if truncated:
            info["score"] = normalized_score(self._return, self.random_return, self.optimal_return)
        return self._one_hot[s].copy(), reward, False, truncated, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """The chain as text (``"ansi"``: ``$`` small reward, ``G`` far end, ``A`` agent) or an RGB row."""
        if self.render_mode is None:
            return None
        n = self.length
        if self.render_mode == "ansi":
            chars = ["$"] + ["."] * (n - 2) + ["G"]
            chars[self._state] = "A"
            return ansi_grid(["".join(chars), f"t={self._t}/{self.horizon} return={self._return:.3f}"])
        codes = np.zeros((1, n), dtype=np.int64)
        codes[0, 0] = SMALL
        codes[0, n - 1] = GOAL
        codes[0, self._state] = AGENT
        return cells_to_rgb(codes)
