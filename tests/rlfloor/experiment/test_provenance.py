"""Provenance (issue 22, item 6): what a run's config.json records, and that it stays out of the run's key."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from agents import get_agent
from envs import resolve
from rlfloor.experiment import RunSettings, plan, train_run
from rlfloor.experiment.provenance import NUMERIC_PACKAGES, UNKNOWN, code_version, package_versions, provenance

ROOT = Path(__file__).resolve().parents[3]


def cartpole(name: str) -> resolve.ResolvedEnv:
    return resolve.resolve("CartPole-v1", {"CartPole-v1": {"random": 22.0, "optimal": 500.0}})


def test_config_of_a_short_real_run_records_provenance_outside_the_key(tmp_path: Path) -> None:
    settings = RunSettings("CartPole-v1", "ppo", timesteps=128, n_envs=1, metrics=False, tensorboard=False)
    run = plan(settings, cartpole, get_agent)
    key = run.key_settings()
    result = train_run(run, tmp_path, command="test")
    config = json.loads((tmp_path / "config.json").read_text())
    recorded = config["provenance"]
    assert set(recorded) >= {"code", "packages", "python", "torch", "platform"}
    assert recorded["torch"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert recorded["torch"]["num_threads"] == torch.get_num_threads() >= 1
    assert recorded["packages"]["torch"] == torch.__version__
    for name in ("stable-baselines3", "gymnasium", "numpy"):
        assert recorded["packages"][name].count(".") >= 1
    assert recorded["code"]["source"] == str(ROOT) and recorded["python"].startswith("3.")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if commit.returncode == 0:  # a git checkout (a wheel install would say "unknown")
        assert recorded["code"]["commit"] == commit.stdout.strip() and isinstance(recorded["code"]["dirty"], bool)
    # provenance is recorded, never keyed: the key of the same settings is unchanged by the run
    assert "provenance" not in json.dumps(key) and run.key_settings() == key
    # the result carries steps to solve (CartPole has both references here; 128 steps do not solve it)
    assert result["steps_to_solve"] == 128 and result["solved"] is False


def test_code_version_commit_dirty_and_unknown_outside_git(tmp_path: Path) -> None:
    assert code_version(tmp_path) == {"commit": UNKNOWN, "dirty": UNKNOWN, "source": str(tmp_path)}
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    clean = code_version(repo)
    assert clean["commit"] == git("rev-parse", "HEAD") and clean["dirty"] is False
    (repo / "results.csv").write_text("untracked files do not make the tree dirty\n")
    assert code_version(repo)["dirty"] is False
    (repo / "a.py").write_text("x = 2\n")
    assert code_version(repo)["dirty"] is True


def test_package_versions_name_the_installed_ones_only() -> None:
    versions = package_versions((*NUMERIC_PACKAGES, "no-such-distribution-rlfloor"))
    assert "no-such-distribution-rlfloor" not in versions
    assert {"torch", "stable-baselines3", "gymnasium", "numpy"} <= set(versions)
    assert provenance()["packages"] == package_versions()


def test_lock_pins_torch_first_and_every_package_exactly() -> None:
    lines = [line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines()]
    pins = [line for line in lines if line and not line.startswith("#")]
    assert all(line.count("==") == 1 and " " not in line for line in pins), pins
    names = {line.split("==")[0].lower().replace("_", "-") for line in pins}
    assert "torch==2.13.0" in pins and "rlfloor" not in names and "pip" not in names
    assert {"stable-baselines3", "sb3-contrib", "gymnasium", "numpy", "mkdocs", "mkdocs-material"} <= names
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()
