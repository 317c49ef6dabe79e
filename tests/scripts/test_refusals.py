"""Inputs that cannot be honoured are refused before any work (issue 22, items 1, 3 and 7).

Every case runs a command's ``main`` in-process, as a user would type it: the refusal must be one line on
stderr (``error: ...``), exit status 2, and the output folder must not exist afterwards. The cases go through
each command's planning (``rlfloor.experiment.run.plan`` / ``Planner``, ``SweepOptions.check``,
``check_out``), so they test the shared checks, not one probe each.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from rlfloor.experiment import RunSettings
from rlfloor.experiment.cli import SweepOptions
from rlfloor_cli import compare, references, scaling, train

COMMANDS: dict[str, Callable[[Sequence[str] | None], None]] = {
    "train": train.main,
    "compare": compare.main,
    "scaling": scaling.main,
    "references": references.main,
}
FAST = {
    "train": ["--timesteps", "256"],
    "compare": ["--seeds", "1", "--timesteps", "256", "--workers", "1", "--no-progress"],
    "scaling": ["--sizes", "4", "--seeds", "1", "--episodes", "20", "--workers", "1", "--no-progress"],
    "references": [],
}


def preset(**fields: Any) -> dict[str, Any]:
    """A presets file's content: one preset ``x`` (PPO) with ``fields``."""
    return {"x": {"algo": "ppo", "description": "probe", **fields}}


# (command, arguments, presets file content or None, a fragment of the one-line message)
CASES: dict[str, tuple[str, list[str], dict[str, Any] | None, str]] = {
    # item 1: what a run would refuse is refused by the planning path, before any file
    "floor at 1/K": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(policy_kwargs={"min_prob": 0.5}),
        "min_prob=0.5 is outside",
    ),
    "negative floor": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(policy_kwargs={"min_prob": -0.1}),
        "min_prob=-0.1 is outside",
    ),
    "annealed floor from 1/K": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(floor_anneal=[0.6, 0.0]),
        "min_prob=0.6 is outside",
    ),
    "adaptive high at 1/K": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(adaptive_floor={"high": 0.6}),
        "high=0.6 is outside",
    ),
    "negative entropy schedule": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(entropy_schedule=[-0.1, 0.0]),
        "ent_coef=-0.1 is outside",
    ),
    "entropy schedule below 0 at its end": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(entropy_schedule=[0.05, -0.05]),
        "ent_coef=-0.05 is outside",
    ),
    "intrinsic coefficient below 0": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(intrinsic={"method": "count", "coef": [0.1, -0.1]}),
        "coef=-0.1 is outside",
    ),
    "learning rate -1": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(algo_kwargs={"learning_rate": -1}),
        "Invalid learning rate",
    ),
    "n_steps 0": ("train", ["--env", "deepsea-6", "--agent", "x"], preset(algo_kwargs={"n_steps": 0}), "n_steps=0"),
    "no epochs": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "x"],
        preset(algo_kwargs={"n_epochs": 0}),
        "'x' on 'deepsea-6': n_epochs=0 is outside the allowed range [1, inf)",
    ),
    "batch size of 1": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(algo_kwargs={"batch_size": 1}),
        "batch_size=1 is outside the allowed range [2, inf)",
    ),
    "A2C without steps": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "x"],
        {"x": {"algo": "a2c", "description": "probe", "algo_kwargs": {"n_steps": 0}}},
        "n_steps=0 is outside",
    ),
    "a billion evaluation episodes": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--eval-episodes", str(10**9)],
        None,
        "eval_episodes=1000000000 is outside the allowed range [0, 100000]",
    ),
    "a billion random episodes": (
        "compare",
        ["--envs", "CartPole-v1", "--agents", "ppo", "--random-episodes", str(10**9)],
        None,
        "--random-episodes=1000000000 is outside the allowed range [2, 100000]",
    ),
    "a billion reference episodes": (
        "references",
        ["--names", "cartpole", "--episodes", str(10**9)],
        None,
        "--episodes=1000000000 is outside the allowed range [2, 100000]",
    ),
    "a billion bootstrap resamples": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "--bootstrap-reps", str(10**9)],
        None,
        "--bootstrap-reps=1000000000 is outside the allowed range [1, 100000]",
    ),
    "negative clip range": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "x"],
        preset(algo_kwargs={"clip_range": -0.2}),
        "'x' on 'deepsea-6': clip_range=-0.2 is outside the allowed range (0, inf)",
    ),
    "discount above 1": (
        "train",
        ["--env", "deepsea-6", "--agent", "x"],
        preset(algo_kwargs={"gamma": 1.5}),
        "gamma=1.5 is outside the allowed range [0, 1]",
    ),
    "negative entropy coefficient": (
        "scaling",
        ["--agents", "x"],
        preset(algo_kwargs={"ent_coef": -0.01}),
        "ent_coef=-0.01 is outside the allowed range [0, inf)",
    ),
    "more curve points than steps": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--curve-points", str(10**9)],
        None,
        "curve_points=1000000000 is outside the allowed range [1, 100000]",
    ),
    "seed 2**40": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--seed", str(2**40)],
        None,
        "seed=1099511627776 is outside",
    ),
    "count bonus on CartPole": ("train", ["--env", "CartPole-v1", "--agent", "ppo-count"], None, "is continuous"),
    "floor on Box actions": ("train", ["--env", "Pendulum-v1", "--agent", "ppo-floor"], None, "use min_std"),
    "--n-envs 1000000": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--n-envs", "1000000"],
        None,
        "n_envs=1000000 is outside the allowed range [1, 1024]",
    ),
    "a preset's n_envs 1000000": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "x"],
        preset(n_envs=1_000_000),
        "agent 'x': n_envs=1000000 is outside",
    ),
    "bad preset in compare": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "x"],
        preset(policy_kwargs={"min_prob": 0.6}),
        "min_prob=0.6 is outside",
    ),
    "bad preset in scaling": (
        "scaling",
        ["--agents", "x"],
        preset(entropy_schedule=[0.05, -0.05]),
        "ent_coef=-0.05 is outside",
    ),
    # item 3: inputs accepted that cannot be honoured
    "optimal below random (train)": (
        "train",
        ["--env", "CartPole-v1", "--agent", "ppo", "--random-return", "20", "--optimal-return", "10"],
        None,
        "optimal=10.0 must exceed random=20.0",
    ),
    "optimal below the suite's random (train)": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--optimal-return", "-1"],
        None,
        "must exceed the random one",
    ),
    "optimal below random (--optimal)": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "--optimal", "deepsea-6=0"],
        None,
        "must exceed",
    ),
    "optimal below the measured random (--optimal)": (
        "compare",
        ["--envs", "CartPole-v1", "--agents", "ppo", "--optimal", "CartPole-v1=-5", "--random-episodes", "3"],
        None,
        "optimal=-5.0 must exceed random=",
    ),
    "metrics without TensorBoard": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--metrics", "--no-tensorboard"],
        None,
        "metrics=True needs tensorboard=True",
    ),
    "--address on the local backend": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "--address", "auto"],
        None,
        "--address='auto' applies to --backend ray only",
    ),
    "--cpus-per-run on the local backend": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "--cpus-per-run", "2"],
        None,
        "--cpus-per-run=2.0 applies to --backend ray only",
    ),
    "--address on the local backend (scaling)": (
        "scaling",
        ["--agents", "ppo", "--address", "auto"],
        None,
        "applies to --backend ray only",
    ),
    "--seeds 10**12": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "--seeds", str(10**12)],
        None,
        "--seeds=1000000000000 is outside",
    ),
    "--seeds 10**12 (scaling)": (
        "scaling",
        ["--agents", "ppo", "--seeds", str(10**12)],
        None,
        "--seeds=1000000000000 is outside",
    ),
    "empty --agents": ("compare", ["--envs", "deepsea-6", "--agents"], None, "--agents needs at least one preset"),
    "empty --envs": ("compare", ["--agents", "ppo", "--envs"], None, "--envs needs at least one env"),
    "empty --agents (scaling)": ("scaling", ["--agents"], None, "--agents needs at least one preset"),
    "empty --sizes (scaling)": ("scaling", ["--agents", "ppo", "--sizes"], None, "--sizes needs at least one size"),
    "duplicate agents": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "ppo"],
        None,
        "--agents names ['ppo'] more than once",
    ),
    "duplicate envs": (
        "compare",
        ["--envs", "deepsea-6", "deepsea-6", "--agents", "ppo"],
        None,
        "--envs names ['deepsea-6'] more than once",
    ),
    "duplicate agents (scaling)": ("scaling", ["--agents", "ppo", "ppo"], None, "names a preset more than once"),
    "--out is a file": (
        "train",
        ["--env", "deepsea-6", "--agent", "ppo", "--out", "{tmp}/file"],
        None,
        "is a file, not a folder",
    ),
    "--out cannot be created": (
        "compare",
        ["--envs", "deepsea-6", "--agents", "ppo", "--out", "/proc/rlfloor-test/out"],
        None,
        "is not writable",
    ),
    "references --episodes 1": (
        "references",
        ["--names", "cartpole", "--episodes", "1"],
        None,
        "--episodes=1 is outside the allowed range [2, 100000]",
    ),
    "references --out a folder": (
        "references",
        ["--names", "cartpole", "--episodes", "5", "--out", "{tmp}"],
        None,
        "is a folder",
    ),
    # a non-stationary task whose budget ends before its first change never changes
    "permuted-grid at the default budget scale": (
        "compare",
        ["--envs", "permuted-grid", "--agents", "ppo", "--timesteps", "None"],
        None,
        "env 'permuted-grid' first changes at step 20000: a budget of 20000 steps",
    ),
    "the non-stationary tier on a short budget": (
        "compare",
        ["--envs", "nonstationary-tier", "--agents", "ppo"],
        None,
        "first changes at step 14256: a budget of 256 steps",
    ),
    # the drifting bandit's optimum is averaged over its 40k-pull run: another length is scored against it
    "drifting-bandit at the default budget scale": (
        "compare",
        ["--envs", "drifting-bandit", "--agents", "ppo", "--timesteps", "None"],
        None,
        "env 'drifting-bandit': its references hold for runs of exactly 40000 steps, not 20000",
    ),
    "permuted-grid at 20000 steps (train)": (
        "train",
        ["--env", "permuted-grid", "--agent", "ppo", "--timesteps", "20000"],
        None,
        "first changes at step 20000",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_in_one_line_before_any_file(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command, args, presets, fragment = CASES[case]
    if "/proc/" in " ".join(args) and not sys.platform.startswith("linux"):
        pytest.skip("/proc is Linux's")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("")
    out = tmp_path / "out"
    argv = [*FAST[command], *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    if command != "references" and "--out" not in argv:
        argv += ["--out", str(out)]
    if presets is not None:
        (tmp_path / "presets.json").write_text(json.dumps(presets))
        argv += ["--presets", str(tmp_path / "presets.json")]
    with pytest.raises(SystemExit) as exit_:
        COMMANDS[command](argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert fragment in lines[0], lines[0]
    assert (
        not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["file", "presets.json"][: 1 + bool(presets)]
    )


def test_the_default_comparison_is_accepted() -> None:
    """``make compare``'s grid (switching-bandit at half its budget: 20k steps, first switch at 10k) plans."""
    plan = compare.validate(compare.CompareConfig(seeds=1, out="unused"))
    budgets = {spec.env: spec.timesteps for spec in plan.specs}
    assert budgets == {
        "deepsea-6": 10_000,
        "switching-bandit": 20_000,
        "deceptive-chain": 15_000,
        "symmetric-goals": 10_000,
    }
    assert len(plan.specs) == len(compare.DEFAULT_ENVS) * len(compare.DEFAULT_AGENTS)


def test_a_short_non_stationary_run_is_accepted_when_asked_for(tmp_path: Path) -> None:
    config = compare.CompareConfig(envs=["permuted-grid"], agents=["ppo"], seeds=1, out="unused", allow_no_change=True)
    (spec,) = compare.validate(config).specs
    assert spec.timesteps == 20_000 and spec.plan.settings.allow_no_change
    assert "allow_no_change" not in json.loads(spec.settings)["run"]  # not part of the run's key
    settings = RunSettings("permuted-grid", "ppo", timesteps=20_000, allow_no_change=True)
    run, _ = train.plan_train(train.TrainConfig(run=settings, out=str(tmp_path / "out")))
    assert run.timesteps == 20_000


def test_ray_flags_are_accepted_with_the_ray_backend() -> None:
    options = SweepOptions(backend="ray", address="auto", cpus_per_run=2)
    options.check()
    assert options.ray_resources == {"num_cpus": 2.0}
    assert SweepOptions(backend="ray").ray_resources == {"num_cpus": 1.0}


def test_the_drifting_bandit_plans_at_its_reference_length_or_with_given_references() -> None:
    """Refused at another length (above); accepted at the 40k steps its optimum is averaged over, and at any
    length when the user gives the references (then they are the user's, for the user's window)."""
    config = compare.CompareConfig(envs=["drifting-bandit"], agents=["ppo"], seeds=1, out="unused", budget_scale=1)
    (spec,) = compare.validate(config).specs
    assert spec.timesteps == 40_000
    given = compare.CompareConfig(
        envs=["drifting-bandit"], agents=["ppo"], seeds=1, out="unused", optimal=["drifting-bandit=0.9"]
    )
    (spec,) = compare.validate(given).specs
    assert spec.timesteps == 20_000
