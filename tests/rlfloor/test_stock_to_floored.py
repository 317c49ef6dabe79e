"""A stock SB3 model becomes a floored one (weights, optimizer, greedy actions kept; it then trains), and back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch as th
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecNormalize

from rlfloor.policies import FlooredActorCriticPolicy, floored_from_stock, stock_from_floored

DATA = Path(__file__).parent / "data"
SMALL_PPO = dict(n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")


def observations(n: int = 64) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32) * 2


def test_stock_model_becomes_floored_with_weights_optimizer_and_greedy_actions(tmp_path: Path) -> None:
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    stock = PPO("MlpPolicy", env, learning_rate=0.01, **SMALL_PPO)
    stock.learn(256)
    stock.save(tmp_path / "stock.zip")
    env.save(str(tmp_path / "vecnormalize.pkl"))
    obs = observations()
    greedy_before, _ = stock.predict(obs, deterministic=True)
    weights_before = {k: v.clone() for k, v in stock.policy.state_dict().items()}
    adam_before = stock.policy.optimizer.state_dict()

    # What a user does: load the collapsed stock model with its normalization, then floor it.
    venv = VecNormalize.load(str(tmp_path / "vecnormalize.pkl"), make_vec_env("CartPole-v1", n_envs=2, seed=1))
    model = PPO.load(tmp_path / "stock.zip", env=venv, device="cpu")
    assert floored_from_stock(model, min_prob=0.05) is model
    assert isinstance(model.policy, FlooredActorCriticPolicy) and model.policy.min_prob == 0.05
    greedy_after, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(greedy_after, greedy_before)
    for key, value in weights_before.items():
        assert th.equal(model.policy.state_dict()[key], value), key
    adam_after = model.policy.optimizer.state_dict()
    for index, state in adam_before["state"].items():
        assert th.equal(adam_after["state"][index]["exp_avg"], state["exp_avg"])
        assert int(adam_after["state"][index]["step"]) == int(state["step"])
    assert model.get_env() is venv and np.array_equal(venv.obs_rms.mean, env.obs_rms.mean)

    # ... and it trains on, with the floor in force, and saves as a floored model.
    model.learn(128, reset_num_timesteps=False)
    assert not th.equal(model.policy.state_dict()["action_net.weight"], weights_before["action_net.weight"])
    obs_tensor, _ = model.policy.obs_to_tensor(obs * 50)
    with th.no_grad():
        assert th.all(model.policy.get_distribution(obs_tensor).distribution.probs >= 0.05 - 1e-6)
    model.save(tmp_path / "floored.zip")
    again = PPO.load(tmp_path / "floored.zip", device="cpu")
    assert isinstance(again.policy, FlooredActorCriticPolicy) and again.policy.min_prob == pytest.approx(0.05)


def test_a2c_box_and_maskable_conversions() -> None:
    box = A2C("MlpPolicy", "Pendulum-v1", n_steps=8, seed=0, device="cpu")
    mean_before = box.predict(np.zeros((3, 3), dtype=np.float32), deterministic=True)[0]
    floored_from_stock(box, min_std=0.3)
    np.testing.assert_array_equal(box.predict(np.zeros((3, 3), dtype=np.float32), deterministic=True)[0], mean_before)
    assert box.policy.min_std == 0.3
    box.learn(16)

    sb3_contrib = pytest.importorskip("sb3_contrib")
    from rlfloor.contrib.policies import FlooredMaskableActorCriticPolicy

    masked = sb3_contrib.MaskablePPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    floored_from_stock(masked, uniform_mix=0.02)
    assert isinstance(masked.policy, FlooredMaskableActorCriticPolicy)
    assert masked.policy.min_prob == pytest.approx(0.01)


def test_bad_conversions_are_refused_before_the_model_changes() -> None:
    stock = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    policy = stock.policy
    with pytest.raises(ValueError, match=r"unknown floor settings \['net_arch'\]"):
        floored_from_stock(stock, net_arch=[8])
    with pytest.raises(ValueError, match=r"min_prob=0\.6"):
        floored_from_stock(stock, min_prob=0.6)
    assert stock.policy is policy
    floored_from_stock(stock, min_prob=0.1)
    with pytest.raises(ValueError, match="already floored"):
        floored_from_stock(stock, min_prob=0.1)


def test_model_saved_by_the_previous_release_loads() -> None:
    """Saved by commit 0c602b2 (tests/rlfloor/data/README.md) with a schedule and a temperature."""
    from rlfloor.schedules import LinearSchedule

    model = PPO.load(DATA / "legacy_ppo_floored.zip", device="cpu")
    assert isinstance(model.policy, FlooredActorCriticPolicy)
    assert model.policy.min_prob == pytest.approx(0.123)
    assert model.policy.floor_schedule == LinearSchedule(0.2, 0.05)
    reference = np.load(DATA / "legacy_probs.npz")
    with th.no_grad():
        probs = model.policy.get_distribution(th.as_tensor(reference["obs"])).distribution.probs.numpy()
    np.testing.assert_allclose(probs, reference["probs"], atol=1e-6)


def test_stock_weights_into_a_floored_policy_point_to_the_conversion(tmp_path: Path) -> None:
    """Loading a stock model's weights into a floored policy (``PPO.load`` with the floored class,
    ``set_parameters``, ``load_state_dict``) is refused in one line naming ``floored_from_stock`` (issue 22)."""
    stock = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    stock.save(tmp_path / "stock.zip")
    message = r"^these weights are a stock policy's \(no 'floor_in_force'\), .*policies\.floored_from_stock\(model, "
    custom = {"policy_class": FlooredActorCriticPolicy, "policy_kwargs": {"min_prob": 0.05}}
    with pytest.raises(ValueError, match=message):
        PPO.load(tmp_path / "stock.zip", custom_objects=custom, device="cpu")
    floored = PPO(FlooredActorCriticPolicy, "CartPole-v1", policy_kwargs={"min_prob": 0.05}, seed=0, device="cpu")
    with pytest.raises(ValueError, match=message):
        floored.set_parameters(str(tmp_path / "stock.zip"))
    with pytest.raises(ValueError, match=message):
        floored.policy.load_state_dict(stock.policy.state_dict())
    floored.policy.load_state_dict(stock.policy.state_dict(), strict=False)  # asked for: torch's partial load
    assert floored.policy.floor == pytest.approx(0.05)
    floored.set_parameters(floored.get_parameters())  # a floored model's own weights load as before


def test_floored_model_becomes_stock_and_loads_without_rlfloor_classes(tmp_path: Path) -> None:
    """``stock_from_floored``: the network's own distribution, weights and Adam state kept; the saved zip names
    SB3's class. SB3 alone puts a floored zip's weights into a stock model with ``exact_match=False``."""
    floored = PPO(FlooredActorCriticPolicy, "CartPole-v1", policy_kwargs={"min_prob": 0.2}, **SMALL_PPO)
    floored.learn(128)
    floored.save(tmp_path / "floored.zip")
    obs_tensor, _ = floored.policy.obs_to_tensor(observations())
    with th.no_grad():
        floor_probs = floored.policy.get_distribution(obs_tensor).distribution.probs
        floored.policy.set_floor(0.0)
        raw_probs = floored.policy.get_distribution(obs_tensor).distribution.probs
    assert th.all(floor_probs >= 0.2 - 1e-6) and not th.allclose(floor_probs, raw_probs)
    adam_before = floored.policy.optimizer.state_dict()

    assert stock_from_floored(floored) is floored
    assert type(floored.policy) is ActorCriticPolicy and floored.policy_kwargs == {}
    with th.no_grad():
        probs = floored.policy.get_distribution(obs_tensor).distribution.probs
    th.testing.assert_close(probs, raw_probs)
    adam_after = floored.policy.optimizer.state_dict()
    for index, state in adam_before["state"].items():
        assert th.equal(adam_after["state"][index]["exp_avg"], state["exp_avg"])
    floored.learn(64, reset_num_timesteps=False)
    floored.save(tmp_path / "stock.zip")
    again = PPO.load(tmp_path / "stock.zip", device="cpu")
    assert type(again.policy) is ActorCriticPolicy

    stock = PPO("MlpPolicy", "CartPole-v1", device="cpu")
    with pytest.raises(RuntimeError, match=r"Unexpected key.*floor_in_force"):  # SB3's default: exact match
        stock.set_parameters(str(tmp_path / "floored.zip"))
    stock.set_parameters(str(tmp_path / "floored.zip"), exact_match=False)  # the documented way
    loaded = PPO.load(tmp_path / "floored.zip", device="cpu")
    for key, value in stock.policy.state_dict().items():
        assert th.equal(value, loaded.policy.state_dict()[key]), key
    with pytest.raises(ValueError, match="ActorCriticPolicy is not one of rlfloor's floored classes"):
        stock_from_floored(stock)


def test_maskable_floored_model_becomes_stock() -> None:
    sb3_contrib = pytest.importorskip("sb3_contrib")
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    from rlfloor.contrib.policies import FlooredMaskableActorCriticPolicy

    model = sb3_contrib.MaskablePPO(
        FlooredMaskableActorCriticPolicy, "CartPole-v1", policy_kwargs={"min_prob": 0.1, "net_arch": [8]}, **SMALL_PPO
    )
    stock_from_floored(model)
    assert type(model.policy) is MaskableActorCriticPolicy and model.policy_kwargs == {"net_arch": [8]}
    model.learn(64, use_masking=False)  # CartPole has no masks; the policy is what is tested
