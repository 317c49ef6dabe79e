"""DriftingBandit: a K-armed Bernoulli bandit whose payoff probabilities drift slowly, with no switch point.

Description
-----------
Probes **gradual non-stationarity**: the arms' payoff probabilities follow slow random walks (a "restless"
bandit in the sense of Slivkins & Upfal, "Adapting to a changing environment: the Brownian restless
bandits", COLT 2008), so which arm is best changes now and then, without a moment at which everything
changes at once. A policy committed to one arm sees its reward sag slowly while another arm -- which it no
longer samples -- rises; only a policy that keeps sampling every arm notices. Every episode is one pull.

Arms come in complementary pairs: the ``K / 2`` walks ``x_j(t)`` in ``[0, 1]`` give arm payoffs ``x_j`` and
``1 - x_j`` (the arm order is a permutation drawn from the schedule). So the mean payoff over the arms is
exactly 1/2 at every pull and the uniform-random reference is exact at any point of a run. The walks start
evenly spread above 1/2 (``x_j(0) = 1/2 + 0.4 (j + 1) / (K / 2)``, so the best arm starts 0.2 ahead of the
next) and move by Gaussian steps, reflected at 0 and 1, with standard deviation :data:`DRIFT_SD` per
``drift_pulls`` pulls. The path is drawn at :data:`KNOTS_PER_DRIFT` knots per ``drift_pulls`` and linear
in between, so it depends on ``schedule_seed`` and on time in units of ``drift_pulls`` only: dividing
``drift_pulls`` by ``n_envs`` (``envs.suite.make`` does) gives every worker of a vectorized env the same
payoff curve over the run. The walks come from ``schedule_seed``, not from the reset seed: every copy of the
environment has the same task. Rewards are Bernoulli draws from ``self.np_random``.

The pull counter belongs to the instance: it keeps counting across ``reset()`` calls. A reset with an
explicit ``seed`` restarts the whole task (counter back to 0).

Action Space
------------
``Discrete(K)``: the arm to pull.

Observation Space
-----------------
``Box(0, 1, (1,), float32)``, always ``[1.0]``.

Rewards
-------
1 with probability ``p_a(t)`` (the arm's payoff at pull ``t``), else 0. References over the first
``reference_pulls`` pulls of the instance (the run a suite entry trains for): uniform-random
``1/2`` exactly, optimal (an oracle that pulls the best arm every time) ``mean_t max_a p_a(t)``, computed
exactly from the path (``env.unwrapped.optimal_return``).

Score: ``info["score"]`` is ``envs.scoring.normalized_score`` of the pull's reward. Score a run by averaging
its training rewards first (see :mod:`envs.scoring`); a fresh evaluation env starts again at pull 0.

``info`` on every step: ``best_arm`` (arm with the highest payoff at this pull), ``best_changes`` (times the
best arm changed before this pull), ``pulls_since_change`` (1 for the first pull after a change),
``optimal_arm`` (the pulled arm was the best one), ``regret`` (best payoff minus the pulled arm's) and
``score``.

Episode End
-----------
Every episode is a single pull and terminates (``terminated=True``) after it. No truncation; registered
without ``max_episode_steps``. Stepping a finished episode raises ``RuntimeError``.

Arguments
---------
``gymnasium.make("rlfloor/DriftingBandit-v0", n_arms=4, drift_pulls=10_000, reference_pulls=40_000,
schedule_seed=0)``

* ``n_arms`` (even int in [2, 64]): ``K``.
* ``drift_pulls`` (int >= :data:`KNOTS_PER_DRIFT`): pulls over which a walk moves by :data:`DRIFT_SD` (one
  standard deviation, before reflection); counted per instance.
* ``reference_pulls`` (int >= 1): pulls over which ``optimal_return`` is averaged; counted per instance.
* ``schedule_seed`` (int >= 0): seed of the walks and of the arm order (fixed task).
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
DRIFT_SD = 0.25
"""Standard deviation of a walk's (unreflected) move over ``drift_pulls`` pulls."""
KNOTS_PER_DRIFT = 100
"""Random-walk knots per ``drift_pulls``; the payoffs are linear between knots."""
_BLOCK_KNOTS = 1_000


def fold(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Reflect values into ``[0, 1]`` at both ends (a reflected walk is the fold of the free walk)."""
    folded: NDArray[np.float64] = np.abs(values) % 2.0
    return np.where(folded > 1.0, 2.0 - folded, folded)


class DriftingBanditEnv(gym.Env[Observation, Action]):
    """K-armed Bernoulli bandit whose payoffs drift as reflected random walks; see the module docstring."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        n_arms: int = 4,
        drift_pulls: int = 10_000,
        reference_pulls: int = 40_000,
        schedule_seed: int = 0,
        render_mode: str | None = None,
    ) -> None:
        """Draw the arm order and the walks from ``schedule_seed``; compute the exact references."""
        self.n_arms = check_int("n_arms", n_arms, 2, MAX_ARMS)
        if self.n_arms % 2:
            raise ValueError(f"n_arms must be even (arms come in complementary pairs), got {n_arms!r}")
        self.drift_pulls = check_int("drift_pulls", drift_pulls, KNOTS_PER_DRIFT)
        self.reference_pulls = check_int("reference_pulls", reference_pulls, 1)
        self.schedule_seed = check_int("schedule_seed", schedule_seed, 0)
        self.render_mode = check_render_mode(render_mode)

        self.action_space = spaces.Discrete(self.n_arms)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

        pairs = self.n_arms // 2
        rng = np.random.default_rng(self.schedule_seed)
        self._order = rng.permutation(self.n_arms)  # arm a pays column order[a] of [x_0 .. x_m-1, 1 - x_0 ..]
        self._walk_rng = rng
        self._knot_sd = DRIFT_SD / np.sqrt(KNOTS_PER_DRIFT)
        self._knot_pulls = self.drift_pulls / KNOTS_PER_DRIFT
        self._knots = (0.5 + 0.4 * np.arange(1, pairs + 1) / pairs)[None, :]  # (knots, pairs), the free walks

        self.random_return: float = 0.5
        """Expected reward of a uniformly random pull (exactly 1/2 at every pull: complementary pairs)."""
        reference = self.payoffs(np.arange(self.reference_pulls))
        self.optimal_return: float = float(reference.max(axis=1).mean())
        """Mean over the first ``reference_pulls`` pulls of the best arm's payoff."""
        self._scores = (
            normalized_score(0.0, self.random_return, self.optimal_return),
            normalized_score(1.0, self.random_return, self.optimal_return),
        )
        best = reference.argmax(axis=1)
        self.reference_best_changes: int = int(np.count_nonzero(best[1:] != best[:-1]))
        """Times the best arm changes within the first ``reference_pulls`` pulls."""

        self._obs = np.ones(1, dtype=np.float32)
        self._pulls = 0
        self._done = False
        self._last_arm = -1
        self._best = int(best[0])
        self._best_changes = 0
        self._pulls_since_change = 0

    def _extend_knots(self, needed: int) -> None:
        """Draw walk knots (in blocks, from the schedule's generator) until ``needed`` knots exist."""
        while self._knots.shape[0] < needed:
            steps = self._walk_rng.standard_normal((_BLOCK_KNOTS, self._knots.shape[1])) * self._knot_sd
            self._knots = np.concatenate([self._knots, self._knots[-1] + np.cumsum(steps, axis=0)])

    def payoffs(self, pulls: NDArray[np.integer[Any]] | int) -> NDArray[np.float64]:
        """Payoff probability of every arm at pull number(s) ``pulls`` (0-based): shape ``(*shape, K)``."""
        times = np.asarray(pulls, dtype=np.float64) / self._knot_pulls
        if np.any(times < 0):
            raise ValueError(f"pulls must be >= 0, got {pulls!r}")
        low = np.floor(times).astype(np.int64)
        self._extend_knots(int(np.max(low, initial=0)) + 2)
        weight = (times - low)[..., None]
        free = (1.0 - weight) * self._knots[low] + weight * self._knots[low + 1]
        x = fold(free)
        columns = np.concatenate([x, 1.0 - x], axis=-1)
        return columns[..., self._order]

    @property
    def pulls(self) -> int:
        """Pulls made by this instance since construction or the last seeded reset."""
        return self._pulls

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start an episode (one pull). A non-``None`` ``seed`` also restarts the walks at pull 0."""
        super().reset(seed=seed)
        if seed is not None:
            self._pulls = 0
            self._last_arm = -1
            self._best = int(np.argmax(self.payoffs(0)))
            self._best_changes = 0
            self._pulls_since_change = 0
        self._done = False
        return self._obs.copy(), {}

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Pull arm ``action``: reward 1 with its current payoff probability; the episode ends."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, self.n_arms)
        if self._done:
            raise RuntimeError("DriftingBandit episodes are a single pull; call reset() before pulling again")
        payoffs = self.payoffs(self._pulls)
        best = int(np.argmax(payoffs))
        if best != self._best:
            self._best = best
            self._best_changes += 1
            self._pulls_since_change = 0
        self._pulls_since_change += 1
        arm = int(action)
        hit = bool(self.np_random.random() < payoffs[arm])
        self._pulls += 1
        self._last_arm = arm
        self._done = True
        info: dict[str, Any] = {
            "best_arm": best,
            "best_changes": self._best_changes,
            "pulls_since_change": self._pulls_since_change,
            "optimal_arm": arm == best,
            "regret": float(payoffs[best] - payoffs[arm]),
            "score": self._scores[hit],
        }
        return self._obs.copy(), 1.0 if hit else 0.0, True, False, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """Text (``"ansi"``: each arm's payoff, ``*`` best, ``<>`` last pull) or an image of the arms."""
        if self.render_mode is None:
            return None
        payoffs = self.payoffs(self._pulls)
        best = int(np.argmax(payoffs))
        if self.render_mode == "ansi":
            cells = []
            for arm, p in enumerate(payoffs.tolist()):
                text = f"{p:.2f}{'*' if arm == best else ' '}"
                cells.append(f"<{text}>" if arm == self._last_arm else f"[{text}]")
            return ansi_grid([" ".join(cells), f"pulls={self._pulls}"])
        codes = np.full((2, self.n_arms), DIM, dtype=np.int64)
        codes[0, best] = GOAL
        if self._last_arm >= 0:
            codes[1, self._last_arm] = AGENT
        return cells_to_rgb(codes)
