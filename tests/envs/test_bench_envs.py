"""scripts/bench_envs.py runs end to end and reports every environment against CartPole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import envs
from envs import suite

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_envs.py"


def test_bench_envs_prints_every_env_with_a_ratio() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "300", "--repeats", "1", "--no-external"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"CartPole-v1", *envs.ENV_IDS}
    assert float(rows["CartPole-v1"][1]) == 1.0
    for rate, ratio in rows.values():
        assert float(rate.replace(",", "")) > 0 and float(ratio) > 0


def test_bench_envs_times_the_installed_external_tier() -> None:
    pytest.importorskip("minatar", reason="minatar is not installed: pip install -e '.[minatar]'")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "100", "--repeats", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = {line.split()[0] for line in result.stdout.splitlines()[1:]}
    assert {e.name for e in suite.select("minatar")} <= rows and "CartPole-v1" in rows


def test_bench_envs_rejects_non_positive_steps() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--steps", "0"], capture_output=True, text=True)
    assert result.returncode != 0 and "--steps" in result.stderr
