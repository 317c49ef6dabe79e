"""A fast MiniGrid egocentric view, bit-identical to MiniGrid's own (``envs.external.minigrid.FastImgObsWrapper``).

MiniGrid 3.x computes the agent's view in pure Python through ``Grid`` objects: ``MiniGridEnv.gen_obs_grid``
slices the world into a new ``Grid`` (a fresh ``Wall()`` per cell outside the world), rotates it by building
up to four more ``Grid`` s (``Grid.rotate_left``), masks it with ``Grid.process_vis`` and encodes it with
``Grid.encode``, both indexing numpy arrays one scalar at a time (minigrid 3.2: ``minigrid_env.py``
``gen_obs_grid`` / ``gen_obs``, ``core/grid.py``). In SB3 PPO on the 7x7x3 image with a small CNN, MiniGrid's
steps are about half of the training time, and the view most of a step (docs/speed-minigrid.md).

:func:`egocentric_image` computes the same ``(agent_view_size, agent_view_size, 3)`` uint8 array from the
same state with plain Python lists (one slice of the world list per row of the view square, one cached index
map for the rotation) and one byte string at the end:

* view cell ``(i, j)`` (``i`` left to right as the agent sees it, ``j`` from the farthest row to the agent's
  row ``agent_view_size - 1``) is world cell ``agent_pos + dir_vec * (size - 1 - j) + right_vec * (i - size
  // 2)`` -- the slice followed by ``agent_dir + 1`` left rotations, composed into one index map; cells
  outside the world read as a grey ``Wall``, as ``Grid.slice`` makes them;
* unless ``see_through_walls``, visibility is ``Grid.process_vis``'s two sweeps per row, from the agent's
  row up, on the same cells, opacity being ``not obj.see_behind()`` of the object itself;
* visible cells encode as ``obj.encode()`` (``(1, 0, 0)`` for an empty one), hidden ones as ``(0, 0, 0)``
  (``unseen``); the agent's own cell holds ``carrying.encode()`` or is empty.

Nothing that can change is cached (only the rotation's index map, a function of direction and view size):
every call reads the grid list, each object's ``encode()`` and
``see_behind()`` (so doors opening, objects picked up, dropped or toggled are seen at once), the agent's
position, direction and carried object. Equality with ``MiniGridEnv.gen_obs`` is tested on full random
trajectories of the ladder envs in ``tests/envs/test_minigrid_view.py``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from minigrid.core.constants import DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.world_object import Wall, WorldObj
from minigrid.minigrid_env import MiniGridEnv

_EMPTY = bytes((OBJECT_TO_IDX["empty"], 0, 0))
_UNSEEN = bytes((OBJECT_TO_IDX["unseen"], 0, 0))
_OUTSIDE = Wall()
"""What ``Grid.slice`` puts at cells outside the world (a fresh default ``Wall()`` each time; encodes alike)."""

_OVERRIDABLE = ("gen_obs", "gen_obs_grid", "get_view_exts")
"""``MiniGridEnv`` methods the fast view re-implements; an env class overriding one is refused."""


@functools.cache
def _view_layout(agent_dir: int, size: int) -> tuple[int, int, Callable[[list[Any]], tuple[Any, ...]]]:
    """Where the view square starts relative to the agent, and the rotation as an index map.

    Returns ``(left, up, pick)``: the square's top-left world cell is ``(agent_x - left, agent_y - up)``
    (``MiniGridEnv.get_view_exts``), and ``pick(square)`` -- ``square`` the world cells of that square row by
    row -- gives the view cells column by column (``view[i * size + j]``), as ``agent_dir + 1`` calls of
    ``Grid.rotate_left`` arrange them. A pure function of its arguments (cached).
    """
    half = size // 2
    left, up = ((0, half), (half, 0), (size - 1, half), (half, size - 1))[agent_dir]
    dx, dy = (int(v) for v in DIR_TO_VEC[agent_dir])
    rx, ry = -dy, dx  # MiniGridEnv.right_vec
    order = []
    for i in range(size):
        for j in range(size):
            # view cell (i, j) is world cell agent + dir * (size - 1 - j) + right * (i - half)
            column = left + dx * (size - 1 - j) + rx * (i - half)
            row = up + dy * (size - 1 - j) + ry * (i - half)
            order.append(row * size + column)
    return left, up, operator.itemgetter(*order)


def _view_cells(env: MiniGridEnv) -> list[WorldObj | None]:
    """The objects of the agent's view after slice and rotation, column by column: ``cells[i * size + j]``."""
    grid = env.grid
    width, height, world = grid.width, grid.height, grid.grid
    size = env.agent_view_size
    left, up, pick = _view_layout(env.agent_dir, size)
    top_x = int(env.agent_pos[0]) - left  # int(): numpy integers after a move, slow in arithmetic
    top_y = int(env.agent_pos[1]) - up
    pad_left = [_OUTSIDE] * min(size, max(0, -top_x))
    pad_right = [_OUTSIDE] * min(size, max(0, top_x + size - width))
    start, stop = max(top_x, 0), min(top_x + size, width)
    square: list[WorldObj | None] = []
    for y in range(top_y, top_y + size):
        if 0 <= y < height:
            square += pad_left
            square += world[y * width + start : y * width + stop]
            square += pad_right
        else:
            square += [_OUTSIDE] * size
    return list(pick(square))


def _visibility(cells: list[WorldObj | None], size: int) -> list[bool]:
    """``Grid.process_vis`` on the view ``cells`` (column by column), as a column-by-column list of booleans."""
    mask = [False] * (size * size)
    mask[(size // 2) * size + size - 1] = True
    last = (size - 1) * size
    for j in range(size - 1, -1, -1):
        # left to right: cell (i, j) lights (i + 1, j) and, above them, (i + 1, j - 1) and (i, j - 1)
        for k in range(j, j + last, size):
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
        for k in range(j + last, j, -size):
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
        codes = [_EMPTY if cell is None else bytes(cell.encode()) for cell in cells]
    else:
        mask = _visibility(cells, size)
        cells[agent] = env.carrying if env.carrying else None
        codes = [
            (_EMPTY if cell is None else bytes(cell.encode())) if visible else _UNSEEN
            for cell, visible in zip(cells, mask, strict=True)
        ]
    # a bytearray, so the image is writable like MiniGrid's
    return np.frombuffer(bytearray(b"".join(codes)), dtype=np.uint8).reshape(size, size, 3)


def fast_gen_obs(env: MiniGridEnv) -> dict[str, Any]:
    """``MiniGridEnv.gen_obs`` with the image from :func:`egocentric_image` (MiniGrid's own if the grid is unusual)."""
    if type(env.grid) is not Grid:
        return MiniGridEnv.gen_obs(env)
    return {"image": egocentric_image(env), "direction": env.agent_dir, "mission": env.mission}


class _BoundFastGenObs:
    """:func:`fast_gen_obs` bound to one env: a plain object, so the env still pickles (a bound method would not)."""

    __slots__ = ("env",)

    def __init__(self, env: MiniGridEnv) -> None:
        """Bind to ``env``."""
        self.env = env

    def __call__(self) -> dict[str, Any]:
        """``fast_gen_obs(env)``."""
        return fast_gen_obs(self.env)


def use_fast_view(env: gym.Env[Any, Any]) -> MiniGridEnv:
    """Make ``env.unwrapped`` compute its observations with :func:`fast_gen_obs`; return it.

    ``MiniGridEnv.step`` and ``reset`` call ``self.gen_obs()`` themselves, so the fast view is bound as
    ``gen_obs`` on the env instance (the class is untouched). ``ValueError`` if the env is not a ``MiniGridEnv``
    or its class overrides a method the fast view re-implements (it would not match that override).
    """
    base = env.unwrapped
    if not isinstance(base, MiniGridEnv):
        raise ValueError(f"env.unwrapped must be a minigrid MiniGridEnv, got {type(base).__name__}")
    for name in _OVERRIDABLE:
        if getattr(type(base), name) is not getattr(MiniGridEnv, name):
            raise ValueError(f"{type(base).__name__} overrides MiniGridEnv.{name}; the fast view would not match it")
    base.gen_obs = _BoundFastGenObs(base)  # type: ignore[method-assign]
    return base
