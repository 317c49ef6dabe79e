"""scripts/compare.py on a tiny grid: results, report, resume, and a failing run kept apart."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]

PRESETS = {
    "ppo-small": {"algo": "ppo", "description": "PPO, 64-step rollouts", "algo_kwargs": {"n_steps": 64}},
    "ppo-small-floor": {
        "algo": "ppo",
        "description": "PPO, 64-step rollouts, 10% floor",
        "policy_kwargs": {"min_prob": 0.1},
        "algo_kwargs": {"n_steps": 64},
        "baseline": "ppo-small",
    },
}

# A user's env that breaks only while training (planning builds it and never steps it): every run on it raises
# in its worker, past the planning checks, which refuse what can be refused before any work.
CRASHING_ENV = """
import gymnasium as gym
import numpy as np


class Crashing(gym.Env):
    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self):
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.steps += 1
        if self.steps > 100:
            raise RuntimeError("crashing env: step 101 raises, by design")
        return np.zeros(1, np.float32), 0.0, self.steps % 10 == 0, False, {}


gym.register("Crashing-v0", entry_point=Crashing)
"""
CRASHING = "crashenv:Crashing-v0"


def compare(out: Path, presets: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The test grid: two suite tasks and the crashing env, two agents, two seeds (12 runs, 4 of them fail)."""
    root = out.parent
    (root / "crashenv.py").write_text(CRASHING_ENV)
    (root / "references.json").write_text(json.dumps({CRASHING: {"random": 0.0, "optimal": 1.0}}))
    args = ["--envs", "deepsea-6", "switching-bandit", CRASHING, "--agents", "ppo-small", "ppo-small-floor"]
    args += ["--seeds", "2", "--timesteps", "384", "--out", str(out), "--presets", str(presets)]
    args += ["--references", str(root / "references.json")]
    args += ["--workers", "2", "--bootstrap-reps", "300", "--no-progress", "--allow-no-change", *extra]
    return run_compare(args, cwd=root, pythonpath=root)


def run_compare(
    args: list[str], cwd: Path, timeout: float = 600, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:  # where a user's env module lives
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("compare")
    presets = root / "presets.json"
    presets.write_text(json.dumps(PRESETS))
    out = root / "out"
    return out, compare(out, presets)


def test_grid_runs_and_failures_are_isolated(sweep: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = sweep
    assert done.returncode == 1, done.stderr  # some runs failed: the exit code says so
    assert "8 finished, 0 already done, 4 failed" in done.stdout
    errors = sorted(out.glob("runs/crashenv-Crashing-v0__*/error.json"))
    assert len(errors) == 4
    assert "step 101 raises, by design" in json.loads(errors[0].read_text())["traceback"]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 8 and {r["agent"] for r in rows} == {"ppo-small", "ppo-small-floor"}
    curves = list(csv.DictReader((out / "curves.csv").open()))
    assert len(curves) == 8 * 20
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in curves)
    for name in ("interval_estimates", "performance_profiles", "sample_efficiency", "task_curves"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    assert list(out.glob("runs/deepsea-6__ppo-small__s0/tb/**/events.out.tfevents.*"))


def test_report_statistics_match_hand_computation(sweep: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = sweep
    rows = list(csv.DictReader((out / "results.csv").open()))
    report = (out / "report.md").read_text()
    assert "Failed runs" in report and CRASHING in report
    for agent in ("ppo-small", "ppo-small-floor"):
        scores = np.array([float(r["final_score"]) for r in rows if r["agent"] == agent])
        iqm = stats.trim_mean(scores, 0.25)
        line = next(line for line in report.splitlines() if line.startswith(f"| `{agent}` | PPO"))
        cells = [c.strip() for c in line.split("|")]
        assert cells[3].startswith(f"{iqm:.3f} ["), (cells, iqm)
        assert cells[4].startswith(f"{scores.mean():.3f} [")
    x = np.array(
        [
            [float(r["final_score"]) for r in rows if r["agent"] == "ppo-small-floor" and r["env"] == e]
            for e in ("deepsea-6", "switching-bandit")
        ]
    )
    y = np.array(
        [
            [float(r["final_score"]) for r in rows if r["agent"] == "ppo-small" and r["env"] == e]
            for e in ("deepsea-6", "switching-bandit")
        ]
    )
    p = np.mean(
        [np.mean((xt[:, None] > yt[None, :]) + 0.5 * (xt[:, None] == yt[None, :])) for xt, yt in zip(x, y, strict=True)]
    )
    assert f"| `ppo-small-floor` | `ppo-small` | {p:.3f} [" in report


def test_rerun_resumes_without_retraining(sweep: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = sweep
    results = sorted(out.glob("runs/*/result.json"))
    before = {p: (p.stat().st_mtime_ns, p.read_text()) for p in results}
    done = compare(out, out.parent / "presets.json")
    assert "0 finished, 8 already done, 4 failed" in done.stdout, done.stdout + done.stderr
    assert {p: (p.stat().st_mtime_ns, p.read_text()) for p in results} == before


def test_options_outside_the_key_and_unchanged_presets_reuse_runs(
    sweep: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = sweep
    results = sorted(out.glob("runs/*/result.json"))
    before = {p: p.stat().st_mtime_ns for p in results}
    copy = out.parent / "same-presets.json"  # another file with the same presets
    copy.write_text(json.dumps(PRESETS, indent=4))
    done = compare(out, copy, "--no-metrics")
    assert "0 finished, 8 already done, 4 failed" in done.stdout, done.stdout + done.stderr
    assert {p: p.stat().st_mtime_ns for p in results} == before


def test_edited_preset_is_retrained_and_named(sweep: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Issue 12, reliability 2: a preset edited in place is retrained, not shown with the old results."""
    out, _ = sweep
    edited = dict(PRESETS)
    edited["ppo-small-floor"] = {
        "algo": "a2c",
        "description": "A2C, 20% floor",
        "policy_kwargs": {"min_prob": 0.2},
        "algo_kwargs": {"n_steps": 8},
        "baseline": "ppo-small",
    }
    presets = out.parent / "edited.json"
    presets.write_text(json.dumps(edited))
    done = compare(out, presets)
    assert "4 finished, 4 already done, 4 failed, 4 retrained with changed settings" in done.stdout, done.stdout
    assert "retrained (settings changed): deepsea-6__ppo-small-floor__s0" in done.stdout
    result = json.loads((out / "runs" / "deepsea-6__ppo-small-floor__s0" / "result.json").read_text())
    assert result["settings"]["agent"]["algo"] == "a2c"
    assert result["settings"]["agent"]["policy_kwargs"] == {"min_prob": 0.2}
    assert "A2C, 20% floor" in (out / "report.md").read_text()


BAD_PRESETS = {
    "typo": {"algo": "ppo", "description": "", "algo_kwargs": {"n_step": 64}},
    "wrong-type": {"algo": "ppo", "description": "", "policy_kwargs": {"min_prob": "0.1"}},
    "floor-too-high": {"algo": "ppo", "description": "", "policy_kwargs": {"min_prob": 0.9}},
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--envs", "deepsea-7"], "unknown env 'deepsea-7': expected a suite name"),
        (["--agents", "ppo-flor"], "unknown agent 'ppo-flor'"),
        (["--seeds", "0"], "--seeds=0 is outside the allowed range"),
        (["--timesteps", "-5"], "--timesteps=-5 is outside the allowed range"),
        (["--bootstrap-reps", "0"], "--bootstrap-reps=0 is outside the allowed range"),
        (["--budget-scale", "inf"], "--budget-scale=inf is outside the allowed range"),
        (["--workers", "0"], "--workers=0 is outside the allowed range"),
        (["--backend", "spark"], "--backend='spark' is not one of"),
        (["--optimal", "CartPole-v1"], "'CartPole-v1' must be ENV=NUMBER"),
        (["--envs", "CartPole-v1", "--optimal", "Acrobot-v1=-75"], "references given for envs not in the grid"),
        (["--out", "{file}"], "is a file, not a folder"),
        (["--out", "{file}/sub"], "is not writable"),
        (["--agents", "typo", "--presets", "{presets}"], "agent 'typo': algo_kwargs: PPO has no argument 'n_step'"),
        (["--agents", "wrong-type", "--presets", "{presets}"], "min_prob='0.1' does not fit"),
        (["--agents", "floor-too-high", "--presets", "{presets}"], "'floor-too-high' on 'deepsea-6': min_prob=0.9"),
        (["--seeds", "1000000000000"], "--seeds=1000000000000 is outside the allowed range [1, 10000]"),
    ],
)
def test_bad_arguments_fail_in_one_line_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "presets.json").write_text(json.dumps({k: v for k, v in BAD_PRESETS.items() if k in args}))
    args = [a.format(file=tmp_path / "file", presets=tmp_path / "presets.json") for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "o")]
    done = run_compare(args, cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "o").exists()  # nothing created, nothing trained


def test_any_gymnasium_id_and_module_env_id_end_to_end(tmp_path: Path) -> None:
    """Issue 9, item 1: a registered id and a module:EnvId; measured random references cached in the folder."""
    out = tmp_path / "out"
    args = ["--envs", "CartPole-v1", "minigrid:MiniGrid-Empty-5x5-v0", "--agents", "ppo", "--seeds", "2"]
    args += ["--timesteps", "256", "--out", str(out), "--random-episodes", "30", "--optimal", "CartPole-v1=500"]
    args += ["--workers", "2", "--bootstrap-reps", "100", "--no-progress", "--no-metrics"]
    done = run_compare(args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 finished, 0 already done, 0 failed" in done.stdout
    references = json.loads((out / "references.json").read_text())
    assert set(references) == {"CartPole-v1", "minigrid:MiniGrid-Empty-5x5-v0"}
    cartpole = references["CartPole-v1"]
    assert cartpole["episodes"] == 30 and 10 < cartpole["mean"] < 40 and 0 < cartpole["se"] < 5
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 4
    for row in rows:
        if row["env"] == "CartPole-v1":  # normalized with the measured random and the given optimal
            expected = min(1.0, max(0.0, (float(row["final_return"]) - cartpole["mean"]) / (500 - cartpole["mean"])))
            assert float(row["final_score"]) == pytest.approx(expected)
        else:  # no optimal reference: raw returns only
            assert row["final_score"] == "nan" and float(row["final_return"]) >= 0.0
    report = (out / "report.md").read_text()
    assert "measured: 30 uniform-random episodes" in report
    assert "| `minigrid:MiniGrid-Empty-5x5-v0` | raw returns (no optimal reference)" in report
    assert "Mean final raw return per task" in report
    assert (out / "figures" / "task_curves.png").stat().st_size > 1000
    config = json.loads((out / "runs" / "minigrid-MiniGrid-Empty-5x5-v0__ppo__s0" / "config.json").read_text())
    assert config["env"]["wrappers"] == ["envs.external.minigrid.FastImgObsWrapper"]
    assert config["hyperparams"]["policy_kwargs"]["features_extractor_class"] == "rlfloor.networks.GridCNN"

    stamp = (out / "references.json").stat().st_mtime_ns
    again = run_compare(args, cwd=tmp_path)
    assert "0 finished, 4 already done, 0 failed" in again.stdout, again.stdout + again.stderr
    assert "cached" in again.stdout and (out / "references.json").stat().st_mtime_ns == stamp


def test_intrinsic_preset_left_out_where_it_cannot_observe_the_env(tmp_path: Path) -> None:
    """Exact counts cannot key CartPole's continuous observations: the pair is left out, named, before any work."""
    out = tmp_path / "out"
    args = ["--envs", "cartpole", "deepsea-6", "--agents", "ppo-count", "--seeds", "1", "--timesteps", "64"]
    args += ["--out", str(out), "--workers", "1", "--bootstrap-reps", "20", "--no-progress", "--no-metrics"]
    done = run_compare(args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left out cartpole x ppo-count: observation space" in done.stderr
    assert "exact counts cannot key it" in done.stderr
    assert "1 finished, 0 already done, 0 failed" in done.stdout
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["deepsea-6__ppo-count__s0"]
