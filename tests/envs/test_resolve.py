"""envs.resolve: every way of naming an env, references, and pickling by reference."""

from __future__ import annotations

import functools
import json
import pickle
from pathlib import Path

import gymnasium as gym
import pytest

from envs import resolve, suite


def test_suite_names_keep_their_entry() -> None:
    env = resolve.resolve("deepsea-6")
    entry = suite.get_entry("deepsea-6")
    assert env.entry == entry and env.budget == entry.budget and env.references == "suite"
    assert (env.random_return, env.optimal_return) == (entry.random_return, entry.optimal_return)
    assert env.make().unwrapped.size == 6
    assert resolve.resolve("masked-grid").action_masks


def test_tags_expand_to_their_entries_in_order_without_repeats() -> None:
    core = [entry.name for entry in suite.select("core")]
    assert resolve.expand(["core"]) == core
    assert resolve.expand(["deepsea-6", "core", "CartPole-v1"]) == [*core, "CartPole-v1"]


def test_registered_gymnasium_id() -> None:
    env = resolve.resolve("CartPole-v1")
    assert env.entry is None and env.budget is None and env.random_return is None and env.references == "none"
    assert env.make().spec.id == "CartPole-v1"  # type: ignore[union-attr]


def test_module_env_id_imports_the_module_and_applies_the_package_wrapper_and_settings() -> None:
    pytest.importorskip("minigrid")
    env = resolve.resolve("minigrid:MiniGrid-Empty-5x5-v0")
    assert env.wrappers == ("envs.external.minigrid.FastImgObsWrapper",)
    assert env.hyperparams["ppo"]["policy_kwargs"] == "rlfloor.networks.GRID_POLICY_KWARGS"
    assert env.record()["hyperparams"]["ppo"]["n_envs"] == 16
    assert "hyperparams" not in resolve.resolve("CartPole-v1").record()  # earlier runs keep their keys
    made = env.make()
    # the ladder's observation: MiniGrid's 7x7x3 symbolic view alone
    assert isinstance(made.observation_space, gym.spaces.Box) and made.observation_space.shape == (7, 7, 3)


def test_unknown_names_fail_in_one_line_listing_what_is_accepted() -> None:
    with pytest.raises(ValueError) as error:
        resolve.resolve("DeepSee-v0")
    message = str(error.value)
    assert "\n" not in message and "deepsea-6" in message and "core" in message and "module:EnvId" in message
    with pytest.raises(ValueError, match="cannot import module 'no_such_module'"):
        resolve.resolve("no_such_module:Foo-v0")


def test_references_given_override_and_are_checked(tmp_path: Path) -> None:
    env = resolve.resolve("CartPole-v1", {"CartPole-v1": {"random": 22.2, "optimal": 500}})
    assert (env.random_return, env.optimal_return, env.references) == (22.2, 500.0, "given")
    with pytest.raises(ValueError, match=r"optimal=1\.0 must exceed random=2\.0"):
        resolve.resolve("CartPole-v1", {"CartPole-v1": {"random": 2, "optimal": 1}})
    with pytest.raises(ValueError, match=r"unknown keys \['best'\]"):
        resolve.resolve("CartPole-v1", {"CartPole-v1": {"best": 1}})
    path = tmp_path / "refs.json"
    path.write_text(json.dumps({"CartPole-v1": {"optimal": 500}}))
    merged = resolve.merge_references(
        resolve.load_references(str(path)), resolve.parse_assignments(["CartPole-v1=475"], "optimal")
    )
    assert merged == {"CartPole-v1": {"optimal": 475.0}}
    with pytest.raises(ValueError, match="must be ENV=NUMBER"):
        resolve.parse_assignments(["CartPole-v1=abc"], "optimal")


def test_resolver_partial_pickles_by_reference() -> None:
    resolver = functools.partial(resolve.resolve, references={"CartPole-v1": {"optimal": 500.0}})
    data = pickle.dumps(resolver)
    assert b"envs.resolve" in data and len(data) < 500  # the function travels by name, not by code
    assert pickle.loads(data)("CartPole-v1").optimal_return == 500.0
    env = resolve.resolve("deepsea-6")
    assert pickle.loads(pickle.dumps(env)) == env
