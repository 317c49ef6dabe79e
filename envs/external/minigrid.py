"""MiniGrid's observation wrappers, re-creatable from ``env.spec``: ``ImgObsWrapper`` (the image view the MiniGrid
ladder's CNN reads), ``FastImgObsWrapper`` (the same observations, computed several times faster) and
``FlatObsWrapper`` (rl-zoo3's, the legacy MiniGrid entries').

MiniGrid 3.x's wrappers do not inherit ``gymnasium.utils.RecordConstructorArgs``, so ``env.spec`` -- which
``gymnasium.utils.env_checker.check_env`` and anything re-creating an env read -- raises for a wrapped env.
These subclasses record their constructor arguments; observations are MiniGrid's own (``FastImgObsWrapper``'s
bit for bit, see :mod:`envs.external.minigrid_view`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.utils import RecordConstructorArgs
from minigrid.wrappers import FlatObsWrapper as _MiniGridFlatObsWrapper
from minigrid.wrappers import ImgObsWrapper as _MiniGridImgObsWrapper

from envs.external.minigrid_view import use_fast_view


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


class FastImgObsWrapper(ImgObsWrapper):
    """:class:`ImgObsWrapper` whose env computes its observations with :func:`envs.external.minigrid_view.fast_gen_obs`.

    A MiniGrid env computes its observation inside ``step`` and ``reset`` (``self.gen_obs()``), so an observation
    wrapper alone cannot skip MiniGrid's slow view: this one also binds the fast view as ``gen_obs`` on the
    unwrapped env instance (:func:`envs.external.minigrid_view.use_fast_view`). The dict it returns is MiniGrid's
    (``image``, ``direction``, ``mission``), so nothing else in MiniGrid changes; the observation space and every
    observation are bit-identical to :class:`ImgObsWrapper`'s (``tests/envs/test_minigrid_view.py``).
    ``ValueError`` if ``env.unwrapped`` is not a ``MiniGridEnv`` or overrides how it computes its view.
    """

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        """Wrap ``env`` (a MiniGrid env, maybe wrapped) as :class:`ImgObsWrapper` does; switch it to the fast view."""
        use_fast_view(env)
        ImgObsWrapper.__init__(self, env)
