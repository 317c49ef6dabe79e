"""Intrinsic presets: a short real learn() with PPO, A2C and MaskablePPO, metrics logged, bad input refused."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure

from agents import AgentSpec, build_agent, get_agent
from envs import suite
from rlfloor.intrinsic import IntrinsicRewardCallback
from rlfloor.schedules import LinearSchedule

INTRINSIC_PRESETS = [
    "ppo-count", "ppo-count-full", "ppo-simhash", "ppo-rnd", "a2c-count", "a2c-rnd", "ppo-rnd-floor", "ppo-mask-count"
]  # fmt: skip


def logged_rows(path: Path) -> list[dict[str, str]]:
    with open(path / "progress.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", INTRINSIC_PRESETS)
def test_preset_learns_and_logs_intrinsic_metrics(name: str, tmp_path: Path) -> None:
    spec = get_agent(name)
    assert spec.intrinsic is not None and spec.to_dict()["intrinsic"] == dict(spec.intrinsic)
    env_name = "masked-grid" if spec.uses_masks else "deepsea-6"
    env = make_vec_env(lambda: suite.make(env_name), n_envs=2, seed=0)
    overrides: dict[str, Any] = {"n_steps": 32} if spec.algo == "a2c" else {"n_steps": 32, "batch_size": 32}
    model, callbacks = build_agent(spec, env, seed=0, overrides=overrides)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(256, callback=callbacks, log_interval=1)  # the first rollouts come before beta is annealed away
    rows = logged_rows(tmp_path)
    first, last = rows[0], rows[-1]
    method = spec.intrinsic["method"]
    for key in ("intrinsic/reward_raw", "intrinsic/reward", "intrinsic/share", "intrinsic/coef"):
        assert last[key] != "", key
    assert 0.0 < float(first["intrinsic/share"]) <= 1.0  # (an annealed coef is 0 at the very end)
    assert (last.get("intrinsic/predictor_loss", "") != "") == (method == "rnd")
    assert (last.get("intrinsic/distinct_states", "") != "") == (method != "rnd")
    assert "intrinsic/coverage" not in last  # a one-hot Box of unknown reachable size: no coverage
    if method != "rnd":  # the count bonus is beta / sqrt(N) with beta in force, no normalization
        assert 0.0 < float(last["intrinsic/reward_raw"]) <= 1.0  # 1/sqrt(N)
        assert float(last["intrinsic/reward"]) == float(last["intrinsic/reward_raw"])


def test_coverage_is_logged_where_the_number_of_states_is_known(tmp_path: Path) -> None:
    env = gym.make("FrozenLake-v1", is_slippery=False)  # Discrete(16) observations
    model: Any = PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(128, callback=IntrinsicRewardCallback(method="count", coef=0.1), log_interval=1)
    table = model.intrinsic_state.novelty
    last = logged_rows(tmp_path)[-1]
    assert float(last["intrinsic/coverage"]) == pytest.approx(table.distinct / 16)
    assert 1 < table.distinct <= 16


def test_annealed_coefficient_reaches_its_end() -> None:
    env = suite.make("deepsea-6")
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    callback = IntrinsicRewardCallback(method="count", coef=(0.4, 0.0))
    assert isinstance(callback.coef, LinearSchedule)
    model.learn(128, callback=callback)
    assert callback.coef(1.0) == 0.4 and callback.coef(0.5) == pytest.approx(0.2)
    assert model.logger.name_to_value["intrinsic/coef"] == pytest.approx(0.0)  # the last rollout ends at progress 0


def test_count_presets_anneal_over_half_and_over_the_whole_run() -> None:
    env = suite.make("deepsea-6")
    for name, at_half in (("ppo-count", 0.0), ("ppo-count-full", 0.05)):
        _, callbacks = build_agent(get_agent(name), env, seed=0)
        (callback,) = [c for c in callbacks if isinstance(c, IntrinsicRewardCallback)]
        # progress_remaining runs 1 -> 0: 1 at the start, 0.5 at half the run, 0 at its end
        assert callback.coef(1.0) == pytest.approx(0.1), name
        assert callback.coef(0.5) == pytest.approx(at_half), name
        assert callback.coef(0.0) == pytest.approx(0.0), name


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"coef": -0.1}, "coef=-0.1 is outside the allowed range"),
        ({"coef": (0.1, -0.2)}, r"coef=-0\.2 is outside the allowed range \[0, inf\) \(the schedule LinearSchedule"),
        ({"ext_coef": -1.0}, "ext_coef=-1.0"),
        ({"method": "icm"}, "method='icm' is not one of"),
        ({"method": "count", "method_kwargs": {"bits": 8}}, "not accepted by 'count'"),
        ({"method": "count", "method_kwargs": {"max_states": 0}}, r"^method_kwargs\['max_states'\]=0 is outside"),
        ({"method": "noveld", "method_kwargs": {"alpha": -0.5}}, r"^method_kwargs\['alpha'\]=-0.5 is outside"),
        ({"method": "e3b", "method_kwargs": {"ridge": 0.0}}, r"^method_kwargs\['ridge'\]=0.0 is outside"),
        ({"method": "episodic-count", "method_kwargs": {"obs_key": 3}}, r"^method_kwargs\['obs_key'\]=3 must be"),
        ({"method": "e3b", "method_kwargs": {"alpha": 0.5}}, r"^method_kwargs \['alpha'\] are not accepted by 'e3b'"),
        ({"method": "e3b", "normalize": "std"}, r"^normalize='std' must be None or one of"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match) as error:
        IntrinsicRewardCallback(**kwargs)
    assert "\n" not in str(error.value)  # one line


def test_bad_preset_settings_fail_when_the_preset_is_made() -> None:
    with pytest.raises(ValueError, match=r"agent 'x'.*coef=-1"):
        AgentSpec("x", "ppo", "bad", intrinsic={"method": "count", "coef": -1.0})
    with pytest.raises(ValueError, match=r"agent 'x'.*unexpected keyword"):
        AgentSpec("x", "ppo", "bad", intrinsic={"method": "count", "beta": 0.1})


class GridObsEnv(gym.Env[Any, int]):
    """A 2-d Box observation: SB3's MlpPolicy flattens it, RND has no network for it."""

    observation_space = spaces.Box(0, 1, (2, 3), np.float32)
    action_space = spaces.Discrete(2)  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("agent", "make_env", "match"),
    [
        ("ppo-count", lambda: gym.make("CartPole-v1"), "^observation space Box.*continuous.*use method='simhash'"),
        ("ppo-rnd", GridObsEnv, "not supported by RND"),
    ],
)
def test_unsupported_observation_space_fails_in_build_agent(agent: str, make_env: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_agent(get_agent(agent), make_vec_env(make_env, n_envs=1), 0)


@pytest.mark.parametrize("method", ["count", "simhash", "rnd"])
def test_dict_observations_are_refused(method: str) -> None:
    from rlfloor.intrinsic import check_observation_space

    with pytest.raises(ValueError, match="not supported"):
        check_observation_space(method, spaces.Dict({"a": spaces.Discrete(2)}))


def test_count_on_an_image_too_large_for_exact_counts() -> None:
    from rlfloor.intrinsic import check_observation_space

    with pytest.raises(ValueError, match=r"more than exact counts accept.*simhash"):
        check_observation_space("count", spaces.Box(0, 255, (84, 84, 3), np.uint8))
    check_observation_space("simhash", spaces.Box(0, 255, (84, 84, 3), np.uint8))


def test_user_preset_with_an_intrinsic_bonus_from_json(tmp_path: Path) -> None:
    from agents import load_presets

    path = tmp_path / "presets.json"
    path.write_text(
        '{"ppo-count-02": {"algo": "ppo", "description": "PPO + count 0.2 -> 0", "baseline": "ppo",'
        ' "intrinsic": {"method": "count", "coef": [0.2, 0.0]}}}'
    )
    spec = load_presets(path)["ppo-count-02"]
    callback = IntrinsicRewardCallback(**spec.intrinsic)  # type: ignore[arg-type]
    assert callback.coef(1.0) == 0.2 and callback.coef(0.0) == 0.0
    assert spec.to_dict()["intrinsic"] == {"method": "count", "coef": [0.2, 0.0]}
