"""MiniGrid's ``FlatObsWrapper`` (rl-zoo3's observation wrapper for MiniGrid), re-creatable from ``env.spec``.

MiniGrid 3.x's wrappers do not inherit ``gymnasium.utils.RecordConstructorArgs``, so ``env.spec`` -- which
``gymnasium.utils.env_checker.check_env`` and anything re-creating an env read -- raises for a wrapped env.
This subclass only records its constructor arguments; observations are unchanged: the 7x7x3 egocentric image
and the mission string (one-hot characters, ``max_str_len`` of them), flattened.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.utils import RecordConstructorArgs
from minigrid.wrappers import FlatObsWrapper as _MiniGridFlatObsWrapper


class FlatObsWrapper(_MiniGridFlatObsWrapper, RecordConstructorArgs):
    """MiniGrid's ``FlatObsWrapper`` that records its constructor arguments (so ``env.spec`` works)."""

    def __init__(self, env: gym.Env[Any, Any], max_str_len: int = 96) -> None:
        """Wrap ``env`` as ``minigrid.wrappers.FlatObsWrapper(env, maxStrLen=max_str_len)`` does."""
        RecordConstructorArgs.__init__(self, max_str_len=max_str_len)
        _MiniGridFlatObsWrapper.__init__(self, env, maxStrLen=max_str_len)
