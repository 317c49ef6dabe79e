"""scripts/train.py end to end, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stable_baselines3 import PPO

from envs.suite import get_entry

ROOT = Path(__file__).resolve().parents[2]


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_train_end_to_end(tmp_path: Path) -> None:
    presets = tmp_path / "presets.json"
    presets.write_text(
        json.dumps(
            {
                "ppo-floor-small": {
                    "algo": "ppo",
                    "description": "small PPO with a 10% floor",
                    "policy_kwargs": {"min_prob": 0.1},
                    "algo_kwargs": {"n_steps": 128, "batch_size": 64},
                }
            }
        )
    )
    args = ["--env", "deepsea-6", "--agent", "ppo-floor-small", "--timesteps", "768", "--presets", str(presets)]
    args += ["--eval-episodes", "3", "--checkpoint-freq", "256", "--out", str(tmp_path / "runs"), "--no-progress-bar"]
    args += ["--n-envs", "1"]  # over the probe's 4 env copies, so the run is exactly 768 steps
    done = run_script("train.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "deepsea-6__ppo-floor-small__s0"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["run"]["timesteps"] == 768 and config["agent"]["policy_kwargs"] == {"min_prob": 0.1}
    assert config["env"]["env_id"] == "rlfloor/DeepSea-v1" and config["env"]["references"] == "suite"
    # the probe's stock PPO settings first, the preset's own over them
    probe = {k: v for k, v in get_entry("deepsea-6").hyperparams["ppo"].items() if k != "n_envs"}
    expected = {**probe, "n_steps": 128, "batch_size": 64}
    assert config["hyperparams"] == {"algo_kwargs": expected, "n_envs": 1, "normalize": False}
    result = json.loads((run_dir / "result.json").read_text())
    assert result["episodes"] == 768 // 6  # DeepSea episodes last exactly N steps
    assert 0.0 <= result["final_score"] <= 1.0 and 0.0 <= result["eval_score"] <= 1.0
    assert len(result["curve"]["score"]) == 20 and result["curve"]["steps"][-1] == 768
    assert list((run_dir / "tb").rglob("events.out.tfevents.*")), "no TensorBoard event file"
    assert len(list((run_dir / "checkpoints").glob("model_*_steps.zip"))) == 3
    model = PPO.load(run_dir / "model.zip", device="cpu")
    assert model.policy.min_prob == 0.1
    assert "final_score" in done.stdout


def test_timesteps_zero_is_an_error_not_the_suite_budget(tmp_path: Path) -> None:
    """Issue 12, reliability 3."""
    for value in ("0", "-3"):
        done = run_script("train.py", "--timesteps", value, "--out", str(tmp_path / "runs"), cwd=tmp_path)
        assert done.returncode != 0
        assert done.stderr.strip() == f"error: timesteps={value} is outside the allowed range [1, inf)"
    assert not (tmp_path / "runs").exists()


def test_gymnasium_id_with_given_references(tmp_path: Path) -> None:
    args = ["--env", "CartPole-v1", "--agent", "a2c", "--timesteps", "200", "--random-return", "22.2"]
    args += ["--optimal-return", "500", "--eval-episodes", "0", "--out", str(tmp_path), "--no-progress-bar"]
    done = run_script("train.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "CartPole-v1__a2c__s0" / "result.json").read_text())
    expected = (result["final_return"] - 22.2) / (500 - 22.2)
    assert abs(result["final_score"] - min(1.0, max(0.0, expected))) < 1e-9
    assert result["settings"]["env"]["optimal_return"] == 500.0


def test_unknown_env_and_incompatible_agent_fail_clearly(tmp_path: Path) -> None:
    done = run_script("train.py", "--env", "DeepSee-v0", "--no-progress-bar", cwd=tmp_path)
    assert done.returncode != 0
    assert "unknown env 'DeepSee-v0'" in done.stderr and "deepsea-6" in done.stderr and "module:EnvId" in done.stderr
    done = run_script("train.py", "--env", "masked-grid", "--agent", "ppo", cwd=tmp_path)
    assert done.returncode != 0 and "ignores masks" in done.stderr
    done = run_script("train.py", "--agent", "nope", cwd=tmp_path)
    assert done.returncode != 0 and "known agents:" in done.stderr


def test_no_run_is_lost_to_another(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 22 item 4: presets whose names differ only in non-ASCII characters, and a rerun with another
    ``--timesteps``, each keep their own folder; the same command again reuses the finished run."""
    from rlfloor_cli.train import main

    presets = tmp_path / "presets.json"
    floors = {"ppo-ü": 0.1, "ppo-é": 0.05}
    spec = {name: {"algo": "ppo", "description": name, "policy_kwargs": {"min_prob": m}} for name, m in floors.items()}
    presets.write_text(json.dumps(spec))
    out = tmp_path / "runs"
    common = ["--env", "deepsea-6", "--presets", str(presets), "--out", str(out), "--no-progress-bar"]
    common += ["--eval-episodes", "0", "--no-save-model", "--no-metrics"]
    for agent, timesteps in [("ppo-ü", 256), ("ppo-é", 256), ("ppo-ü", 512)]:
        main([*common, "--agent", agent, "--timesteps", str(timesteps)])
    assert capsys.readouterr().out.count("holds a run of other settings; kept") == 1  # the 512-step run
    results = {path.parent.name: json.loads(path.read_text()) for path in out.glob("*/result.json")}
    assert sorted((r["agent"], r["timesteps"]) for r in results.values()) == [
        ("ppo-é", 256),
        ("ppo-ü", 256),
        ("ppo-ü", 512),
    ]
    for folder, result in results.items():
        config = json.loads((out / folder / "config.json").read_text())
        assert config["agent"]["name"] == result["agent"] and config["run"]["timesteps"] == result["timesteps"]
        assert (out / folder / ".key").read_text().strip() == result["key"]
    first = next(out.glob("deepsea-6__ppo-*__s0/result.json"))
    before = first.read_bytes()
    main([*common, "--agent", json.loads(before)["agent"], "--timesteps", str(json.loads(before)["timesteps"])])
    assert "finished before with these settings" in capsys.readouterr().out
    assert first.read_bytes() == before and len(list(out.iterdir())) == 3  # reused: nothing retrained or added


def test_a_folder_in_training_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second ``train.py`` on the run another one is training is refused in one line, not run into it."""
    from filelock import FileLock

    from rlfloor_cli.train import main

    run_dir = tmp_path / "deepsea-6__ppo__s0"
    run_dir.mkdir()
    with FileLock(run_dir / ".lock"), pytest.raises(SystemExit) as exit_:
        main(["--env", "deepsea-6", "--agent", "ppo", "--timesteps", "64", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert (
        capsys.readouterr().err.strip()
        == f"error: run folder {str(run_dir)!r} is being trained by another process; wait for it"
    )
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock"]
