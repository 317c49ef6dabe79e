"""Episode returns seen by a callback: tracked from the rewards and dones, or read from SB3's Monitor.

SB3 adds a ``Monitor`` (which writes ``info["episode"]``) only when it builds the vectorized env itself from a
``gym.Env`` or an id. A user who passes their own ``DummyVecEnv`` without ``VecMonitor`` gets no
``info["episode"]`` at all, and a callback that reads only that sees no episode -- silently.

* :class:`EpisodeTracker` sums each env's rewards until its ``done`` and hands back the finished episodes'
  returns and lengths. It needs no Monitor. It adds the rewards in float32, in the order ``VecMonitor`` does
  (``stable_baselines3/common/vec_env/vec_monitor.py``), so its returns equal ``VecMonitor``'s step for step.
  Under ``VecNormalize`` feed it ``get_original_reward()`` (the env's own rewards), see :func:`env_rewards`.
* :func:`has_episode_monitor` tells whether ``info["episode"]`` will be there (a ``Monitor`` in every
  sub-env, or a ``VecMonitor``): the check SB3's own ``evaluate_policy`` makes before trusting it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize, is_vecenv_wrapped

from rlfloor.checks import check_int


class EpisodeTracker:
    """Per-env running return and length; :meth:`step` returns the episodes that ended on that step.

    :param n_envs: number of envs of the vectorized env (``>= 1``).
    """

    def __init__(self, n_envs: int):
        self.n_envs = check_int("n_envs", n_envs, 1)
        self.returns: NDArray[np.float32] = np.zeros(self.n_envs, dtype=np.float32)
        """Return so far of each env's current episode (float32, as ``VecMonitor`` keeps it)."""
        self.lengths: NDArray[np.int64] = np.zeros(self.n_envs, dtype=np.int64)
        """Steps so far of each env's current episode."""

    def reset(self) -> None:
        """Forget the episodes in flight (call when the env is reset)."""
        self.returns[:] = 0.0
        self.lengths[:] = 0

    def step(self, rewards: Any, dones: Any) -> list[tuple[float, int]]:
        """Add one vectorized step; return ``(return, length)`` of each episode it ended, in env order."""
        rewards_array = np.asarray(rewards, dtype=np.float32).reshape(-1)
        dones_array = np.asarray(dones, dtype=bool).reshape(-1)
        if rewards_array.shape != (self.n_envs,) or dones_array.shape != (self.n_envs,):
            raise ValueError(
                f"expected {self.n_envs} rewards and dones, got shapes {np.shape(rewards)} and {np.shape(dones)}"
            )
        self.returns += rewards_array
        self.lengths += 1
        if not dones_array.any():
            return []
        ended = np.flatnonzero(dones_array)
        finished = [(float(self.returns[i]), int(self.lengths[i])) for i in ended.tolist()]
        self.returns[ended] = 0.0
        self.lengths[ended] = 0
        return finished


def env_rewards(locals_: dict[str, Any], vec_normalize: VecNormalize | None) -> Any:
    """The env's own rewards of the step a callback sees: ``get_original_reward()`` under ``VecNormalize``."""
    return locals_["rewards"] if vec_normalize is None else vec_normalize.get_original_reward()


def has_episode_monitor(env: VecEnv) -> bool:
    """Whether ``info["episode"]`` is written: a ``VecMonitor`` anywhere, or a ``Monitor`` in every sub-env."""
    return is_vecenv_wrapped(env, VecMonitor) or all(env.env_is_wrapped(Monitor))


__all__ = ["EpisodeTracker", "env_rewards", "has_episode_monitor"]
