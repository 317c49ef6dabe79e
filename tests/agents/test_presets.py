"""Every preset builds and learns briefly; user presets load from a file; bad names fail clearly."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest
from stable_baselines3.common.env_util import make_vec_env

from agents import PRESETS, AgentSpec, build_agent, get_agent, load_presets
from rlfloor.callbacks import AdaptiveEntropyCallback, EntropyScheduleCallback, FloorScheduleCallback
from rlfloor.policies import FlooredPolicyMixin
from tests.conftest import frozen_lake_masks

SHORT = {"ppo": {"n_steps": 32, "batch_size": 32, "n_epochs": 1}, "a2c": {"n_steps": 8}}


def make_env(spec: AgentSpec) -> object:
    if spec.uses_masks:
        from sb3_contrib.common.wrappers import ActionMasker

        return make_vec_env(lambda: ActionMasker(gym.make("FrozenLake-v1", is_slippery=False), frozen_lake_masks))
    if spec.intrinsic is not None and spec.intrinsic["method"] in ("count", "episodic-count", "noveld"):  # exact counts
        return make_vec_env("FrozenLake-v1", n_envs=2)
    return make_vec_env("CartPole-v1", n_envs=2)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_learns(name: str) -> None:
    spec = PRESETS[name]
    overrides = SHORT["a2c" if spec.algo == "a2c" else "ppo"]
    model, callbacks = build_agent(spec, make_env(spec), seed=0, overrides=overrides)  # type: ignore[arg-type]
    assert isinstance(model.policy, FlooredPolicyMixin) == spec.uses_rlfloor_policy
    assert any(isinstance(c, FloorScheduleCallback) for c in callbacks) == (spec.floor_anneal is not None)
    assert any(isinstance(c, EntropyScheduleCallback) for c in callbacks) == (spec.entropy_schedule is not None)
    assert any(isinstance(c, AdaptiveEntropyCallback) for c in callbacks) == (spec.entropy_target is not None)
    model.learn(64, callback=callbacks)
    assert model.num_timesteps >= 64
    if "min_prob" in spec.policy_kwargs:
        assert model.policy.min_prob == spec.policy_kwargs["min_prob"]
    if spec.baseline is not None:
        assert PRESETS[spec.baseline].baseline is None and PRESETS[spec.baseline].algo == spec.algo


def test_core_names_exist() -> None:
    for name in ("ppo", "a2c", "ppo-floor", "a2c-floor", "ppo-mask", "ppo-mask-floor", "ppo-ent-adaptive"):
        assert name in PRESETS


def test_unknown_agent_lists_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown agent 'ppo-flor'; known agents: a2c, a2c-count, a2c-ent"):
        get_agent("ppo-flor")


def test_user_presets_from_json(tmp_path: Path) -> None:
    path = tmp_path / "presets.json"
    path.write_text(
        json.dumps(
            {
                "ppo-floor-5": {
                    "algo": "ppo",
                    "description": "PPO, 5% floor",
                    "policy_kwargs": {"min_prob": 0.05},
                    "floor_anneal": None,
                    "baseline": "ppo",
                }
            }
        )
    )
    presets = load_presets(path)
    assert presets["ppo-floor-5"].policy_kwargs["min_prob"] == 0.05
    assert "ppo" in presets  # built-ins kept
    assert get_agent("ppo-floor-5", presets).baseline == "ppo"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"x": {"algo": "dqn", "description": ""}}, "algo='dqn' is not one of"),
        ({"x": {"algo": "ppo", "description": "", "lr": 1}}, r"unknown fields \['lr'\]"),
        ({"x": {"algo": "ppo", "description": "", "baseline": "nope"}}, "baseline 'nope' is not a known agent"),
        ({"x": {"algo": "ppo", "description": "", "entropy_target": 1.5}}, "entropy_target=1.5 must be in"),
        (
            {"x": {"algo": "ppo", "description": "", "policy": "stock", "floor_anneal": [0.1, 0.0]}},
            "policy='stock' cannot take floor_anneal",
        ),
        ({"x": {"algo": "ppo", "description": "", "algo_kwargs": {"n_step": 64}}}, "PPO has no argument 'n_step'"),
        ({"x": {"algo": "ppo", "description": "", "algo_kwargs": {"n_steps": "64"}}}, "n_steps='64' does not fit"),
        ({"x": {"algo": "a2c", "description": "", "policy_kwargs": {"min_prob": "0.4"}}}, "min_prob='0.4' does not"),
        ({"x": {"algo": "ppo", "description": "", "policy_kwargs": {"net_arch": "big"}}}, "net_arch='big' does not"),
        ({"x": {"algo": "ppo", "description": "", "policy_kwargs": {"min_prb": 0.1}}}, "no argument 'min_prb'"),
        ({"x": {"algo": "ppo", "description": "", "algo_kwargs": {"seed": 3}}}, r"\['seed'\] are set by rlfloor"),
        ({"x": {"algo": "ppo", "description": "", "policy_kwargs": [1]}}, r"policy_kwargs=\[1\] must be dict"),
        ({"x": {"algo": "ppo", "description": "", "floor_anneal": ["a", 0]}}, "must be \\[start, end\\] numbers"),
        # what LinearSchedule("0.1", ...) and AdaptiveEntropyCallback(target_fraction="0.3") would get, refused first
        ({"x": {"algo": "ppo", "description": "", "entropy_schedule": ["0.1", 0]}}, "entropy_schedule=\\['0.1', 0\\]"),
        ({"x": {"algo": "ppo", "description": "", "entropy_target": "0.3"}}, "entropy_target='0.3' must be int or"),
        ([1, 2], "must map preset names"),
    ],
)
def test_bad_user_presets(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=message):
        load_presets(path)


def test_rlfloor_policy_follows_from_the_settings() -> None:
    assert not PRESETS["ppo"].uses_rlfloor_policy and not PRESETS["ppo-ent-adaptive"].uses_rlfloor_policy
    for name in ("ppo-floor", "ppo-floor-anneal", "ppo-temp", "ppo-clip", "ppo-penalty", "ppo-mask-floor"):
        assert PRESETS[name].uses_rlfloor_policy, name
    assert AgentSpec("x", "ppo", "d", policy="rlfloor").uses_rlfloor_policy  # forced: a floor of 0


def test_the_old_floored_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps({"x": {"algo": "ppo", "description": "d", "floored": True}}))
    with pytest.raises(ValueError, match="unknown fields \\['floored'\\]"):
        load_presets(path)


def test_missing_or_broken_preset_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_presets(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_presets(tmp_path / "bad.json")
