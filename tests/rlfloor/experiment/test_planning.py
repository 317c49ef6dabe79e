"""The shared planning path (issue 22, class 1): everything a run will use is built and checked before any
file is written, and every refusal is one line. train, compare and scaling all plan through
:func:`rlfloor.experiment.run.plan` / :class:`~rlfloor.experiment.run.Planner`."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from agents import AgentSpec, get_agent
from envs import resolve
from rlfloor.experiment import RunSettings
from rlfloor.experiment.cli import check_out, check_run_dir
from rlfloor.experiment.run import Planner, plan
from rlfloor_cli import compare, scaling
from rlfloor_cli.train import TrainConfig, plan_train

FLOOR = {"algo": "ppo", "description": "d"}
BAD_PRESETS: dict[str, tuple[dict[str, Any], str, str]] = {
    # name: (preset fields, env, the start of the one-line message)
    "floor-at-1/K": ({"policy_kwargs": {"min_prob": 0.5}}, "deepsea-6", "'x' on 'deepsea-6': min_prob=0.5 is outside"),
    "negative-floor": ({"policy_kwargs": {"min_prob": -0.1}}, "deepsea-6", "'x' on 'deepsea-6': min_prob=-0.1"),
    "anneal-start-1/K": ({"floor_anneal": (0.5, 0.0)}, "deepsea-6", "'x' on 'deepsea-6': min_prob=0.5 is outside"),
    "adaptive-high": ({"adaptive_floor": {"high": 0.5}}, "deepsea-6", "'x' on 'deepsea-6': high=0.5 is outside"),
    "negative-entropy": ({"entropy_schedule": (0.05, -0.05)}, "deepsea-6", "'x' on 'deepsea-6': ent_coef=-0.05"),
    "learning-rate": ({"algo_kwargs": {"learning_rate": -1}}, "deepsea-6", "'x' on 'deepsea-6': Invalid learning rate"),
    "n-steps": ({"algo_kwargs": {"n_steps": 0}}, "deepsea-6", "'x' on 'deepsea-6': "),
    "count-on-cartpole": ({"intrinsic": {"method": "count"}}, "cartpole", "'x' on 'cartpole': observation space"),
    "floor-on-box": ({"policy_kwargs": {"min_prob": 0.1}}, "Pendulum-v1", "'x' on 'Pendulum-v1': min_prob=0.1 applies"),
}


def planner(preset: dict[str, Any]) -> Planner:
    presets = {"x": AgentSpec("x", **{**FLOOR, **preset})}
    return Planner(resolve.resolve, functools.partial(get_agent, presets=presets))


@pytest.mark.parametrize("name", sorted(BAD_PRESETS))
def test_what_a_run_would_refuse_is_refused_at_planning(name: str) -> None:
    preset, env, message = BAD_PRESETS[name]
    with pytest.raises(ValueError) as error:
        planner(preset).plan(RunSettings(env, "x", timesteps=1000))
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seed": 2**40}, "seed=1099511627776 is outside the allowed range [0, 4294957295]"),
        ({"seed": -1}, "seed=-1 is outside"),
        ({"timesteps": 0}, "timesteps=0 is outside"),
        ({"n_envs": 1_000_000}, "n_envs=1000000 is outside the allowed range [1, 1024]"),
        ({"verbose": 3}, "verbose=3 is outside"),
    ],
)
def test_run_settings_are_checked_by_the_plan(settings: dict[str, Any], message: str) -> None:
    run = RunSettings("deepsea-6", "ppo", **settings)  # a parser may build them; the plan refuses them
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        plan(run, resolve.resolve, get_agent)


def test_the_planner_resolves_and_builds_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, int] = {"env": 0, "agent": 0, "build": 0}

    def env(name: str) -> resolve.ResolvedEnv:
        calls["env"] += 1
        return resolve.resolve(name)

    def agent(name: str) -> AgentSpec:
        calls["agent"] += 1
        return get_agent(name)

    original = AgentSpec.check_build

    def counting(self: AgentSpec, *args: Any) -> None:
        calls["build"] += 1
        original(self, *args)

    monkeypatch.setattr(AgentSpec, "check_build", counting)
    grid = Planner(env, agent)
    plans = [grid.plan(RunSettings("deepsea-6", "ppo", seed=seed, timesteps=100)) for seed in range(5)]
    assert calls == {"env": 1, "agent": 1, "build": 1}
    assert len({p.key_settings()["run"]["seed"] for p in plans}) == 5


def test_the_output_folder_is_checked(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        check_out(str(tmp_path / "file"))
    with pytest.raises(ValueError, match="is not writable"):
        check_out(str(tmp_path / "file" / "sub"))
    with pytest.raises(ValueError, match=r"run folder .* is a file"):
        check_run_dir(tmp_path / "file")
    assert check_out(str(tmp_path / "new" / "sub")) == tmp_path / "new" / "sub"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the write check leaves nothing behind


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's /proc and /sys")
def test_an_output_folder_that_cannot_be_created_is_refused_even_for_root() -> None:
    """Writability is tried, not read from permission bits (root passes every ``os.access`` check)."""
    for path in ("/proc/rlfloor-test/out", "/sys/rlfloor-test"):
        with pytest.raises(ValueError, match=r"is not writable \("):
            check_out(path)


def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    try:
        if os.access(read_only, os.W_OK):  # root: permission bits do not apply
            pytest.skip("permission bits do not bind this user")
        with pytest.raises(ValueError, match="is not writable"):
            check_out(str(read_only / "out"))
    finally:
        read_only.chmod(0o755)


def test_the_three_commands_plan_through_it(tmp_path: Path) -> None:
    """train, compare and scaling refuse the same bad preset, in one line, with nothing written."""
    presets = tmp_path / "presets.json"
    presets.write_text('{"x": {"algo": "ppo", "description": "d", "policy_kwargs": {"min_prob": 0.6}}}')
    out = tmp_path / "out"
    train = TrainConfig(run=RunSettings("deepsea-6", "x"), out=str(out), presets=str(presets))
    comparison = compare.CompareConfig(envs=["deepsea-6"], agents=["x"], out=str(out), presets=str(presets))
    sizes = scaling.ScalingConfig(agents=["x"], sizes=[10], seeds=1, out=str(out), presets=str(presets))
    for check in (lambda: plan_train(train), lambda: compare.validate(comparison), lambda: scaling.validate(sizes)):
        with pytest.raises(ValueError, match=r"^'x' on 'deepsea-(6|10)': min_prob=0\.6 is outside"):
            check()
    assert not out.exists()


def test_compare_flags_are_refused_before_planning(tmp_path: Path) -> None:
    base = compare.CompareConfig(out=str(tmp_path / "o"))
    for changes, message in [
        ({"agents": []}, "--agents needs at least one preset"),
        ({"envs": ["deepsea-6", "deepsea-6"]}, "--envs names ['deepsea-6'] more than once"),
        ({"seeds": 10**12}, "--seeds=1000000000000 is outside the allowed range [1, 10000]"),
        ({"envs": ["cartpole"], "agents": ["ppo-count"]}, "no valid (env, agent) pair"),
    ]:
        with pytest.raises(ValueError) as error:
            compare.validate(dataclasses.replace(base, **changes))
        assert str(error.value).startswith(message), str(error.value)
    assert not (tmp_path / "o").exists()
