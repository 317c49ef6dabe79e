"""Issue 22, items 3 and 7: tasks without references are reported on raw returns; an optimal reference at or below
the random one is refused in one line, before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agents import get_agent
from envs import resolve
from rlfloor.experiment import RunSettings, plan, report

ROOT = Path(__file__).resolve().parents[3]


def run_script(script: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_score_matrices_of_no_task_are_empty_not_an_error() -> None:
    rows = [{"env": "CartPole-v1", "agent": "ppo", "seed": 0, "final_score": float("nan")}]
    scores, tasks = report.score_matrices(rows, "final_score", ["ppo"], [])
    assert tasks == [] and scores["ppo"].shape == (0, 0)
    scores, tasks = report.score_matrices(rows, "final_score", ["ppo", "a2c"], ["CartPole-v1"])  # a2c ran nothing
    assert tasks == [] and scores["a2c"].shape == (0, 0)
    scores, tasks = report.score_matrices(rows * 1, "final_score", ["ppo"], ["CartPole-v1"])
    assert tasks == ["CartPole-v1"] and scores["ppo"].shape == (1, 1) and np.isnan(scores["ppo"][0, 0])


def test_compare_on_a_gymnasium_id_without_optimal_reports_raw_returns(tmp_path: Path) -> None:
    pytest.importorskip("rliable")
    out = tmp_path / "out"
    args = ["--envs", "CartPole-v1", "--agents", "ppo", "--seeds", "1", "--timesteps", "256"]
    args += ["--out", str(out), "--random-episodes", "20", "--workers", "1", "--bootstrap-reps", "50"]
    args += ["--no-progress", "--no-metrics"]
    done = run_script("compare.py", args, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (out / "report.md").read_text()
    assert "| `CartPole-v1` | raw returns (no optimal reference)" in text
    assert "### Mean final raw return per task" in text and "| `ppo` |" in text
    assert "## Aggregate" not in text and "Steps to solve" not in text  # no normalized aggregate for raw tasks


@pytest.mark.parametrize("optimal", [22.2, 5.0])
def test_optimal_at_or_below_random_refused_by_the_env_and_the_run_plan(optimal: float) -> None:
    with pytest.raises(ValueError, match=r"optimal reference .* must exceed the random one"):
        resolve.resolve("deepsea-6", {"deepsea-6": {"optimal": -1.0}})  # the suite's random with a given optimal
    with pytest.raises(ValueError, match=r"optimal reference .* must exceed the random one"):
        resolve.ResolvedEnv("x", "CartPole-v1", random_return=22.2, optimal_return=optimal)

    class Env:  # any EnvLike handed to the library
        name, budget, action_masks, hyperparams = "cp", None, False, {}
        random_return, optimal_return = 22.2, optimal

        def record(self) -> dict[str, object]:
            return {}

    with pytest.raises(ValueError, match=r"env 'cp': optimal reference .* must exceed the random one 22.2"):
        plan(RunSettings("cp", "ppo", timesteps=64), lambda name: Env(), get_agent)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("train.py", ["--env", "deepsea-6", "--optimal-return", "-5"]),
        ("compare.py", ["--envs", "deepsea-6", "--optimal", "deepsea-6=0"]),
    ],
)
def test_scripts_refuse_optimal_at_or_below_random_in_one_line(tmp_path: Path, script: str, args: list[str]) -> None:
    done = run_script(script, [*args, "--out", str(tmp_path / "o")], tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "must exceed" in lines[0] and not (tmp_path / "o").exists()
