"""SwitchingBandit: a K-armed bandit whose best arm moves during training.

Description
-----------
Probes **non-stationarity**. Every episode is one pull of one of ``K`` arms. Exactly one arm pays 1, the
others pay 0. After every ``switch_every`` pulls (counted by this environment instance across episodes)
the paying arm moves to another arm, following a fixed cyclic schedule, so a learner must re-discover it.
The observation is constant: nothing announces a switch. A policy whose probabilities collapsed onto the
old best arm earns 0 after a switch and, sampling the new best arm almost never, has almost no gradient to
recover with; a policy that keeps a floor on every arm samples the new arm at a fixed rate and recovers
(this is why Exp3 mixes in uniform exploration).

The schedule is a permutation of the arms drawn from ``schedule_seed`` (not from the reset seed), so every
copy of the environment -- e.g. every worker of a vectorized env -- has the same task; phase ``p`` pays arm
``schedule[p % K]``, and consecutive phases always pay different arms.

The pull counter belongs to the instance: it keeps counting across ``reset()`` calls. A reset with an
explicit ``seed`` restarts the whole task (counter back to 0, phase 0), so a seeded reset always reproduces
the same run; resets without a seed (what training loops do between episodes) continue it. With a
vectorized env every worker counts its own pulls, so switches happen every ``switch_every * n_envs`` total
steps; ``envs.suite.make(entry, n_envs=...)`` divides ``switch_every`` for you.

Action Space
------------
``Discrete(K)``: the arm to pull.

Observation Space
-----------------
``Box(0, 1, (1,), float32)``, always ``[1.0]``.

Rewards
-------
1 for the currently paying arm, 0 for every other arm. Uniform-random return per episode ``1/K``; optimal
(an oracle that knows the schedule) ``1``.

Score: ``info["score"]`` is ``envs.scoring.normalized_score`` of the pull's reward (1 or 0). Score a run by
averaging rewards over a window first (see :mod:`envs.scoring`): per-pull scores of a random policy average
to ``1/K``, not 0. Score the training pulls: a fresh evaluation env starts again at phase 0.

``info`` on every step: ``best_arm`` (arm paying in this pull), ``switches`` (switches that happened before
this pull; equals the phase), ``pulls_since_switch`` (1 for the first pull of a phase), ``score``.

Episode End
-----------
Every episode is a single pull and terminates (``terminated=True``) after it. No truncation; the
environment is registered without ``max_episode_steps``. Stepping a finished episode raises
``RuntimeError``.

Arguments
---------
``gymnasium.make("rlfloor/SwitchingBandit-v0", n_arms=4, switch_every=10_000, schedule_seed=0)``

* ``n_arms`` (int in [2, 64]): ``K``.
* ``switch_every`` (int >= 1): pulls per phase, counted per instance.
* ``schedule_seed`` (int >= 0): seed of the arm schedule (fixed task).
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
    DIM,
    GOAL,
    RENDER_MODES,
    Action,
    Observation,
    ansi_grid,
    cells_to_rgb,
    check_render_mode,
    invalid_action_error,
)
from envs.scoring import normalized_score
from rlfloor.checks import check_int

MAX_ARMS = 64


class SwitchingBanditEnv(gym.Env[Observation, Action]):
    """K-armed bandit whose paying arm switches every ``switch_every`` pulls; see the module docstring."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        n_arms: int = 4,
        switch_every: int = 10_000,
        schedule_seed: int = 0,
        render_mode: str | None = None,
    ) -> None:
        """Draw the arm schedule from ``schedule_seed``; the pull counter starts at 0."""
        self.n_arms = check_int("n_arms", n_arms, 2, MAX_ARMS)
        self.switch_every = check_int("switch_every", switch_every, 1)
        self.schedule_seed = check_int("schedule_seed", schedule_seed, 0)
        self.render_mode = check_render_mode(render_mode)

        self.action_space = spaces.Discrete(self.n_arms)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

        permutation = np.random.default_rng(self.schedule_seed).permutation(self.n_arms)
        self._schedule: list[int] = permutation.tolist()
        self.random_return: float = 1.0 / self.n_arms
        """Expected reward of a uniformly random pull."""
        self.optimal_return: float = 1.0
        """Reward of pulling the paying arm."""
        self._scores = (
            normalized_score(0.0, self.random_return, self.optimal_return),
            normalized_score(1.0, self.random_return, self.optimal_return),
        )

        self._obs = np.ones(1, dtype=np.float32)  # copied into every observation
        self._pulls = 0
        self._done = False
        self._last_arm = -1

    @property
    def schedule(self) -> tuple[int, ...]:
        """Paying arm of phases ``0 .. K-1``; phase ``p`` pays ``schedule[p % K]``."""
        return tuple(self._schedule)

    @property
    def pulls(self) -> int:
        """Pulls made by this instance since construction or the last seeded reset."""
        return self._pulls

    def best_arm(self, pull: int | None = None) -> int:
        """Arm that pays on pull number ``pull`` (0-based; default: the next pull)."""
        index = self._pulls if pull is None else check_int("pull", pull, 0)
        return self._schedule[(index // self.switch_every) % self.n_arms]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start an episode (one pull). A non-``None`` ``seed`` also restarts the schedule at pull 0."""
        super().reset(seed=seed)
        if seed is not None:
            self._pulls = 0
            self._last_arm = -1
        self._done = False
        return self._obs.copy(), {}

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Pull arm ``action``; the episode terminates after this single pull."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, self.n_arms)
        if self._done:
            raise RuntimeError("SwitchingBandit episodes are a single pull; call reset() before pulling again")
        phase, offset = divmod(self._pulls, self.switch_every)
        best = self._schedule[phase % self.n_arms]
        arm = int(action)
        hit = arm == best
        reward = 1.0 if hit else 0.0
        self._pulls += 1
        self._last_arm = arm
        self._done = True
        info: dict[str, Any] = {
            "best_arm": best,
            "switches": phase,
            "pulls_since_switch": offset + 1,
            "score": self._scores[hit],
        }
        return self._obs.copy(), reward, True, False, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """Text (``"ansi"``) or image (``"rgb_array"``) of the arms: paying arm and last pull marked."""
        if self.render_mode is None:
            return None
        best = self.best_arm()
        if self.render_mode == "ansi":
            cells = []
            for arm in range(self.n_arms):
                mark = "*" if arm == best else " "
                cells.append(f"[{mark}]" if arm != self._last_arm else f"<{mark}>")
            return ansi_grid([" ".join(cells), f"pulls={self._pulls} next paying arm={best}"])
        codes = np.full((2, self.n_arms), DIM, dtype=np.int64)
        codes[0, best] = GOAL
        if self._last_arm >= 0:
            codes[1, self._last_arm] = AGENT
        return cells_to_rgb(codes)
