"""Entropy control: scheduled and adaptive coefficients in stock PPO, A2C and MaskablePPO."""

from __future__ import annotations

import math
from collections.abc import Callable

import gymnasium as gym
import pytest
from gymnasium import spaces
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks.entropy import (
    AdaptiveEntropyCallback,
    EntropyScheduleCallback,
    floor_entropy_fraction,
    max_entropy,
)
from rlfloor.policies import FlooredActorCriticPolicy
from rlfloor.schedules import LinearSchedule

SMALL_PPO = dict(n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu")


class CoefRecorder(BaseCallback):
    """Records ``model.ent_coef`` as training starts each update."""

    def __init__(self) -> None:
        super().__init__()
        self.coefs: list[float] = []

    def _on_rollout_end(self) -> None:
        self.coefs.append(float(self.model.ent_coef))  # type: ignore[attr-defined]

    def _on_step(self) -> bool:
        return True


def test_max_entropy_and_floor_fraction() -> None:
    assert max_entropy(spaces.Discrete(4)) == pytest.approx(math.log(4))
    assert max_entropy(spaces.MultiDiscrete([2, 3])) == pytest.approx(math.log(6))
    assert floor_entropy_fraction(0.0, spaces.Discrete(4)) == 0.0
    # a floor at the uniform value guarantees the maximum entropy
    assert floor_entropy_fraction(0.25 - 1e-12, spaces.Discrete(4)) == pytest.approx(1.0, abs=1e-6)


def test_schedule_sets_coefficient_before_each_update() -> None:
    recorder = CoefRecorder()
    model = PPO("MlpPolicy", gym.make("CartPole-v1"), **SMALL_PPO)
    model.learn(256, callback=[EntropyScheduleCallback(LinearSchedule(0.04, 0.0)), recorder])
    # recorder runs after the schedule callback in each rollout end: the first update uses the
    # start value, the last one the end value (rlfloor.schedules.RunProgress)
    assert recorder.coefs == pytest.approx([0.04, 0.04 * 2 / 3, 0.04 / 3, 0.0])
    # continued: the finished schedule holds its end value
    recorder.coefs.clear()
    model.learn(128, callback=[EntropyScheduleCallback(LinearSchedule(0.04, 0.0)), recorder], reset_num_timesteps=False)
    assert recorder.coefs == [0.0, 0.0]


def test_schedule_rejects_negative_coefficients() -> None:
    with pytest.raises(ValueError, match=r"^ent_coef=-0\.1 is outside the allowed range \[0, inf\)"):
        EntropyScheduleCallback(-0.1)  # at construction, before any training


@pytest.mark.parametrize("algo", [PPO, A2C])
def test_adaptive_coefficient_rises_below_target_and_falls_above(algo: type) -> None:
    kwargs = SMALL_PPO if algo is PPO else dict(n_steps=16, seed=0, device="cpu")
    # A fresh policy is near uniform (entropy fraction ~1): a target of 0.3 is exceeded, so
    # the coefficient must fall. At temperature 1e-3 the same policy is nearly deterministic:
    # a target of 0.9 is not reached, so the coefficient must rise.
    for target, temperature, direction in [(0.3, 1.0, -1), (0.9, 1e-3, +1)]:
        recorder = CoefRecorder()
        controller = AdaptiveEntropyCallback(target_fraction=target, initial_coef=0.01, lr=2.0)
        policy_kwargs = {"temperature": temperature}
        model = algo(FlooredActorCriticPolicy, gym.make("CartPole-v1"), policy_kwargs=policy_kwargs, **kwargs)
        model.learn(256, callback=[controller, recorder])
        assert recorder.coefs, "no update happened"
        assert 0.0 < controller.measured_fraction <= 1.0
        change = recorder.coefs[-1] - 0.01
        assert change * direction > 0, (target, recorder.coefs)
        assert model.ent_coef == pytest.approx(controller.coef)


def test_adaptive_with_masked_ppo(masked_env_factory: Callable[[], gym.Env]) -> None:
    from sb3_contrib import MaskablePPO

    from rlfloor.policies import FlooredMaskableActorCriticPolicy

    controller = AdaptiveEntropyCallback(target_fraction=0.3, initial_coef=0.01, lr=2.0)
    model = MaskablePPO("MlpPolicy", masked_env_factory(), **SMALL_PPO)
    model.learn(128, callback=controller)
    # masked entropy is normalized by log(number of valid actions), so a fresh policy is near 1
    assert 0.95 < controller.measured_fraction <= 1.0 + 1e-6
    assert controller.coef < 0.01
    # a sharp floored policy is below a 0.9 target: the coefficient rises
    controller = AdaptiveEntropyCallback(target_fraction=0.9, initial_coef=0.01, lr=2.0)
    policy_kwargs = {"temperature": 1e-3, "min_prob": 0.01}
    model = MaskablePPO(
        FlooredMaskableActorCriticPolicy, masked_env_factory(), policy_kwargs=policy_kwargs, **SMALL_PPO
    )
    model.learn(128, callback=controller)
    assert controller.measured_fraction < 0.9
    assert controller.coef > 0.01


def test_warns_when_target_is_below_floor_guarantee() -> None:
    model = PPO(FlooredActorCriticPolicy, gym.make("CartPole-v1"), policy_kwargs={"min_prob": 0.3}, **SMALL_PPO)
    guaranteed = floor_entropy_fraction(0.3, model.action_space)
    with pytest.warns(UserWarning, match="already guarantees"):
        model.learn(64, callback=AdaptiveEntropyCallback(target_fraction=guaranteed * 0.9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_fraction": 1.0}, r"target_fraction=1\.0 is outside the allowed range \(0, 1\)"),
        ({"target_fraction": "0.3"}, r"^target_fraction='0\.3' must be a number in \(0, 1\)$"),
        ({"target_fraction": 0.5, "max_samples": 0}, r"max_samples=0"),
        ({"target_fraction": 0.5, "lr": 0.0}, r"lr=0\.0"),
        ({"target_fraction": 0.5, "initial_coef": -1.0}, r"initial_coef=-1\.0"),
        ({"target_fraction": 0.5, "coef_bounds": (0.1, 0.01)}, r"coef_bounds=\(0\.1, 0\.01\)"),
    ],
)
def test_bad_adaptive_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdaptiveEntropyCallback(**kwargs)  # type: ignore[arg-type]


def test_adaptive_rejects_box_actions() -> None:
    model = A2C("MlpPolicy", gym.make("Pendulum-v1"), n_steps=8, device="cpu")
    with pytest.raises(ValueError, match="needs Discrete or MultiDiscrete actions"):
        model.learn(16, callback=AdaptiveEntropyCallback(0.5))


def test_adaptive_entropy_reads_a_rollout_evaluator() -> None:
    """Its entropy is the evaluator's (the metrics' forward pass): its own by default, or a shared one."""
    from rlfloor.callbacks import RolloutEvaluator

    own = AdaptiveEntropyCallback(target_fraction=0.5, lr=2.0, max_samples=64)
    assert isinstance(own.evaluator, RolloutEvaluator) and own.evaluator.max_samples == 64
    PPO("MlpPolicy", "CartPole-v1", **SMALL_PPO).learn(128, callback=own)
    evaluator = RolloutEvaluator(max_samples=64, policy_every=1)
    shared = AdaptiveEntropyCallback(target_fraction=0.5, lr=2.0, evaluator=evaluator)
    PPO("MlpPolicy", "CartPole-v1", **SMALL_PPO).learn(128, callback=[evaluator, shared])
    assert shared.evaluator is evaluator
    assert shared.measured_fraction == own.measured_fraction and shared.log_coef == own.log_coef
