"""envs.suite: the data is consistent with the environments, and the helpers fail loudly."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import pickle

import gymnasium as gym
import numpy as np
import pytest

from envs import ENV_IDS, suite
from envs.suite import SUITE, SuiteEntry, get_entry, make, normalize_score, select, total_budget

INSTALLED = [e for e in SUITE if e.requires is None or importlib.util.find_spec(e.requires) is not None]
MISSING = [e for e in SUITE if e not in INSTALLED]


def test_names_are_unique_short_and_stable() -> None:
    names = [e.name for e in SUITE]
    assert len(set(names)) == len(names)
    assert names == list(suite.NAMES)
    for name in names:
        assert name == name.lower() and " " not in name and "/" not in name and len(name) <= 24


def test_core_covers_every_probe_within_the_time_budget() -> None:
    core = select("core")
    probes = {"deep-exploration", "non-stationary", "deception", "symmetric-optima", "action-masking"}
    assert probes <= {tag for e in core for tag in e.tags}
    stochastic_or_old = {"rlfloor/DeepSeaStochastic-v0", "rlfloor/DeepSeaStochastic-v1", "rlfloor/DeepSea-v0"}
    tier = {e.env_id for e in select("nonstationary-tier")}  # their own tier, outside the core's time budget
    assert {e.env_id for e in core} >= set(ENV_IDS) - stochastic_or_old - tier
    assert total_budget("core") == sum(e.budget for e in core) <= 150_000
    assert {e.name for e in core} >= {"deepsea-6", "deepsea-16"}


def test_standard_control_tasks_are_listed() -> None:
    assert {e.env_id for e in select("control")} == {"CartPole-v1", "Acrobot-v1", "MountainCar-v0"}
    assert all(e.requires is None for e in select("control"))
    assert all(e.requires == "minigrid" for e in select("external") if e.env_id.startswith("MiniGrid"))


@pytest.mark.parametrize("entry", INSTALLED, ids=lambda e: e.name)
def test_every_installed_entry_makes_resets_and_steps(entry: SuiteEntry) -> None:
    env = make(entry)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    _, reward, _, _, _ = env.step(env.action_space.sample())
    assert np.isfinite(reward)
    assert hasattr(env.unwrapped, "action_masks") is entry.action_masks


@pytest.mark.parametrize("entry", [e for e in SUITE if e.env_id.startswith("rlfloor/")], ids=lambda e: e.name)
def test_reference_returns_equal_the_environments_exact_values(entry: SuiteEntry) -> None:
    env = make(entry).unwrapped
    assert entry.random_return == pytest.approx(env.random_return, abs=1e-6)
    assert entry.optimal_return == pytest.approx(env.optimal_return, abs=1e-6)


def test_deepsea_entries_use_v1_at_bsuites_mapping_seed() -> None:
    """bsuite's sweep uses mapping_seed 42; with -v1 our deepsea-N is bsuite's deep_sea of size N."""
    for entry in select("deep-exploration"):
        assert entry.env_id in {"rlfloor/DeepSea-v1", "rlfloor/DeepSeaStochastic-v1", "bsuite/deep_sea-v0"}
        assert entry.kwargs["mapping_seed"] == 42


def test_every_reference_names_its_source() -> None:
    for entry in SUITE:
        assert entry.random_source and entry.optimal_source, entry.name
        if entry.random_episodes is None:
            assert entry.random_source.startswith("exact") and entry.random_return_se == 0.0
        else:
            assert entry.random_episodes >= 1000 and entry.random_source.startswith("measured")
        assert entry.optimal_source.split(":")[0] in {"exact", "definition", "cited", "computed", "none"}
        assert (entry.optimal_return is None) is entry.optimal_source.startswith("none")
        assert entry.has_references is (entry.optimal_return is not None)


def test_mountaincar_random_policy_never_reaches_the_flag() -> None:
    env = make("mountaincar")
    env.action_space.seed(0)
    env.reset(seed=0)
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        total += float(reward)
        done = terminated or truncated
    assert total == get_entry("mountaincar").random_return == -200.0


def test_get_entry_unknown_name_lists_the_known_names() -> None:
    with pytest.raises(ValueError, match="unknown suite entry 'deepsea-99'") as excinfo:
        get_entry("deepsea-99")
    for name in suite.NAMES:
        assert name in str(excinfo.value)
    with pytest.raises(ValueError, match="known names"):
        make("nope")


def test_select_unknown_tag_lists_the_known_tags() -> None:
    with pytest.raises(ValueError, match=r"unknown suite tag 'fast'.*core"):
        select("fast")


def test_normalize_score_by_entry_or_name() -> None:
    entry = get_entry("cartpole")
    assert normalize_score(entry, 500.0) == 1.0
    random = entry.random_return
    assert normalize_score("cartpole", random) == 0.0
    assert normalize_score("cartpole", (random + 500.0) / 2) == pytest.approx(0.5)
    assert normalize_score("cartpole", 10_000.0) == 1.0 and normalize_score("cartpole", 0.0) == 0.0


def test_make_applies_overrides_on_top_of_entry_kwargs() -> None:
    env = make("deepsea-16", size=4, mapping_seed=9)
    assert env.unwrapped.size == 4 and env.unwrapped.mapping_seed == 9
    assert make("deepsea-16").unwrapped.size == 16
    assert make("cartpole", max_episode_steps=10).spec.max_episode_steps == 10
    assert make("masked-grid", render_mode="ansi").render_mode == "ansi"


def test_make_divides_per_instance_counters_by_n_envs() -> None:
    entry = get_entry("switching-bandit")
    assert entry.per_instance == ("switch_every",)
    assert make(entry).unwrapped.switch_every == entry.kwargs["switch_every"]
    assert make(entry, n_envs=4).unwrapped.switch_every == entry.kwargs["switch_every"] // 4
    assert make(entry, n_envs=4, switch_every=7).unwrapped.switch_every == 7
    with pytest.raises(ValueError, match=r"n_envs=0 is outside the allowed range \[1, inf\)"):
        make(entry, n_envs=0)


@pytest.mark.parametrize("entry", MISSING, ids=lambda e: e.name)
def test_missing_optional_dependency_gives_an_install_hint(entry: SuiteEntry) -> None:
    with pytest.raises(ModuleNotFoundError, match=rf"pip install 'rlfloor\[{entry.extra}\]'"):
        make(entry)


def test_entries_are_immutable_and_validated() -> None:
    entry = get_entry("deepsea-6")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.budget = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.kwargs["size"] = 7  # type: ignore[index]
    base = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    for change, message in [
        ({"budget": 0}, "budget of 'deepsea-6' must be a positive integer, got 0"),
        ({"budget": 1.5}, "budget of 'deepsea-6' must be a positive integer"),
        ({"optimal_return": -1.0}, "optimal_return of 'deepsea-6' must exceed random_return"),
        ({"name": "Deep Sea"}, "name must be a non-empty lower-case token"),
        ({"random_return_se": -0.1}, "random_return_se of 'deepsea-6' must be >= 0"),
        ({"random_episodes": 0}, "random_episodes of 'deepsea-6' must be None or >= 1"),
        ({"hyperparams": {"dqn": {}}}, "unknown algorithm family 'dqn'; allowed: ppo, a2c"),
        ({"hyperparams": {"ppo": {"n_envs": 0}}}, r"ppo.n_envs=0 is outside the allowed range \[1, inf\)"),
        ({"hyperparams": {"a2c": {"normalize": "yes"}}}, "a2c.normalize must be a bool, got 'yes'"),
    ]:
        with pytest.raises(ValueError, match=message):
            SuiteEntry(**{**base, **change})


def test_entries_survive_pickling_and_deepcopy() -> None:
    """Sweep runners ship entries to worker processes."""
    for entry in SUITE:
        for clone in (pickle.loads(pickle.dumps(entry)), copy.deepcopy(entry)):
            assert clone == entry and clone is not entry
            assert {k: dict(v) for k, v in clone.hyperparams.items()} == {
                k: dict(v) for k, v in entry.hyperparams.items()
            }
            with pytest.raises(TypeError):
                clone.kwargs["x"] = 1  # type: ignore[index]
            for values in clone.hyperparams.values():
                with pytest.raises(TypeError):
                    values["n_envs"] = 2  # type: ignore[index]


def test_budgets_and_references_are_plausible() -> None:
    for entry in SUITE:
        largest = 5_000_000 if "cluster" in entry.tags else 3_000_000 if "ladder" in entry.tags else 1_000_000
        assert 10_000 <= entry.budget <= largest
        assert entry.probes and entry.score and "\n" not in entry.probes
        assert all(tag in suite.TAGS for tag in entry.tags)
        if entry.env_id.startswith("rlfloor/"):
            assert {"probe", "nonstationary-tier"} & set(entry.tags) and gym.spec(entry.env_id) is not None


@pytest.mark.parametrize("entry", [e for e in SUITE if "non-stationary" in e.tags], ids=lambda e: e.name)
def test_non_stationary_entries_first_change_where_they_say(entry: SuiteEntry) -> None:
    """``first_change`` is the env step at which the task first changes (the harness refuses budgets that end
    by then): stepped for real, the env's change counter (``switches``, ``best_changes``) first moves on the
    step after it, or -- in the grids, which change between episodes -- at the next episode's start."""
    assert entry.first_change is not None
    env = make(entry)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    horizon = env.spec.max_episode_steps if env.spec is not None and env.spec.max_episode_steps else 1
    changed_at = None
    for step in range(1, entry.first_change + horizon + 2):
        _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))  # type: ignore[attr-defined]
        if info.get("switches", info.get("best_changes", 0)) > 0:
            changed_at = step
            break
        if terminated or truncated:
            env.reset()
    assert changed_at is not None, f"{entry.name}: no change within {entry.first_change + horizon} steps"
    assert entry.first_change < changed_at <= entry.first_change + horizon, (entry.name, changed_at)


def test_the_non_stationary_tag_and_first_change_go_together() -> None:
    entry = get_entry("switching-bandit")
    with pytest.raises(ValueError, match="the tag 'non-stationary' and first_change=None go together"):
        dataclasses.replace(entry, first_change=None)
    with pytest.raises(ValueError, match="the tag 'non-stationary' and first_change=5 go together"):
        dataclasses.replace(get_entry("deepsea-6"), first_change=5)
    with pytest.raises(ValueError, match="first_change of 'switching-bandit'=0 is outside"):
        dataclasses.replace(entry, first_change=0)
