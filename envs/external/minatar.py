"""Gymnasium seeding for MinAtar 1.0.15's Gymnasium envs (``MinAtar/<Game>-v0`` / ``-v1``).

``minatar.gym.BaseEnv.reset(seed=...)`` seeds its game but never calls ``gymnasium.Env.reset``, so
``env.unwrapped.np_random`` is not seeded as Gymnasium's API requires (``check_env`` fails on it). The
wrapper makes that call; observations, rewards and the game's own seeding are unchanged.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.utils import RecordConstructorArgs


class MinAtarSeeding(gym.Wrapper[Any, Any, Any, Any], RecordConstructorArgs):
    """Seed ``env.unwrapped.np_random`` on ``reset(seed=...)``, which MinAtar's ``BaseEnv`` omits."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        """Wrap a MinAtar env."""
        RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Call ``gymnasium.Env.reset`` on the MinAtar env (seeding ``np_random``), then its own reset."""
        gym.Env.reset(self.env.unwrapped, seed=seed)
        return self.env.reset(seed=seed, options=options)
