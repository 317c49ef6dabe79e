"""MaskedGrid: masks agree with the walls, invalid moves fail loudly, MaskablePPO can train on it."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs.masked_grid import DEFAULT_LAYOUT, MOVES, MaskedGridEnv, StateMaskedDiscrete
from tests.envs.helpers import run_actions


def open_cell(layout: tuple[str, ...], r: int, c: int) -> bool:
    return 0 <= r < len(layout) and 0 <= c < len(layout[0]) and layout[r][c] != "#"


def shortest_actions(layout: tuple[str, ...]) -> list[int]:
    """Breadth-first path from S to G as a list of actions, computed from the text layout."""
    cells = {(r, c): ch for r, row in enumerate(layout) for c, ch in enumerate(row)}
    start = next(p for p, ch in cells.items() if ch == "S")
    goal = next(p for p, ch in cells.items() if ch == "G")
    parent: dict[tuple[int, int], tuple[tuple[int, int], int] | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for a, (dr, dc) in enumerate(MOVES):
            nxt = (here[0] + dr, here[1] + dc)
            if open_cell(layout, *nxt) and nxt not in parent:
                parent[nxt] = (here, a)
                queue.append(nxt)
    actions: list[int] = []
    node = goal
    while parent[node] is not None:
        prev, a = parent[node]  # type: ignore[misc]
        actions.append(a)
        node = prev
    return actions[::-1]


def test_action_masks_shape_dtype_and_fresh_array() -> None:
    env = MaskedGridEnv()
    env.reset(seed=0)
    mask = env.action_masks()
    assert mask.shape == (4,) and mask.dtype == np.bool_
    mask[:] = False
    assert env.action_masks().any()  # mutating the returned mask does not touch the env
    assert env.action_masks() is not env.action_masks()


def test_masks_agree_with_walls_and_moves_everywhere() -> None:
    """Random walk over valid moves: every mask entry equals "the target cell is open", every valid move
    lands on its target, every invalid one raises and leaves the state unchanged."""
    env = MaskedGridEnv()
    layout = env.layout
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    visited = {info["cell"]}
    for _ in range(3000):
        r, c = info["cell"]
        mask = env.action_masks()
        assert mask.any()
        for a, (dr, dc) in enumerate(MOVES):
            assert mask[a] == open_cell(layout, r + dr, c + dc)
            if not mask[a]:
                probe = copy.deepcopy(env)
                with pytest.raises(ValueError, match=rf"action {a} \(\w+\) is invalid in cell \({r}, {c}\)"):
                    probe.step(a)
                assert probe.action_masks().tolist() == mask.tolist()  # state unchanged after the error
        a = int(rng.choice(np.flatnonzero(mask)))
        _, _, terminated, truncated, info = env.step(a)
        assert info["cell"] == (r + MOVES[a][0], c + MOVES[a][1])
        visited.add(info["cell"])
        if terminated or truncated:
            _, info = env.reset()
    assert visited == set(env.cells)


def test_invalid_action_message_names_the_action_and_the_valid_ones() -> None:
    env = MaskedGridEnv(layout=("#####", "#S.G#", "#####"))
    env.reset(seed=0)
    with pytest.raises(ValueError) as excinfo:
        env.step(0)  # up, into the wall
    message = str(excinfo.value)
    assert "action 0 (up)" in message and "cell (1, 1)" in message and "[1 (right)]" in message
    # the env is still usable after the error
    _, reward, terminated, _, _ = env.step(1)
    assert not terminated and reward == -0.01


def test_default_layout_has_one_two_three_and_four_valid_action_cells() -> None:
    env = MaskedGridEnv()
    _, _, valid = env.transition_model()
    counts = {int(k) for k in valid[: len(env.cells)].sum(axis=1)}
    assert counts == {1, 2, 3, 4}  # dead ends test the floor with a single valid action
    assert env.layout == DEFAULT_LAYOUT


def test_start_cell_allows_every_move() -> None:
    env = MaskedGridEnv()
    env.reset(seed=0)
    assert env.action_masks().all()


def test_action_space_sample_draws_only_valid_actions() -> None:
    env = MaskedGridEnv()
    env.reset(seed=0)
    env.action_space.seed(0)
    rng = np.random.default_rng(1)
    for _ in range(500):
        mask = env.action_masks()
        for _ in range(5):
            assert mask[env.action_space.sample()]
        _, _, terminated, truncated, _ = env.step(int(rng.choice(np.flatnonzero(mask))))
        if terminated or truncated:
            env.reset()
    # an explicit mask still wins, and the space equals a plain Discrete(4)
    assert env.action_space.sample(mask=np.array([0, 0, 1, 0], dtype=np.int8)) == 2
    assert env.action_space == gym.spaces.Discrete(4)
    assert isinstance(env.action_space, StateMaskedDiscrete)


def test_shortest_path_is_optimal_and_scores_1() -> None:
    env = MaskedGridEnv()
    actions = shortest_actions(env.layout)
    assert len(actions) == env.shortest_path == 14
    total, info, steps = run_actions(env, actions)
    assert steps == 14 and info["reached_goal"] is True
    assert total == pytest.approx(env.optimal_return) == pytest.approx(1 - 14 * 0.01)
    assert info["score"] == 1.0


def test_visited_cells_counts_distinct_cells() -> None:
    env = MaskedGridEnv(layout=("######", "#S..G#", "######"))
    env.reset(seed=0)
    counts = [env.step(a)[4]["visited_cells"] for a in (1, 3, 1, 1)]
    assert counts == [2, 2, 2, 3]


def test_truncates_at_horizon_and_registration_matches() -> None:
    assert gym.spec("rlfloor/MaskedGrid-v0").max_episode_steps == MaskedGridEnv().horizon == 100
    env = MaskedGridEnv(layout=("#####", "#S.G#", "#####"), horizon=6)
    total, info, steps = run_actions(env, [1, 3] * 10)
    assert steps == 6 and info["reached_goal"] is False
    assert total == pytest.approx(-0.06) and "score" in info


def test_sb3_contrib_get_action_masks_reads_through_wrappers() -> None:
    utils = pytest.importorskip("sb3_contrib.common.maskable.utils")
    from stable_baselines3.common.env_util import make_vec_env

    vec_env = make_vec_env("rlfloor/MaskedGrid-v0", n_envs=2, seed=0)
    vec_env.reset()
    masks = utils.get_action_masks(vec_env)
    assert masks.shape == (2, 4) and masks.dtype == np.bool_
    assert masks.all()  # both copies start in the open room
    vec_env.step(np.array([3, 0]))  # left, up
    masks = utils.get_action_masks(vec_env)
    expected = [base.action_masks() for base in vec_env.get_attr("unwrapped")]
    assert np.array_equal(masks, np.stack(expected))


def test_maskable_ppo_trains_without_sampling_invalid_actions() -> None:
    """MaskablePPO's policy never picks a masked action; the env would raise if it did."""
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import MaskablePPO

    env = gym.make("rlfloor/MaskedGrid-v0")
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0, device="cpu")
    model.learn(256)
    assert model.num_timesteps >= 256


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("#S.G#", r"layout must be a non-empty sequence of strings"),
        ((), r"layout must be a non-empty sequence of strings"),
        (("#S.G#", "###"), r"layout rows must be non-empty strings of equal length 5, row 1 is '###'"),
        (("#S.X#",), r"layout row 0 has characters \['X'\]"),
        (("#..G#",), r"exactly one 'S' and one 'G', got 0 and 1"),
        (("#SSG#",), r"exactly one 'S' and one 'G', got 2 and 1"),
        (("S#.", "##G", "..#"), r"cell \(0, 0\) has no open neighbour"),
        (("S.#..", "###.G"), r"goal \(1, 4\) is not reachable from \(0, 0\)"),
    ],
)
def test_bad_layouts_raise_value_error(layout: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaskedGridEnv(layout=layout)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step_cost": 1 / 14}, r"step_cost=.* is outside the allowed range \[0, 0.0714"),
        ({"horizon": 13}, r"horizon=13 is outside the allowed range \[14, 100000\]"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaskedGridEnv(**kwargs)
