"""The external tier: each entry builds, steps and passes Gymnasium's checker when its extra is installed."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from envs import suite
from envs.suite import SUITE, SuiteEntry, make, select

EXTERNAL = select("external")


def needs(entry: SuiteEntry) -> None:
    """Skip the test, naming the extra to install, when ``entry``'s package is absent."""
    assert entry.requires is not None
    pytest.importorskip(entry.requires, reason=f"{entry.requires} is not installed: pip install -e '.[{entry.extra}]'")


def test_the_external_tier_is_tagged_and_names_its_extra() -> None:
    assert {e.name for e in EXTERNAL} >= {
        "minigrid-doorkey-5",
        "minigrid-doorkey-8",
        "minigrid-keycorridor",
        "minigrid-multiroom-n4-s5",
        "minigrid-flat-doorkey-5",
        "minigrid-flat-unlock",
        "minatar-asterix",
        "minatar-breakout",
        "minatar-freeway",
        "minatar-seaquest",
        "minatar-space-invaders",
        "bsuite-deepsea-12",
    }
    for tag in ("minigrid", "minatar", "bsuite"):
        tagged = select(tag)
        assert tagged and all("external" in e.tags and e.extra == tag for e in tagged)
    assert all(e.requires is not None and e.extra is not None for e in EXTERNAL)
    assert not [e for e in SUITE if "external" not in e.tags and e.extra is not None]


@pytest.mark.parametrize("entry", EXTERNAL, ids=lambda e: e.name)
def test_external_entry_builds_steps_and_passes_check_env(entry: SuiteEntry) -> None:
    needs(entry)
    env = make(entry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checker's advice (unwrapped differs, unbounded Box) is not an error
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for _ in range(50):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and np.isfinite(float(reward))
        if terminated or truncated:
            env.reset()


@pytest.mark.parametrize("entry", select("minigrid"), ids=lambda e: e.name)
def test_the_ladder_uses_the_image_view_the_grid_cnn_and_rl_starter_files_settings(entry: SuiteEntry) -> None:
    """lcswillems/rl-starter-files scripts/train.py: 16 procs, 128 (PPO) / 5 (A2C) frames per proc, lr 1e-3,
    4 epochs of batch 256, entropy 0.01; no observation normalization."""
    assert "ladder" in entry.tags and sum(tag.startswith("ladder-") for tag in entry.tags) == 1
    assert entry.wrappers == ("envs.external.minigrid.FastImgObsWrapper",)
    ppo, a2c = entry.hyperparams["ppo"], entry.hyperparams["a2c"]
    assert (ppo["n_envs"], ppo["n_steps"], ppo["n_epochs"], ppo["batch_size"]) == (16, 128, 4, 256)
    assert (a2c["n_envs"], a2c["n_steps"], a2c["rms_prop_eps"]) == (16, 5, 1e-8)
    for family in (ppo, a2c):
        assert (family["learning_rate"], family["ent_coef"], family["max_grad_norm"]) == (1e-3, 0.01, 0.5)
        assert family["policy_kwargs"] == "rlfloor.networks.GRID_POLICY_KWARGS" and not family.get("normalize")
    needs(entry)
    assert make(entry).observation_space.shape == (7, 7, 3)


@pytest.mark.parametrize("entry", select("minigrid-legacy"), ids=lambda e: e.name)
def test_legacy_minigrid_entries_keep_rl_zoos_wrapper_and_ppo_hyperparameters(entry: SuiteEntry) -> None:
    """rl-zoo3's ppo.yml `&minigrid-defaults`: 8 envs, n_steps 128, batch 64, 10 epochs, lr 2.5e-4, normalize."""
    assert "minigrid" not in entry.tags and "ladder" not in entry.tags
    ppo = entry.hyperparams["ppo"]
    assert ppo["n_envs"] == 8 and ppo["normalize"] is True
    assert (ppo["n_steps"], ppo["batch_size"], ppo["n_epochs"], ppo["learning_rate"]) == (128, 64, 10, 2.5e-4)
    assert entry.wrappers == ("envs.external.minigrid.FlatObsWrapper",)
    zoo = pytest.importorskip("rl_zoo3", reason="rl_zoo3 is not installed: pip install -e '.[zoo]'")
    yaml = pytest.importorskip("yaml")
    with open(Path(zoo.__file__).parent / "hyperparams" / "ppo.yml") as file:
        table = yaml.safe_load(file)
    if entry.env_id in table:
        published = table[entry.env_id]
        assert published["env_wrapper"] == "minigrid.wrappers.FlatObsWrapper"
        for key, value in ppo.items():
            assert published[key] == value, key
        assert entry.budget <= int(float(published["n_timesteps"]))


def test_minigrid_flat_observation_equals_minigrids_own_wrapper() -> None:
    needs(suite.get_entry("minigrid-flat-doorkey-5"))
    import gymnasium as gym
    from minigrid.wrappers import FlatObsWrapper

    theirs = FlatObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    ours = make("minigrid-flat-doorkey-5")
    np.testing.assert_array_equal(ours.reset(seed=3)[0], theirs.reset(seed=3)[0])
    for action in (2, 1, 2, 0, 3):
        np.testing.assert_array_equal(ours.step(action)[0], theirs.step(action)[0])
    assert ours.spec is not None and ours.spec.additional_wrappers[-1].kwargs == {"max_str_len": 96}


@pytest.mark.parametrize("entry", select("minatar"), ids=lambda e: e.name)
def test_minatar_entries_are_at_the_papers_budget_and_seed_gymnasium_style(entry: SuiteEntry) -> None:
    assert entry.budget == 5_000_000 and "cluster" in entry.tags and entry.optimal_return is None
    needs(entry)
    env = make(entry)
    first = env.reset(seed=5)[0]
    assert env.unwrapped.np_random is not None
    np.testing.assert_array_equal(make(entry).reset(seed=5)[0], first)
    with pytest.raises(ValueError, match="no optimal reference"):
        suite.normalize_score(entry, 1.0)


def test_bsuite_entry_is_the_same_task_as_deepsea_12() -> None:
    entry, ours = suite.get_entry("bsuite-deepsea-12"), suite.get_entry("deepsea-12")
    assert dict(entry.kwargs) == dict(ours.kwargs) and entry.budget == ours.budget
    assert (entry.random_return, entry.optimal_return) == (ours.random_return, ours.optimal_return)
    needs(entry)
    theirs: Any = make(entry).unwrapped
    mine: Any = make(ours).unwrapped
    np.testing.assert_array_equal(theirs._env._action_mapping, mine.mapping)


@pytest.mark.parametrize("entry", EXTERNAL, ids=lambda e: e.name)
def test_a_missing_extra_names_the_extra_to_install(entry: SuiteEntry, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``None`` in ``sys.modules`` makes Python's import fail as for an absent package: a one-line hint."""
    assert entry.requires is not None
    monkeypatch.setitem(sys.modules, entry.requires, None)
    with pytest.raises(ModuleNotFoundError) as excinfo:
        make(entry)
    message = str(excinfo.value)
    assert "\n" not in message and f"pip install 'rlfloor[{entry.extra}]'" in message and entry.name in message
