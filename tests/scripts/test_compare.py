"""scripts/compare.py on a tiny grid: results, report, resume, and a failing run kept apart."""

from __future__ import annotations

import csv
import json
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
        "floored": True,
        "policy_kwargs": {"min_prob": 0.1},
        "algo_kwargs": {"n_steps": 64},
        "baseline": "ppo-small",
    },
    # min_prob=0.9 is invalid for 2 actions: every run of this preset raises in its worker
    "broken": {"algo": "ppo", "description": "fails", "floored": True, "policy_kwargs": {"min_prob": 0.9}},
}


def compare(out: Path, presets: Path) -> subprocess.CompletedProcess[str]:
    args = ["--envs", "deepsea-6", "switching-bandit", "--agents", "ppo-small", "ppo-small-floor", "broken"]
    args += ["--seeds", "2", "--timesteps", "384", "--out", str(out), "--presets", str(presets)]
    args += ["--workers", "2", "--bootstrap-reps", "300", "--no-progress"]
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out.parent,
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
    errors = sorted(out.glob("runs/*__broken__*/error.json"))
    assert len(errors) == 4
    assert "min_prob=0.9 is outside the allowed range" in json.loads(errors[0].read_text())["traceback"]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 8 and {r["agent"] for r in rows} == {"ppo-small", "ppo-small-floor"}
    curves = list(csv.DictReader((out / "curves.csv").open()))
    assert len(curves) == 8 * 20
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in curves)
    for name in ("interval_estimates", "performance_profiles", "sample_efficiency"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    assert list(out.glob("runs/deepsea-6__ppo-small__s0/tb/**/events.out.tfevents.*"))


def test_report_statistics_match_hand_computation(sweep: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = sweep
    rows = list(csv.DictReader((out / "results.csv").open()))
    report = (out / "report.md").read_text()
    assert "Failed runs" in report and "broken" in report
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


def test_bad_arguments_fail_before_running(tmp_path: Path) -> None:
    for args, message in [
        (["--envs", "deepsea-7"], "unknown suite entry 'deepsea-7'"),
        (["--agents", "ppo-flor"], "unknown agent 'ppo-flor'"),
        (["--seeds", "0"], "--seeds=0 must be >= 1"),
        (["--timesteps", "-5"], "--timesteps=-5 must be positive"),
    ]:
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "compare.py"), *args, "--out", str(tmp_path / "o")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
        assert not (tmp_path / "o" / "runs").exists() or not any((tmp_path / "o" / "runs").iterdir())
