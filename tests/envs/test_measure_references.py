"""scripts/measure_references.py runs end to end and writes what the suite stores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envs.references import mean_and_se, random_episode_returns
from envs.suite import make

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "measure_references.py"


def test_measure_references_prints_and_writes_the_numbers(tmp_path: Path) -> None:
    pytest.importorskip("minigrid", reason="minigrid is not installed: pip install -e '.[minigrid]'")
    out = tmp_path / "refs.json"
    args = ["--names", "cartpole", "minigrid-doorkey-5", "--episodes", "5", "--optimal", "--layouts", "2"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--out", str(out)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "RANDOM_REFERENCES = {" in done.stdout and "MINIGRID_OPTIMAL = {" in done.stdout
    results = json.loads(out.read_text())
    expected, expected_se = mean_and_se(random_episode_returns(make("cartpole"), 5))
    assert results["cartpole"] == {"random_return": expected, "random_return_se": expected_se, "random_episodes": 5}
    doorkey = results["minigrid-doorkey-5"]
    assert doorkey["layouts"] == 2 and 0.9 < doorkey["optimal_return"] < 1.0
    assert "optimal_return" not in results["cartpole"]


def test_measure_references_rejects_bad_counts() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--episodes", "0"], capture_output=True, text=True)
    assert done.returncode != 0 and "--episodes" in done.stderr
