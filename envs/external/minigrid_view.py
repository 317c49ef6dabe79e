"""A fast, bit-identical MiniGrid egocentric view, and ``FastImgObsWrapper`` that makes MiniGrid use it.

MiniGrid 3.x computes the agent's view in pure Python through ``Grid`` objects: ``MiniGridEnv.gen_obs_grid``
slices the world into a new ``Grid`` (a fresh ``Wall()`` per cell outside the world), rotates it by building
up to four more ``Grid`` s (``Grid.rotate_left``), masks it with ``Grid.process_vis`` and encodes it with
``Grid.encode``, both indexing numpy arrays one scalar at a time (minigrid 3.2: ``minigrid_env.py``
``gen_obs_grid`` / ``gen_obs``, ``core/grid.py``). In SB3 PPO on the 7x7x3 image with a small CNN this is
most of the training time.

:func:`egocentric_image` computes the same ``(agent_view_size, agent_view_size, 3)`` uint8 array from the
same state with plain Python lists and one ``np.array`` at the end:

* view cell ``(i, j)`` (``i`` left to right as the agent sees it, ``j`` from the farthest row to the agent's
  row ``agent_view_size - 1``) is world cell ``agent_pos + dir_vec * (size - 1 - j) + right_vec * (i - size
  // 2)`` -- the slice followed by ``agent_dir + 1`` left rotations, composed into one index map; cells
  outside the world read as a grey ``Wall``, as ``Grid.slice`` makes them;
* unless ``see_through_walls``, visibility is ``Grid.process_vis``'s two sweeps per row, from the agent's
  row up, on the same cells, opacity being ``not obj.see_behind()`` of the object itself;
* visible cells encode as ``obj.encode()`` (``(1, 0, 0)`` for an empty one), hidden ones as ``(0, 0, 0)``
  (``unseen``); the agent's own cell holds ``carrying.encode()`` or is empty.

Nothing is cached between calls: every call reads the grid list, each object's ``encode()`` and
``see_behind()`` (so doors opening, objects picked up, dropped or toggled are seen at once), the agent's
position, direction and carried object. Equality with ``MiniGridEnv.gen_obs`` is tested on full random
trajectories of the ladder envs in ``tests/envs/test_minigrid_view.py``.
"""

from __future__ import annotations

import types
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import RecordConstructorArgs
from minigrid.core.constants import DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.world_object import Wall, WorldObj
from minigrid.minigrid_env import MiniGridEnv

_EMPTY = (OBJECT_TO_IDX["empty"], 0, 0)
_UNSEEN = (OBJECT_TO_IDX["unseen"], 0, 0)
_OUTSIDE = Wall()
"""What ``Grid.slice`` puts at cells outside the world (a fresh default ``Wall()`` each time; encodes alike)."""

_DIRECTIONS = tuple((int(v[0]), int(v[1])) for v in DIR_TO_VEC)

_OVERRIDABLE = ("gen_obs", "gen_obs_grid", "get_view_exts")
"""``MiniGridEnv`` methods the fast view re-implements; an env class overriding one is refused."""

def _view_cells(env: MiniGridEnv) -> list[WorldObj | None]:
    """The objects of the agent's view after slice and rotation, column by column: ``cells[i * size + j]``."""
    grid = env.grid
    width, height, world = grid.width, grid.height, grid.grid
    size = env.agent_view_size
    half = size // 2
    ax, ay = int(env.agent_pos[0]), int(env.agent_pos[1])  # numpy ints after a move; slow in arithmetic
    dx, dy = _DIRECTIONS[env.agent_dir]
    rx, ry = -dy, dx  # MiniGridEnv.right_vec
    back = size - 1
    cells: list[WorldObj | None] = []
    append = cells.append
    for i in range(size):
        # view cell (i, j) is world cell agent + dir * (size - 1 - j) + right * (i - half)
        x = ax + rx * (i - half) + dx * back
        y = ay + ry * (i - half) + dy * back
        for _ in range(size):
            if 0 <= x < width and 0 <= y < height:
                append(world[y * width + x])
            else:
                append(_OUTSIDE)
            x -= dx
            y -= dy
    return cells


def _visibility(cells: list[WorldObj | None], size: int) -> list[bool]:
    """``Grid.process_vis`` on the view ``cells`` (column by column), as a column-by-column list of booleans."""
    mask = [False] * (size * size)
    mask[(size // 2) * size + size - 1] = True
    for j in range(size - 1, -1, -1):
        # left to right: cell (i, j) lights (i + 1, j) and, above them, (i + 1, j - 1) and (i, j - 1)
        for k in range(j, j + (size - 1) * size, size):
            if not mask[k]:
                continue
            cell = cells[k]
            if cell is not None and not cell.see_behind():
                continue
            mask[k + size] = True
            if j > 0:
                mask[k + size - 1] = True
                mask[k - 1] = True
        # right to left: cell (i, j) lights (i - 1, j) and, above them, (i - 1, j - 1) and (i, j - 1)
        for k in range(j + (size - 1) * size, j, -size):
            if not mask[k]:
                continue
            cell = cells[k]
            if cell is not None and not cell.see_behind():
                continue
            mask[k - size] = True
            if j > 0:
                mask[k - size - 1] = True
                mask[k - 1] = True
    return mask


def egocentric_image(env: MiniGridEnv) -> np.ndarray:
    """What ``env.gen_obs()["image"]`` returns, computed without ``Grid`` objects (bit-identical, uint8)."""
    size = env.agent_view_size
    cells = _view_cells(env)
    # the agent's cell holds the world's object during process_vis, then the carried object (or nothing)
    agent = (size // 2) * size + size - 1
    if env.see_through_walls:
        cells[agent] = env.carrying if env.carrying else None
        codes = [_EMPTY if cell is None else cell.encode() for cell in cells]
    else:
        mask = _visibility(cells, size)
        cells[agent] = env.carrying if env.carrying else None
        codes = [
            (_EMPTY if cell is None else cell.encode()) if visible else _UNSEEN for cell, visible in zip(cells, mask)
        ]
    return np.array(codes, dtype=np.uint8).reshape(size, size, 3)


def fast_gen_obs(env: MiniGridEnv) -> dict[str, Any]:
    """``MiniGridEnv.gen_obs`` with the image from :func:`egocentric_image` (MiniGrid's own if the grid is unusual)."""
    if type(env.grid) is not Grid:
        return MiniGridEnv.gen_obs(env)
    return {"image": egocentric_image(env), "direction": env.agent_dir, "mission": env.mission}


def check_fast_view_applies(env: gym.Env[Any, Any]) -> MiniGridEnv:
    """``env.unwrapped`` if :func:`fast_gen_obs` computes its observation exactly; ``ValueError`` otherwise."""
    base = env.unwrapped
    if not isinstance(base, MiniGridEnv):
        raise ValueError(f"env.unwrapped must be a minigrid MiniGridEnv, got {type(base).__name__}")
    for name in _OVERRIDABLE:
        if getattr(type(base), name) is not getattr(MiniGridEnv, name):
            raise ValueError(f"{type(base).__name__} overrides MiniGridEnv.{name}; the fast view would not match it")
    return base


class FastImgObsWrapper(gym.ObservationWrapper[np.ndarray, Any, dict[str, Any]], RecordConstructorArgs):
    """``minigrid.wrappers.ImgObsWrapper`` whose env computes its observations with :func:`fast_gen_obs`.

    ``MiniGridEnv.step`` and ``reset`` call ``self.gen_obs()`` themselves, so a wrapper cannot skip MiniGrid's
    view; this one binds :func:`fast_gen_obs` as ``gen_obs`` on the unwrapped env instance (the dict it
    returns is MiniGrid's, so nothing else changes) and passes on the image. Observation space:
    ``env.observation_space["image"]``; observations are bit-identical to ``ImgObsWrapper``'s.
    """

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        """Wrap ``env`` (a MiniGrid env, possibly wrapped) and switch its unwrapped env to the fast view."""
        RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        base = check_fast_view_applies(env)
        base.gen_obs = types.MethodType(fast_gen_obs, base)  # type: ignore[method-assign]
        self.observation_space = env.observation_space["image"]  # type: ignore[index]

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        """The image of MiniGrid's observation dict."""
        image: np.ndarray = observation["image"]
        return image
