"""DeepSea: deep exploration with a per-cell scrambled action meaning (bsuite's ``deep_sea``).

Description
-----------
Probes **deep exploration**. The agent is a block falling through an ``N x N`` grid: it starts in the
top-left cell and every step moves down one row and one column left or right (clipped at the walls), so an
episode lasts exactly ``N`` steps. Moving right costs a little; moving left is free. The only positive
reward is in the bottom-right cell, which is reached only by choosing "right" ``N`` times in a row
(staying on the diagonal). Which action index means "right" is drawn independently for every cell, so no
single action is "right" everywhere and a uniformly random policy finds the reward with probability
``2**-N``. Dithering exploration (epsilon-greedy, entropy bonuses, probability floors) needs on the order of
``2**N`` episodes; this task is the control that shows where a floor alone does *not* help.

Written from the published description of bsuite's DeepSea (Osband et al. 2019, "Behaviour Suite for
Reinforcement Learning"; Osband et al. 2018, "Randomized Prior Functions").

The action mapping is fixed by ``mapping_seed`` and does **not** depend on the reset seed, so the task is the
same in every episode and in every copy of the environment (e.g. all workers of a vectorized env).

``rlfloor/DeepSea-v1`` (``bsuite_mapping=True``) draws the mapping exactly as bsuite does,
``np.random.RandomState(mapping_seed).binomial(1, 0.5, [N, N])``, so ``mapping_seed=s`` is bsuite's
``deep_sea`` task for the same seed (bsuite's sweep uses ``mapping_seed=42``): same mapping, same rewards,
same "bad episode" flags step for step (``tests/envs/test_deep_sea_bsuite.py`` checks this against bsuite's
own environment). Its observation is bsuite's ``(N, N)`` one-hot grid flattened row-major.
``rlfloor/DeepSea-v0`` draws it from ``numpy.random.default_rng(mapping_seed).integers(0, 2, (N, N))``:
the same task distribution, but a different task for a given seed.

Stochastic variant (``stochastic=True``, registered as ``rlfloor/DeepSeaStochastic-v0``): as in bsuite, a
"right" move fails with probability ``1/N`` (the column stays the same, so the agent falls off the
diagonal), and ``N(0, 1)`` noise is added to the reward of the last step when the agent is in the
left-most or right-most column.

Action Space
------------
``Discrete(2)``. In every cell one of the two actions means "right" and the other "left"; which one is
given by ``env.unwrapped.mapping[row, column]`` (the action index meaning "right").

Observation Space
-----------------
``Box(0, 1, (N*N,), float32)``: a one-hot encoding of the cell ``row * N + column``. After the last step the
observation is all zeros (the block has left the grid), as in bsuite.

Rewards
-------
* "right": ``-move_cost / N`` (so ``N`` right moves cost ``move_cost`` in total);
* "right" taken in the right-most column (only possible on the last row): ``+1``;
* "left": 0.
The optimal return is ``1 - move_cost = 0.99`` (deterministic) and ``(1 - 1/N)**(N - 1) - move_cost`` in
expectation (stochastic). The uniform-random return is ``2**-N * p - move_cost / 2`` where ``p`` is 1
(deterministic) or ``(1 - 1/N)**(N - 1)`` (stochastic).

Score: ``info["score"]`` on the last step is ``envs.scoring.normalized_score`` of the episode's noise-free
return against those two references (``env.unwrapped.random_return`` / ``optimal_return``). All-right
scores 1; all-left scores ``~0.005`` (it saves the random policy's move cost).

``info`` on every step: ``left_diagonal`` (bool, the agent chose "left" while on the diagonal at some step
of this episode -- bsuite's "bad episode"; a failed "right" in the stochastic variant does not count) and
``reached_goal`` (bool, the +1 was collected). On the last step also ``score`` (float),
``denoised_return`` (float, the episode return without the Gaussian reward noise), ``bad_episode`` (bool,
equal to ``left_diagonal``: the per-episode flag :func:`envs.scoring.deep_sea_score` needs) and
``total_bad_episodes`` (int, bad episodes finished by this instance since it was built: bsuite's counter of
the same name).

Episode End
-----------
Terminates (``terminated=True``) after exactly ``N`` steps. There is no truncation; the environment is
registered without ``max_episode_steps``. Stepping a finished episode raises ``RuntimeError``.

Arguments
---------
``gymnasium.make("rlfloor/DeepSea-v0", size=10, mapping_seed=0, move_cost=0.01, stochastic=False)``

* ``size`` (int in [2, 100]): ``N``, the grid side and episode length.
* ``mapping_seed`` (int >= 0): seed of the per-cell action mapping (fixed task).
* ``move_cost`` (float in [0, 1)): total cost of ``N`` right moves (bsuite's ``unscaled_move_cost``).
* ``stochastic`` (bool): the bsuite stochastic variant described above.
* ``bsuite_mapping`` (bool): draw the mapping as bsuite does (``True`` in ``-v1``).
* ``render_mode`` (None, ``"ansi"`` or ``"rgb_array"``).

Version History
---------------
* v1: the action mapping is drawn as bsuite draws it (``bsuite_mapping=True``), so a ``mapping_seed`` is
  bsuite's task for that seed. Dynamics, rewards and references are unchanged.
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
    Action,
    Observation,
    ansi_grid,
    cells_to_rgb,
    check_render_mode,
    invalid_action_error,
)
from envs.scoring import normalized_score
from rlfloor.checks import check_int, check_number

MAX_SIZE = 100


def bsuite_action_mapping(size: int, mapping_seed: int) -> NDArray[np.int64]:
    """bsuite's per-cell mapping: ``RandomState(mapping_seed).binomial(1, 0.5, [size, size])`` (1 = "right" index).

    The exact draw of ``bsuite.environments.deep_sea.DeepSea(size, mapping_seed=mapping_seed)`` (bsuite 0.3.5,
    ``randomize_actions=True``); used by ``rlfloor/DeepSea-v1``.
    """
    return np.random.RandomState(mapping_seed).binomial(1, 0.5, [size, size]).astype(np.int64)


def _v0_action_mapping(size: int, mapping_seed: int) -> NDArray[np.int64]:
    """The ``-v0`` mapping (kept unchanged so ``-v0`` results stay reproducible)."""
    return np.random.default_rng(mapping_seed).integers(0, 2, size=(size, size), dtype=np.int64)


class DeepSeaEnv(gym.Env[Observation, Action]):
    """bsuite-style DeepSea of side ``size``; see the module docstring for the full specification."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        size: int = 10,
        mapping_seed: int = 0,
        move_cost: float = 0.01,
        stochastic: bool = False,
        render_mode: str | None = None,
        bsuite_mapping: bool = False,
    ) -> None:
        """Build the grid and draw the per-cell action mapping from ``mapping_seed``."""
        self.size = check_int("size", size, 2, MAX_SIZE)
        self.mapping_seed = check_int("mapping_seed", mapping_seed, 0)
        self.move_cost = check_number("move_cost", move_cost, 0.0, 1.0, high_open=True)
        if not isinstance(stochastic, (bool, np.bool_)):
            raise ValueError(f"stochastic must be a bool, got {stochastic!r}")
        self.stochastic = bool(stochastic)
        if not isinstance(bsuite_mapping, (bool, np.bool_)):
            raise ValueError(f"bsuite_mapping must be a bool, got {bsuite_mapping!r}")
        self.bsuite_mapping = bool(bsuite_mapping)
        if self.bsuite_mapping and self.mapping_seed >= 2**32:
            raise ValueError(f"mapping_seed must be < 2**32 with bsuite_mapping (RandomState), got {mapping_seed!r}")
        self.render_mode = check_render_mode(render_mode)

        n = self.size
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n * n,), dtype=np.float32)

        mapping = (
            bsuite_action_mapping(n, self.mapping_seed)
            if self.bsuite_mapping
            else _v0_action_mapping(n, self.mapping_seed)
        )
        self._mapping = mapping
        self._right_action: list[int] = mapping.ravel().tolist()  # flat list: faster than array indexing
        self._step_cost = self.move_cost / n
        self._fail_prob = 1.0 / n if self.stochastic else 0.0

        path_prob = (1.0 - 1.0 / n) ** (n - 1) if self.stochastic else 1.0
        self.optimal_return: float = path_prob - self.move_cost
        """Expected return of the optimal policy (always "right")."""
        self.random_return: float = path_prob * 0.5**n - self.move_cost / 2.0
        """Expected return of the uniform-random policy."""

        self._total_bad_episodes = 0
        self._clear_episode()

    def _clear_episode(self) -> None:
        """Per-episode state at the start of an episode (used by ``__init__`` and ``reset``)."""
        self._row = 0
        self._col = 0
        self._last_cell = 0
        self._left_diagonal = False
        self._reached_goal = False
        self._denoised_return = 0.0

    @property
    def mapping(self) -> NDArray[np.int64]:
        """``(N, N)`` array: the action index that means "right" in each cell (a copy)."""
        return self._mapping.copy()

    def _observation(self) -> Observation:
        obs = np.zeros(self.size * self.size, dtype=np.float32)
        if self._row < self.size:
            obs[self._row * self.size + self._col] = 1.0
        return obs

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Put the block in the top-left cell. ``options`` is not used."""
        super().reset(seed=seed)
        self._clear_episode()
        return self._observation(), {"left_diagonal": False, "reached_goal": False}

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Move down one row and left or right; see the module docstring for rewards."""
        if not self.action_space.contains(action):
            raise invalid_action_error(action, 2)
        n = self.size
        row, col = self._row, self._col
        if row >= n:
            raise RuntimeError("DeepSea episode has ended (it lasts exactly `size` steps); call reset() first")
        self._last_cell = row * n + col
        noise = 0.0
        if self.stochastic and row == n - 1 and col in (0, n - 1):
            noise = float(self.np_random.standard_normal())
        reward = 0.0
        if int(action) == self._right_action[self._last_cell]:
            if col == n - 1:
                reward += 1.0
                self._reached_goal = True
            if self._fail_prob == 0.0 or self.np_random.random() >= self._fail_prob:
                col = min(col + 1, n - 1)
            reward -= self._step_cost
        else:
            if row == col:
                self._left_diagonal = True
            col = max(col - 1, 0)
        self._denoised_return += reward
        reward += noise
        self._row = row + 1
        self._col = col

        info: dict[str, Any] = {"left_diagonal": self._left_diagonal, "reached_goal": self._reached_goal}
        terminated = self._row == n
        if terminated:
            self._total_bad_episodes += self._left_diagonal
            info["bad_episode"] = self._left_diagonal
            info["total_bad_episodes"] = self._total_bad_episodes
            info["denoised_return"] = self._denoised_return
            info["score"] = normalized_score(self._denoised_return, self.random_return, self.optimal_return)
        return self._observation(), reward, terminated, False, info

    def render(self) -> str | NDArray[np.uint8] | None:
        """Return the grid as text (``"ansi"``) or an RGB array (``"rgb_array"``); ``None`` without a mode."""
        if self.render_mode is None:
            return None
        n = self.size
        agent = self._row * n + self._col if self._row < n else self._last_cell
        if self.render_mode == "ansi":
            rows = []
            for r in range(n):
                chars = ["." for _ in range(n)]
                if r == n - 1:
                    chars[n - 1] = "G"
                if agent // n == r:
                    chars[agent % n] = "A"
                rows.append("".join(chars))
            return ansi_grid(rows)
        codes = np.zeros((n, n), dtype=np.int64)
        codes[n - 1, n - 1] = GOAL
        codes[agent // n, agent % n] = AGENT
        return cells_to_rgb(codes)
