"""MiniGrid's observation wrappers, re-creatable from ``env.spec``: ``ImgObsWrapper`` (the image view the MiniGrid
ladder's CNN reads) and ``FlatObsWrapper`` (rl-zoo3's, the legacy MiniGrid entries').

MiniGrid 3.x's wrappers do not inherit ``gymnasium.utils.RecordConstructorArgs``, so ``env.spec`` -- which
``gymnasium.utils.env_checker.check_env`` and anything re-creating an env read -- raises for a wrapped env.
These subclasses only record their constructor arguments; observations are MiniGrid's own.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.utils import RecordConstructorArgs
from minigrid.wrappers import FlatObsWrapper as _MiniGridFlatObsWrapper
from minigrid.wrappers import ImgObsWrapper as _MiniGridImgObsWrapper


class FlatObsWrapper(_MiniGridFlatObsWrapper, RecordConstructorArgs):
    """MiniGrid's ``FlatObsWrapper`` that records its constructor arguments (so ``env.spec`` works)."""

    def __init__(self, env: gym.Env[Any, Any], max_str_len: int = 96) -> None:
        """Wrap ``env`` as ``minigrid.wrappers.FlatObsWrapper(env, maxStrLen=max_str_len)`` does."""
        RecordConstructorArgs.__init__(self, max_str_len=max_str_len)
        _MiniGridFlatObsWrapper.__init__(self, env, maxStrLen=max_str_len)


class ImgObsWrapper(_MiniGridImgObsWrapper, RecordConstructorArgs):
    """MiniGrid's ``ImgObsWrapper`` (the 7x7x3 symbolic egocentric view alone) that records its constructor
    arguments, so ``env.spec`` works; the observation space and values are MiniGrid's own."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        """Wrap ``env`` as ``minigrid.wrappers.ImgObsWrapper(env)`` does."""
        RecordConstructorArgs.__init__(self)
        _MiniGridImgObsWrapper.__init__(self, env)
