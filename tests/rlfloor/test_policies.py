"""The floored policies inside stock SB3 PPO and A2C and sb3-contrib MaskablePPO."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks import FloorScheduleCallback
from rlfloor.policies import FlooredActorCriticPolicy, FlooredMultiInputActorCriticPolicy
from rlfloor.schedules import LinearSchedule

SMALL_PPO = dict(n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")


def probs_on(model: Any, observations: np.ndarray, **kwargs: Any) -> th.Tensor:
    obs_tensor, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        return model.policy.get_distribution(obs_tensor, **kwargs).distribution.probs


def sample_observations(env: gym.Env, n: int = 64) -> np.ndarray:
    env.observation_space.seed(0)
    return np.stack([env.observation_space.sample() for _ in range(n)])


@pytest.mark.parametrize("algo", [PPO, A2C])
def test_learn_keeps_floor_on_cartpole(algo: type) -> None:
    env = gym.make("CartPole-v1")
    kwargs = SMALL_PPO if algo is PPO else dict(n_steps=8, seed=0, device="cpu")
    # A large learning rate pushes the logits hard; the floor must still hold.
    model = algo(FlooredActorCriticPolicy, env, learning_rate=0.05, policy_kwargs={"min_prob": 0.1}, **kwargs)
    model.learn(256)
    probs = probs_on(model, sample_observations(env) * 50)
    assert th.all(probs >= 0.1 - 1e-6)
    assert th.allclose(probs.sum(-1), th.ones(len(probs)), atol=1e-6)


def test_zero_floor_trains_like_stock_ppo() -> None:
    # Each model is built (which seeds torch's global RNG) and trained before the next one.
    stock = PPO("MlpPolicy", gym.make("CartPole-v1"), **SMALL_PPO)
    stock.learn(256)
    floored = PPO(FlooredActorCriticPolicy, gym.make("CartPole-v1"), policy_kwargs={"min_prob": 0.0}, **SMALL_PPO)
    floored.learn(256)
    assert np.array_equal(stock.rollout_buffer.actions, floored.rollout_buffer.actions)
    for a, b in zip(stock.policy.parameters(), floored.policy.parameters(), strict=True):
        assert th.equal(a, b)  # min_prob=0 is SB3's categorical, bit for bit


def test_save_load_round_trips_every_setting(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1")
    kwargs = dict(
        min_prob=LinearSchedule(0.2, 0.05),
        temperature=1.5,
        logit_clip=4.0,
        center_logits=True,
        logit_penalty=0.01,
        logit_penalty_bound=3.0,
        net_arch=[16],
    )
    model = PPO(FlooredActorCriticPolicy, env, policy_kwargs=kwargs, **SMALL_PPO)
    model.learn(128, callback=FloorScheduleCallback())
    model.policy.set_floor(0.123)
    model.save(tmp_path / "model.zip")
    loaded = PPO.load(tmp_path / "model.zip", device="cpu")
    assert isinstance(loaded.policy, FlooredActorCriticPolicy)
    assert loaded.policy.min_prob == pytest.approx(0.123)
    assert loaded.policy.action_dist.min_prob == pytest.approx(0.123)
    assert loaded.policy.floor_schedule == LinearSchedule(0.2, 0.05)
    assert loaded.policy.floor_settings == model.policy.floor_settings
    params = loaded.policy._get_constructor_parameters()
    for key, value in kwargs.items():
        assert params.get(key, loaded.policy_kwargs.get(key)) == value
    obs = sample_observations(env)
    assert th.allclose(probs_on(model, obs), probs_on(loaded, obs))
    # the policy alone round-trips too
    model.policy.save(str(tmp_path / "policy.pt"))
    alone = FlooredActorCriticPolicy.load(str(tmp_path / "policy.pt"))
    assert alone.min_prob == pytest.approx(0.123) and alone.floor_settings == model.policy.floor_settings


def test_floor_schedule_follows_progress() -> None:
    env = gym.make("CartPole-v1")
    seen: list[float] = []

    class Record(BaseCallback):
        def _on_rollout_end(self) -> None:
            seen.append(self.model.policy.min_prob)

        def _on_step(self) -> bool:
            return True

    model = PPO(FlooredActorCriticPolicy, env, policy_kwargs={"min_prob": LinearSchedule(0.3, 0.0)}, **SMALL_PPO)
    model.learn(320, callback=[FloorScheduleCallback(), Record()])
    assert seen[0] == pytest.approx(0.3)
    assert all(a > b for a, b in itertools.pairwise(seen))
    assert seen[-1] == 0.0  # the last rollout uses the schedule's end value (see rlfloor.schedules)


def test_undriven_schedule_warns() -> None:
    model = PPO(
        FlooredActorCriticPolicy,
        gym.make("CartPole-v1"),
        policy_kwargs={"min_prob": LinearSchedule(0.3, 0.0)},
        **SMALL_PPO,
    )
    with pytest.warns(UserWarning, match="FloorScheduleCallback"):
        model.learn(64)


def test_constant_floor_does_not_warn() -> None:
    model = PPO(FlooredActorCriticPolicy, gym.make("CartPole-v1"), policy_kwargs={"min_prob": 0.1}, **SMALL_PPO)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.learn(64)


def test_box_actions_std_floor() -> None:
    env = gym.make("Pendulum-v1")
    model = A2C(
        FlooredActorCriticPolicy,
        env,
        policy_kwargs={"min_std": 0.4, "log_std_init": -5.0},
        n_steps=8,
        seed=0,
        device="cpu",
    )
    model.learn(64)
    obs_tensor, _ = model.policy.obs_to_tensor(sample_observations(env))
    with th.no_grad():
        std = model.policy.get_distribution(obs_tensor).distribution.stddev
    assert th.all(std >= 0.4)
    assert th.allclose(std, th.full_like(std, 0.4 + np.exp(-5.0)), atol=1e-3)


def test_multidiscrete_and_dict_observations() -> None:
    class DictMultiEnv(gym.Env):
        observation_space = spaces.Dict({"a": spaces.Box(-1, 1, (3,)), "b": spaces.Discrete(4)})
        action_space = spaces.MultiDiscrete([3, 5])

        def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
            super().reset(seed=seed)
            return self.observation_space.sample(), {}

        def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict]:
            return self.observation_space.sample(), float(action[0] == 2), False, False, {}

    env = gym.wrappers.TimeLimit(DictMultiEnv(), 20)
    model = PPO(FlooredMultiInputActorCriticPolicy, env, policy_kwargs={"min_prob": 0.15}, **SMALL_PPO)
    model.learn(128)
    obs = {"a": np.zeros((5, 3), dtype=np.float32), "b": np.arange(5) % 4}
    obs_tensor, _ = model.policy.obs_to_tensor(obs)
    with th.no_grad():
        dist = model.policy.get_distribution(obs_tensor)
    for sub in dist.distribution:
        assert th.all(sub.probs >= 0.15 - 1e-6)


@pytest.mark.parametrize(
    ("action_space", "policy_kwargs", "message"),
    [
        (spaces.Tuple([spaces.Discrete(2)]), {}, "supports Discrete, MultiDiscrete, MultiBinary, Box"),
        (
            spaces.Discrete(4),
            {"min_prob": 0.25},
            r"min_prob=0\.25 is outside the allowed range \[0, 0\.25\) = \[0, 1/4\)",
        ),
        (spaces.Discrete(4), {"min_prob": -0.1}, r"min_prob=-0\.1"),
        (spaces.Discrete(4), {"min_prob": float("nan")}, "min_prob=nan"),
        (spaces.Discrete(4), {"min_prob": LinearSchedule(0.5, 0.0)}, r"min_prob=0\.5"),
        (spaces.Discrete(4), {"min_std": 0.1}, "min_std=0.1 applies to Box actions"),
        (spaces.Box(-1, 1, (2,)), {"min_prob": 0.1}, "min_prob=0.1 applies to Discrete"),
        (spaces.Box(-1, 1, (2,)), {"min_std": -1.0}, r"min_std=-1\.0 is outside the allowed range"),
        (spaces.Box(-1, 1, (2,)), {"temperature": 2.0}, "need discrete actions"),
        (spaces.Discrete(4), {"temperature": -1.0}, "temperature=-1.0"),
    ],
)
def test_bad_configuration_is_a_clear_error(
    action_space: spaces.Space, policy_kwargs: dict[str, Any], message: str
) -> None:
    observation_space = spaces.Box(-1, 1, (3,))
    with pytest.raises(ValueError, match=message):
        FlooredActorCriticPolicy(observation_space, action_space, lambda _: 3e-4, **policy_kwargs)


def test_set_floor_is_validated() -> None:
    policy = FlooredActorCriticPolicy(spaces.Box(-1, 1, (3,)), spaces.Discrete(5), lambda _: 3e-4, min_prob=0.1)
    with pytest.raises(ValueError, match=r"min_prob=0\.2 is outside the allowed range \[0, 0\.2\) = \[0, 1/5\)"):
        policy.set_floor(0.2)
    assert policy.min_prob == pytest.approx(0.1)


def test_logit_penalty_is_recorded_during_training() -> None:
    env = gym.make("CartPole-v1")
    model = PPO(
        FlooredActorCriticPolicy,
        env,
        policy_kwargs={"logit_penalty": 1.0, "logit_penalty_bound": 1e-3},
        **SMALL_PPO,
    )
    assert model.policy.pop_logit_penalty() is None
    model.learn(64)
    penalty = model.policy.pop_logit_penalty()
    assert penalty is not None and penalty > 0


def test_uniform_mix_is_min_prob_over_k_and_is_saved(tmp_path: Path) -> None:
    """DreamerV3's unimix / Exp3's gamma: (1 - g) softmax + g / K, i.e. min_prob = g / K."""
    obs_space = spaces.Box(-1, 1, (3,))
    mixed = FlooredActorCriticPolicy(obs_space, spaces.Discrete(4), lambda _: 3e-4, uniform_mix=0.01)
    assert mixed.min_prob == pytest.approx(0.0025) and mixed.uniform_mix == pytest.approx(0.01)
    assert mixed.n_actions == 4 and mixed.max_floor == pytest.approx(0.25)
    logits = th.tensor([[3.0, -1e4, 0.5, 1e4]])
    probs = mixed.action_dist.proba_distribution(logits).distribution.probs
    expected = 0.99 * th.softmax(logits.double(), -1) + 0.01 / 4
    assert th.allclose(probs.double(), expected, atol=1e-7)
    # MultiDiscrete: K is the largest sub-space; MultiBinary: K = 2 per bit
    multi = FlooredActorCriticPolicy(obs_space, spaces.MultiDiscrete([3, 5]), lambda _: 3e-4, uniform_mix=0.1)
    assert multi.min_prob == pytest.approx(0.02)
    bits = FlooredActorCriticPolicy(obs_space, spaces.MultiBinary(3), lambda _: 3e-4, uniform_mix=0.1)
    assert bits.min_prob == pytest.approx(0.05)
    # saved with the model, and a schedule of the mixing weight works
    model = PPO(
        FlooredActorCriticPolicy,
        gym.make("CartPole-v1"),
        policy_kwargs={"uniform_mix": LinearSchedule(0.2, 0.0)},
        **SMALL_PPO,
    )
    assert model.policy.min_prob == pytest.approx(0.1)
    model.learn(128, callback=FloorScheduleCallback())
    assert model.policy.min_prob == pytest.approx(0.0)  # the schedule's end value is in force after learn()
    model.policy.set_floor(0.03)  # a floor in force other than the start value, to see it saved
    model.save(tmp_path / "m.zip")
    loaded = PPO.load(tmp_path / "m.zip", device="cpu")
    assert loaded.policy._get_constructor_parameters()["uniform_mix"] == LinearSchedule(0.2, 0.0)
    assert loaded.policy.min_prob == pytest.approx(model.policy.min_prob)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"uniform_mix": 0.01, "min_prob": 0.01}, "two ways to give the same floor"),
        ({"uniform_mix": 1.0}, r"uniform_mix=1\.0 is outside the allowed range \[0, 1\)"),
        ({"uniform_mix": "0.1"}, "uniform_mix='0.1' must be a number"),
    ],
)
def test_uniform_mix_is_validated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FlooredActorCriticPolicy(spaces.Box(-1, 1, (3,)), spaces.Discrete(4), lambda _: 3e-4, **kwargs)
    with pytest.raises(ValueError, match="use min_std"):
        FlooredActorCriticPolicy(spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (2,)), lambda _: 3e-4, uniform_mix=0.1)


def test_the_floor_settings_are_declared_once() -> None:
    """The policies' keyword parameters, docstrings and saved arguments all come from FloorSettings."""
    import dataclasses
    import inspect

    from rlfloor.contrib.policies import FlooredMaskableActorCriticPolicy
    from rlfloor.settings import FLOOR_KWARGS, FLOOR_KWARGS_DOC, FloorSettings

    assert tuple(f.name for f in dataclasses.fields(FloorSettings)) == FLOOR_KWARGS and len(FLOOR_KWARGS) == 8
    for cls in (FlooredActorCriticPolicy, FlooredMaskableActorCriticPolicy):
        keywords = [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY]
        assert tuple(keywords) == FLOOR_KWARGS
        assert all(f":param {name}:" in (cls.__doc__ or "") for name in FLOOR_KWARGS)
    assert FLOOR_KWARGS_DOC.count(":param ") == len(FLOOR_KWARGS) + 1  # and **kwargs
    model = PPO(FlooredActorCriticPolicy, "CartPole-v1", policy_kwargs={"temperature": 2.0}, device="cpu")
    saved = model.policy._get_constructor_parameters()
    assert {k: saved[k] for k in FLOOR_KWARGS} == {**FloorSettings().as_kwargs(), "temperature": 2.0}
