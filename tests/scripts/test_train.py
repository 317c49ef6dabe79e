"""scripts/train.py end to end, as a user runs it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from stable_baselines3 import PPO

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
                    "floored": True,
                    "policy_kwargs": {"min_prob": 0.1},
                    "algo_kwargs": {"n_steps": 128, "batch_size": 64},
                }
            }
        )
    )
    args = ["--env", "deepsea-6", "--agent", "ppo-floor-small", "--timesteps", "768", "--presets", str(presets)]
    args += ["--eval-episodes", "3", "--checkpoint-freq", "256", "--out", str(tmp_path / "runs"), "--no-progress-bar"]
    done = run_script("train.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "deepsea-6__ppo-floor-small__s0"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["train"]["timesteps"] == 768 and config["agent"]["policy_kwargs"] == {"min_prob": 0.1}
    assert config["env"]["suite"]["env_id"] == "rlfloor/DeepSea-v1"
    result = json.loads((run_dir / "result.json").read_text())
    assert result["episodes"] == 768 // 6  # DeepSea episodes last exactly N steps
    assert 0.0 <= result["final_score"] <= 1.0 and 0.0 <= result["eval_score"] <= 1.0
    assert len(result["curve"]["score"]) == 20 and result["curve"]["steps"][-1] == 768
    assert list((run_dir / "tb").rglob("events.out.tfevents.*")), "no TensorBoard event file"
    assert len(list((run_dir / "checkpoints").glob("model_*_steps.zip"))) == 3
    model = PPO.load(run_dir / "model.zip", device="cpu")
    assert model.policy.min_prob == 0.1
    assert "final_score" in done.stdout


def test_help_documents_every_option(tmp_path: Path) -> None:
    done = run_script("train.py", "--help", cwd=tmp_path)
    assert done.returncode == 0
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from train import TrainConfig
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    help_text = " ".join(done.stdout.split())
    for field in dataclasses.fields(TrainConfig):
        assert f"--{field.name.replace('_', '-')}" in help_text
        assert " ".join(field.metadata["help"].split()) in help_text, field.name


def test_unknown_env_and_incompatible_agent_fail_clearly(tmp_path: Path) -> None:
    done = run_script("train.py", "--env", "DeepSee-v0", "--no-progress-bar", cwd=tmp_path)
    assert done.returncode != 0
    assert "unknown env 'DeepSee-v0'" in done.stderr and "deepsea-6" in done.stderr
    done = run_script("train.py", "--env", "masked-grid", "--agent", "ppo", cwd=tmp_path)
    assert done.returncode != 0 and "ignores masks" in done.stderr
    done = run_script("train.py", "--agent", "nope", cwd=tmp_path)
    assert done.returncode != 0 and "known agents:" in done.stderr
