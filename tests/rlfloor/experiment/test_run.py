"""The run unit: env hyperparameters under the preset's, content keys, the random-reference cache."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents import AgentSpec, get_agent
from envs import resolve
from envs.references import PROTOCOL, measure_random_return, random_episode_returns
from rlfloor.experiment import RunSettings, RunSpec, plan, plan_spec, train_run
from rlfloor.experiment.references import cached_random_return
from rlfloor.experiment.run import Planner

HYPERPARAMS = {
    "ppo": {"n_envs": 2, "normalize": True, "n_steps": 32, "batch_size": 32, "n_epochs": 1, "gamma": 0.9},
    "a2c": {"n_steps": 4},
}


@dataclasses.dataclass(frozen=True)
class EnvWithHyperparams(resolve.ResolvedEnv):
    """A resolved env carrying rl-zoo3-style hyperparameters, as suite entries will."""

    @property
    def hyperparams(self) -> Mapping[str, Mapping[str, Any]]:
        return HYPERPARAMS


def env_resolver(name: str) -> resolve.ResolvedEnv:
    base = resolve.resolve("CartPole-v1", {"CartPole-v1": {"random": 22.2, "optimal": 500.0}})
    return EnvWithHyperparams(name, base.env_id, {}, None, base.random_return, base.optimal_return, "given")


def agents(name: str) -> AgentSpec:
    if name == "ppo-own":  # the preset's own algo_kwargs win over the env's
        return AgentSpec("ppo-own", "ppo", "d", algo_kwargs={"gamma": 0.8, "n_steps": 64})
    return get_agent(name)


def test_env_hyperparams_first_then_the_preset(tmp_path: Path) -> None:
    stock = plan(RunSettings("cp", "ppo", timesteps=128), env_resolver, agents)
    assert stock.n_envs == 2 and stock.normalize
    assert stock.algo_kwargs == {"n_steps": 32, "batch_size": 32, "n_epochs": 1, "gamma": 0.9}
    own = plan(RunSettings("cp", "ppo-own", timesteps=128), env_resolver, agents)
    assert own.algo_kwargs == {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "gamma": 0.8}
    assert plan(RunSettings("cp", "ppo-mask", timesteps=128), lambda n: _masked(), agents).algo_kwargs["n_steps"] == 32
    assert plan(RunSettings("cp", "a2c", n_envs=3), env_resolver, agents).n_envs == 3  # explicit n_envs wins

    result = train_run(stock, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["hyperparams"] == {"algo_kwargs": stock.algo_kwargs, "n_envs": 2, "normalize": True}
    assert result["timesteps"] == 128 and result["episodes"] > 0
    assert 0.0 <= result["final_score"] <= 1.0 or math.isnan(result["final_score"])


def _masked() -> resolve.ResolvedEnv:
    base = resolve.resolve("masked-grid")
    return EnvWithHyperparams("mg", base.env_id, base.kwargs, base.entry, base.random_return, base.optimal_return)


def test_bad_env_hyperparams_fail_before_any_work(tmp_path: Path) -> None:
    def bad(name: str) -> resolve.ResolvedEnv:
        base = env_resolver(name)

        @dataclasses.dataclass(frozen=True)
        class Bad(resolve.ResolvedEnv):
            @property
            def hyperparams(self) -> Mapping[str, Mapping[str, Any]]:
                return {"ppo": {"n_stepz": 8}}

        return Bad(name, base.env_id)

    with pytest.raises(ValueError, match="PPO has no argument 'n_stepz'"):
        plan(RunSettings("cp", "ppo"), bad, agents)


def test_key_covers_what_changes_training_only() -> None:
    def key(agent: str = "ppo", **options: Any) -> str:
        spec = RunSpec("cp", agent, 0, 128, tuple(sorted(options.items())))
        return plan_spec(spec, Planner(env_resolver, agents)).key

    base = key()
    assert key(metrics=False) == base and key(metrics=False, tensorboard=False) == base and key(verbose=1) == base
    assert key(allow_no_change=True) == base
    assert key(eval_episodes=3) != base and key(n_envs=1) != base and key("ppo-own") != base
    other_refs = functools.partial(resolve.resolve, references={"CartPole-v1": {"optimal": 400.0}})
    spec = RunSpec("CartPole-v1", "ppo", 0, 128)
    assert plan_spec(spec, Planner(resolve.resolve, agents)).key != plan_spec(spec, Planner(other_refs, agents)).key


def test_random_reference_is_measured_once_and_cached(tmp_path: Path) -> None:
    env = resolve.resolve("CartPole-v1")
    measure = functools.partial(measure_random_return, env.make)
    measured, cached = cached_random_return(tmp_path, env.name, env.record(), measure, PROTOCOL, episodes=50)
    assert not cached and measured["episodes"] == 50 and measured["protocol"] == PROTOCOL
    returns = random_episode_returns(env.make(), 50)  # the suite's protocol, seed 0
    assert measured["mean"] == pytest.approx(np.mean(returns))
    assert measured["se"] == pytest.approx(np.std(returns, ddof=1) / math.sqrt(50))
    stamp = (tmp_path / "references.json").stat().st_mtime_ns

    def never(episodes: int) -> dict[str, Any]:
        raise AssertionError("measured again")

    again, cached = cached_random_return(tmp_path, env.name, env.record(), never, PROTOCOL, episodes=50)
    assert cached and again == measured and (tmp_path / "references.json").stat().st_mtime_ns == stamp
    remeasured, cached = cached_random_return(tmp_path, env.name, env.record(), measure, PROTOCOL, episodes=60)
    assert not cached and remeasured["episodes"] == 60  # another N: measured again
    _, cached = cached_random_return(tmp_path, env.name, env.record(), measure, "another protocol", episodes=60)
    assert not cached  # another protocol: measured again
    with pytest.raises(ValueError, match="episodes=1"):
        measure_random_return(env.make, episodes=1)


def test_a_refused_measurement_writes_nothing(tmp_path: Path) -> None:
    """The check (a given optimal reference below the measured random one) runs before the results folder or the
    cache is written; a measurement that passes is cached, and a cached one is checked again."""
    env = resolve.resolve("CartPole-v1")
    measure = functools.partial(measure_random_return, env.make)
    out = tmp_path / "out"

    def below(measured: Mapping[str, Any]) -> None:
        resolve.check_references("CartPole-v1", {"random": measured["mean"], "optimal": 5.0})

    with pytest.raises(ValueError, match=r"optimal=5\.0 must exceed random="):
        cached_random_return(out, env.name, env.record(), measure, PROTOCOL, 5, check=below)
    assert not out.exists()
    cached_random_return(out, env.name, env.record(), measure, PROTOCOL, 5, check=lambda measured: None)
    with pytest.raises(ValueError, match=r"optimal=5\.0 must exceed random="):
        cached_random_return(out, env.name, env.record(), measure, PROTOCOL, 5, check=below)


def test_normalize_wraps_in_vecnormalize(tmp_path: Path) -> None:
    run = plan(RunSettings("cp", "a2c", timesteps=64, eval_episodes=1), env_resolver, agents)
    assert not run.normalize
    normalized = dataclasses.replace(run, normalize=True, n_envs=1)
    result = train_run(normalized, tmp_path)
    assert "eval_return" in result
    from stable_baselines3 import A2C

    assert A2C.load(tmp_path / "model.zip").n_envs == 1
    assert json.loads((tmp_path / "config.json").read_text())["hyperparams"]["normalize"] is True


def test_extra_callbacks_can_end_a_run_early(tmp_path: Path) -> None:
    """A callback returning False stops training; trained_steps and the speed count the steps actually run."""
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAt(BaseCallback):
        def _on_step(self) -> bool:
            return self.num_timesteps < 40

    run = plan(RunSettings("cp", "a2c", timesteps=400, n_envs=1), env_resolver, agents)
    result = train_run(run, tmp_path, callbacks=[StopAt()])
    assert result["timesteps"] == 400 and result["trained_steps"] == 40
    assert result["steps_per_second"] == pytest.approx(40 / result["wall_time"])
    full = train_run(run, tmp_path / "full")
    assert full["trained_steps"] == 400  # the env's 4-step A2C rollouts divide the budget


def test_a_presets_n_envs_goes_over_the_envs_and_is_keyed_as_resolved() -> None:
    def with_n_envs(name: str) -> AgentSpec:
        if name == "ppo-8":
            return AgentSpec("ppo-8", "ppo", "candidate", n_envs=8)
        return agents(name)

    assert plan(RunSettings("cp", "ppo-8"), env_resolver, with_n_envs).n_envs == 8  # over the env's 2
    assert plan(RunSettings("cp", "ppo-8", n_envs=3), env_resolver, with_n_envs).n_envs == 3  # explicit wins
    preset = plan_spec(RunSpec("cp", "ppo-8", 0, 128), Planner(env_resolver, with_n_envs))
    option = plan_spec(RunSpec("cp", "ppo", 0, 128, (("n_envs", 8),)), Planner(env_resolver, with_n_envs))
    assert preset.key == option.key  # the same resolved settings, however n_envs was given
    with pytest.raises(ValueError, match="n_envs=0"):
        AgentSpec("bad", "ppo", "d", n_envs=0)


def test_env_policy_kwargs_are_resolved_keyed_and_under_the_presets() -> None:
    def grid_env(name: str) -> resolve.ResolvedEnv:
        base = env_resolver(name)

        @dataclasses.dataclass(frozen=True)
        class Grid(resolve.ResolvedEnv):
            @property
            def hyperparams(self) -> Mapping[str, Mapping[str, Any]]:
                return {"ppo": {"policy_kwargs": "rlfloor.networks.GRID_POLICY_KWARGS"}}

        return Grid(name, base.env_id, {}, None, base.random_return, base.optimal_return, "given")

    from rlfloor.networks import GRID_POLICY_KWARGS, GridCNN

    run = plan(RunSettings("cp", "ppo"), grid_env, agents, build=False)  # CartPole is no grid: not built
    assert run.policy_kwargs == GRID_POLICY_KWARGS
    assert run.hyperparams()["policy_kwargs"]["features_extractor_class"] == "rlfloor.networks.GridCNN"
    assert "policy_kwargs" not in plan(RunSettings("cp", "ppo"), env_resolver, agents).hyperparams()
    assert GridCNN is run.policy_kwargs["features_extractor_class"]

    def broken(name: str) -> resolve.ResolvedEnv:
        base = env_resolver(name)

        @dataclasses.dataclass(frozen=True)
        class Broken(resolve.ResolvedEnv):
            @property
            def hyperparams(self) -> Mapping[str, Mapping[str, Any]]:
                return {"ppo": {"policy_kwargs": "rlfloor.networks.NO_SUCH_THING"}}

        return Broken(name, base.env_id)

    with pytest.raises(ValueError, match="NO_SUCH_THING"):
        plan(RunSettings("cp", "ppo"), broken, agents, build=False)
