"""rlfloor's benchmark environments: Gymnasium tasks that each probe one exploration failure.

Importing this package registers every environment under the ``rlfloor/`` namespace::

    import gymnasium as gym
    import envs  # noqa: F401  (registers the ids)

    env = gym.make("rlfloor/DeepSea-v0", size=12)

* ``rlfloor/DeepSea-v0`` -- deep exploration (bsuite DeepSea; the control a floor cannot fix);
* ``rlfloor/DeepSeaStochastic-v0`` -- the same with bsuite's noisy transitions and rewards;
* ``rlfloor/DeepSea-v1``, ``rlfloor/DeepSeaStochastic-v1`` -- the same, with the action mapping drawn exactly
  as bsuite draws it (``mapping_seed=s`` is bsuite's task for seed ``s``); the suite uses these;
* ``rlfloor/SwitchingBandit-v0`` -- non-stationarity: the paying arm moves during training;
* ``rlfloor/DriftingBandit-v0`` -- non-stationarity without a switch point: the payoffs drift slowly;
* ``rlfloor/PermutedGrid-v0`` -- non-stationary dynamics: the actions' meanings are permuted during training;
* ``rlfloor/MovingGoalGrid-v0`` -- non-stationary goal in a gridworld: the paying corner moves during training;
* ``rlfloor/DeceptiveChain-v0`` -- deception: a small sure reward near the start, a large one far away;
* ``rlfloor/SymmetricGoals-v0`` -- symmetric optima: the cost of not committing, gradient cancellation;
* ``rlfloor/MaskedGrid-v0`` -- state-dependent invalid actions exposed by ``action_masks()``.

Episode ends and scores. Every environment reports ``info["score"]`` (in [0, 1], random ~0, optimal 1) on
the step that ends the episode, and exposes its exact reference returns as ``env.unwrapped.random_return``
and ``env.unwrapped.optimal_return``; see :mod:`envs.scoring` for scoring a run. DeepSea (exactly ``size``
steps) and the two bandits (one pull) always end by themselves and are registered without
``max_episode_steps``. DeceptiveChain, SymmetricGoals, MaskedGrid and the two non-stationary gridworlds end
by themselves after ``horizon``
steps (their reference returns depend on it) and are registered with ``max_episode_steps`` equal to their
default ``horizon``.

The suite -- which tasks, settings, budgets and normalization constants a comparison uses, including the
standard control tasks -- is data in :mod:`envs.suite`.
"""

from __future__ import annotations

import gymnasium as gym

from envs import deceptive_chain, masked_grid, moving_goal, permuted_grid, symmetric_goals
from envs.deceptive_chain import DeceptiveChainEnv
from envs.deep_sea import DeepSeaEnv
from envs.drifting_bandit import DriftingBanditEnv
from envs.masked_grid import MaskedGridEnv
from envs.moving_goal import MovingGoalGridEnv
from envs.permuted_grid import PermutedGridEnv
from envs.switching_bandit import SwitchingBanditEnv
from envs.symmetric_goals import SymmetricGoalsEnv

__all__ = [
    "ENV_IDS",
    "DeceptiveChainEnv",
    "DeepSeaEnv",
    "DriftingBanditEnv",
    "MaskedGridEnv",
    "MovingGoalGridEnv",
    "PermutedGridEnv",
    "SwitchingBanditEnv",
    "SymmetricGoalsEnv",
]

# (id, entry point, registration kwargs, max_episode_steps)
_REGISTRATIONS: tuple[tuple[str, str, dict[str, object], int | None], ...] = (
    ("rlfloor/DeepSea-v0", "envs.deep_sea:DeepSeaEnv", {}, None),
    ("rlfloor/DeepSeaStochastic-v0", "envs.deep_sea:DeepSeaEnv", {"stochastic": True}, None),
    ("rlfloor/DeepSea-v1", "envs.deep_sea:DeepSeaEnv", {"bsuite_mapping": True}, None),
    (
        "rlfloor/DeepSeaStochastic-v1",
        "envs.deep_sea:DeepSeaEnv",
        {"stochastic": True, "bsuite_mapping": True},
        None,
    ),
    ("rlfloor/SwitchingBandit-v0", "envs.switching_bandit:SwitchingBanditEnv", {}, None),
    (
        "rlfloor/DeceptiveChain-v0",
        "envs.deceptive_chain:DeceptiveChainEnv",
        {},
        deceptive_chain.DEFAULT_HORIZON,
    ),
    (
        "rlfloor/SymmetricGoals-v0",
        "envs.symmetric_goals:SymmetricGoalsEnv",
        {},
        symmetric_goals.DEFAULT_HORIZON,
    ),
    ("rlfloor/MaskedGrid-v0", "envs.masked_grid:MaskedGridEnv", {}, masked_grid.DEFAULT_HORIZON),
    ("rlfloor/DriftingBandit-v0", "envs.drifting_bandit:DriftingBanditEnv", {}, None),
    ("rlfloor/PermutedGrid-v0", "envs.permuted_grid:PermutedGridEnv", {}, permuted_grid.DEFAULT_HORIZON),
    ("rlfloor/MovingGoalGrid-v0", "envs.moving_goal:MovingGoalGridEnv", {}, moving_goal.DEFAULT_HORIZON),
)

ENV_IDS: tuple[str, ...] = tuple(env_id for env_id, _, _, _ in _REGISTRATIONS)
"""Every id registered by ``import envs``."""

for _env_id, _entry_point, _kwargs, _max_steps in _REGISTRATIONS:
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point=_entry_point, kwargs=_kwargs, max_episode_steps=_max_steps)
