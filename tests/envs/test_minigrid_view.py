"""The fast MiniGrid view equals MiniGrid's own ``gen_obs`` bit for bit, on full trajectories of the ladder envs."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

pytest.importorskip("minigrid", reason="minigrid is not installed: pip install -e '.[minigrid]'")

from minigrid.core.grid import Grid
from minigrid.core.world_object import Ball, Door, Key, Wall
from minigrid.minigrid_env import MiniGridEnv
from minigrid.wrappers import ImgObsWrapper

from envs.external.minigrid import FastImgObsWrapper
from envs.external.minigrid_view import egocentric_image

# (id, make kwargs, whether random play carries objects, whether it opens doors). MultiRoom-N4-S5 is -v1: -v0
# builds 6 rooms (Farama-Foundation/Minigrid issue #471; minigrid 3.2 registers -v0 with min/maxNumRooms=6).
# ObstructedMaze-1Dl exists only as -v0 in minigrid 3.2; 1Dlhb adds a box (toggled into its key) and a ball.
LADDER: tuple[tuple[str, dict[str, Any], bool, bool], ...] = (
    ("MiniGrid-DoorKey-5x5-v0", {}, True, True),
    ("MiniGrid-DoorKey-8x8-v0", {}, True, True),
    ("MiniGrid-KeyCorridorS3R3-v0", {}, True, True),
    ("MiniGrid-MultiRoom-N4-S5-v1", {}, False, True),
    ("MiniGrid-ObstructedMaze-1Dl-v0", {}, True, True),
    ("MiniGrid-Unlock-v0", {}, True, True),
    ("MiniGrid-DoorKey-8x8-v0", {"see_through_walls": True}, True, True),
    ("MiniGrid-DoorKey-8x8-v0", {"agent_view_size": 5}, True, True),
    ("MiniGrid-KeyCorridorS3R3-v0", {"agent_view_size": 9}, True, True),
    ("MiniGrid-ObstructedMaze-1Dlhb-v0", {}, True, False),
    ("MiniGrid-LavaCrossingS9N1-v0", {}, False, False),
)

STEPS = 2000
"""Steps compared per env (plus the resets)."""
EPISODE_STEPS = 200
"""Steps before a reset with the next seed (0, 1, ...), unless MiniGrid ends the episode first."""


def interacting_action(base: MiniGridEnv, rng: np.random.Generator) -> int:
    """A random action, biased towards picking up, dropping and toggling when that can change something."""
    front = base.grid.get(*base.front_pos)
    if front is not None and not isinstance(front, Wall):  # left, right, forward, pickup, drop, toggle, done
        weights = [0.1, 0.1, 0.2, 0.3, 0.0, 0.29, 0.01]
    elif front is None and base.carrying is not None:
        weights = [0.2, 0.2, 0.3, 0.0, 0.29, 0.0, 0.01]
    else:
        weights = [0.25, 0.25, 0.39, 0.03, 0.03, 0.04, 0.01]
    return int(rng.choice(7, p=weights))


def covered(base: MiniGridEnv) -> set[str]:
    """Which of the interesting situations the current state is in."""
    seen = {f"dir{base.agent_dir}"}
    if base.carrying is not None:
        seen.add("carrying")
    doors = [cell for cell in base.grid.grid if isinstance(cell, Door)]
    if any(door.is_open for door in doors):
        seen.add("open door")
    if any(door.is_locked for door in doors):
        seen.add("locked door")
    return seen


@pytest.mark.parametrize(
    ("env_id", "kwargs", "carries", "opens"),
    LADDER,
    ids=[env_id + "".join(f"-{k}={v}" for k, v in kwargs.items()) for env_id, kwargs, _, _ in LADDER],
)
def test_trajectories_are_bit_identical_to_minigrids_own_view(
    env_id: str, kwargs: dict[str, Any], carries: bool, opens: bool
) -> None:
    """Same seeds, same actions through ``ImgObsWrapper`` and ours: equal observations, rewards and ends."""
    theirs = ImgObsWrapper(gym.make(env_id, **kwargs))
    ours = FastImgObsWrapper(gym.make(env_id, **kwargs))
    base: MiniGridEnv = ours.unwrapped  # type: ignore[assignment]
    assert ours.observation_space == theirs.observation_space
    rng = np.random.default_rng(0)
    situations: Counter[str] = Counter()

    def check(obs: np.ndarray, their_obs: np.ndarray) -> None:
        """Ours equals the stock wrapper's (MiniGrid's own ``gen_obs`` of the same state: same seed, same actions)."""
        assert obs.dtype == np.uint8 and obs.shape == their_obs.shape == (base.agent_view_size,) * 2 + (3,)
        np.testing.assert_array_equal(obs, their_obs)
        situations.update(covered(base))

    seed = episode_steps = 0
    check(ours.reset(seed=seed)[0], theirs.reset(seed=seed)[0])
    for _ in range(STEPS):
        carried_before = base.carrying
        action = interacting_action(base, rng)
        obs, reward, terminated, truncated, _ = ours.step(action)
        their_obs, their_reward, their_terminated, their_truncated, _ = theirs.step(action)
        assert (reward, terminated, truncated) == (their_reward, their_terminated, their_truncated)
        check(obs, their_obs)
        if carried_before is not None and base.carrying is None:
            situations["dropped"] += 1
        episode_steps += 1
        if terminated or truncated or episode_steps == EPISODE_STEPS:
            seed, episode_steps = seed + 1, 0
            check(ours.reset(seed=seed)[0], theirs.reset(seed=seed)[0])
    # the trajectories went through the states that matter: many layouts, every direction, doors opened,
    # objects carried and dropped
    assert seed >= 10, seed
    assert all(situations[f"dir{d}"] > 50 for d in range(4)), situations
    if opens:
        assert situations["open door"] > 0, situations
    if carries:
        assert situations["carrying"] > 20 and situations["dropped"] > 0, situations


def test_the_view_reads_the_current_state_every_time() -> None:
    """Edits made straight to the world (no step) show in the next observation: nothing is cached."""
    env = FastImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    env.reset(seed=1)
    base: MiniGridEnv = env.unwrapped  # type: ignore[assignment]
    grid = base.grid
    # stand west of the (locked) door, facing it
    door = next(cell for cell in grid.grid if isinstance(cell, Door))
    assert door.cur_pos is not None and door.is_locked
    x, y = int(door.cur_pos[0]) - 1, int(door.cur_pos[1])
    grid.set(x, y, None)
    base.agent_pos, base.agent_dir = (x, y), 0
    images = [base.gen_obs()["image"]]
    edits = (
        lambda: setattr(door, "is_locked", False),  # closed, not locked: the door's state channel changes
        lambda: setattr(door, "is_open", True),  # open: and the cells behind it come into view
        lambda: setattr(base, "carrying", Key("purple")),  # shown at the agent's cell
        lambda: grid.set(x, y - 1, Ball("blue")),
        lambda: setattr(base, "agent_dir", 3),
    )
    for edit in edits:
        edit()
        image = base.gen_obs()["image"]
        np.testing.assert_array_equal(image, MiniGridEnv.gen_obs(base)["image"])
        assert not np.array_equal(image, images[-1])  # the edit was visible, so the equality above had teeth
        images.append(image)
    assert tuple(images[3][base.agent_view_size // 2, base.agent_view_size - 1]) == Key("purple").encode()
    images[-1][0, 0, 0] = 99  # writable, and not shared with the next observation
    assert base.gen_obs()["image"][0, 0, 0] != 99


def test_egocentric_image_equals_gen_obs_for_every_direction_and_border() -> None:
    """Every agent cell and direction of an empty-walled 8x8 DoorKey layout, views reaching outside the world."""
    env = gym.make("MiniGrid-DoorKey-8x8-v0", agent_view_size=9)
    env.reset(seed=4)
    base: MiniGridEnv = env.unwrapped  # type: ignore[assignment]
    compared = 0
    for y in range(base.grid.height):
        for x in range(base.grid.width):
            if base.grid.get(x, y) is not None and not base.grid.get(x, y).can_overlap():
                continue
            for direction in range(4):
                base.agent_pos, base.agent_dir = (x, y), direction
                np.testing.assert_array_equal(egocentric_image(base), MiniGridEnv.gen_obs(base)["image"])
                compared += 1
    assert compared > 4 * 20


def test_a_grid_of_another_class_takes_minigrids_own_path() -> None:
    """The fast view re-implements ``Grid``'s methods; a ``Grid`` subclass may change them, so it is not used."""

    class BallGrid(Grid):
        def slice(self, topX: int, topY: int, width: int, height: int) -> Grid:
            view = Grid(width, height)
            view.grid = [Ball("red") for _ in view.grid]
            return view

    env = FastImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    env.reset(seed=0)
    env.unwrapped.grid.__class__ = BallGrid
    obs = env.step(1)[0]
    assert (obs.reshape(-1, 3) == Ball("red").encode()).all(axis=1).sum() == obs.shape[0] * obs.shape[1] - 1
    np.testing.assert_array_equal(obs, MiniGridEnv.gen_obs(env.unwrapped)["image"])


def test_wrapper_passes_gymnasiums_checker_and_recreates_from_its_spec() -> None:
    env = FastImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version")  # advice, not an error
        check_env(env, skip_render_check=True)
    assert env.spec is not None and env.spec.additional_wrappers[-1].entry_point == (
        "envs.external.minigrid:FastImgObsWrapper"
    )
    again = gym.make(env.spec)
    assert isinstance(again, FastImgObsWrapper)
    np.testing.assert_array_equal(
        again.reset(seed=2)[0], ImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0")).reset(seed=2)[0]
    )


def test_wrapped_env_pickles_and_copies_with_the_fast_view() -> None:
    env = FastImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    env.reset(seed=0)
    for clone in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        base = clone.unwrapped
        assert type(base.gen_obs) is not type(env.unwrapped.__class__.gen_obs)  # still the fast one
        assert base.gen_obs.env is base
        for action in (1, 2, 2, 0, 3):
            np.testing.assert_array_equal(clone.step(action)[0], MiniGridEnv.gen_obs(base)["image"])


def test_wrapper_refuses_envs_it_cannot_match() -> None:
    with pytest.raises(ValueError, match="MiniGridEnv, got CartPoleEnv"):
        FastImgObsWrapper(gym.make("CartPole-v1"))

    class OwnView(type(gym.make("MiniGrid-Unlock-v0").unwrapped)):  # type: ignore[misc]
        def gen_obs(self) -> dict[str, Any]:
            return super().gen_obs()

    with pytest.raises(ValueError, match=r"overrides MiniGridEnv\.gen_obs"):
        FastImgObsWrapper(OwnView())


def test_bench_script_checks_identity_and_prints_a_ratio_per_env() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "bench_minigrid.py"
    env_ids = ("MiniGrid-DoorKey-5x5-v0", "MiniGrid-MultiRoom-N4-S5-v1")
    command = [sys.executable, str(script), "--steps", "200", "--rounds", "2", "--check-steps", "200"]
    command += ["--ppo-timesteps", "0", "--envs", *env_ids]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    assert "identical on 200 random steps of every env" in result.stdout
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.startswith("MiniGrid-")}
    assert set(rows) == set(env_ids)
    for values in rows.values():  # stock/s, fast/s, ratio wall, ratio cpu, fast steps per CPU second
        assert len(values) == 5 and all(float(value.replace(",", "")) > 0 for value in values)
