"""ONNX export of floored policies: onnxruntime matches predict(deterministic=True) and log-probs."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.envs import IdentityEnvMultiBinary, IdentityEnvMultiDiscrete

from rlfloor.export import OnnxableSB3Policy, export_onnx
from rlfloor.policies import FlooredActorCriticPolicy

ort = pytest.importorskip("onnxruntime")


def run_onnx(path: Path, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    session = ort.InferenceSession(str(path))
    action, value, log_prob = session.run(None, {session.get_inputs()[0].name: observations})
    return action, value, log_prob


def torch_log_prob(model: Any, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
    obs_tensor, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        _, log_prob, _ = model.policy.evaluate_actions(obs_tensor, th.as_tensor(actions))
    return log_prob.numpy()


def observations_of(env: gym.Env, n: int = 32) -> np.ndarray:
    env.observation_space.seed(0)
    return np.stack([env.observation_space.sample() for _ in range(n)])


@pytest.mark.parametrize(
    ("make_env", "policy_kwargs"),
    [
        (lambda: gym.make("CartPole-v1"), {"min_prob": 0.05}),
        (lambda: gym.make("CartPole-v1"), {"uniform_mix": 0.01, "temperature": 2.0, "logit_clip": 3.0}),
        (lambda: IdentityEnvMultiDiscrete(3), {"min_prob": 0.1}),
        (lambda: IdentityEnvMultiBinary(4), {"min_prob": 0.05}),
        (lambda: gym.make("Pendulum-v1"), {"min_std": 0.2}),
    ],
    ids=["discrete", "discrete-unimix-transforms", "multidiscrete", "multibinary", "box"],
)
def test_onnxruntime_matches_predict_and_log_probs(
    tmp_path: Path, make_env: Any, policy_kwargs: dict[str, Any]
) -> None:
    env = make_env()
    model = PPO(FlooredActorCriticPolicy, env, policy_kwargs=policy_kwargs, n_steps=64, batch_size=32, seed=0)
    model.learn(64)
    path = export_onnx(model, tmp_path / "policy.onnx")
    observations = observations_of(env)
    action, value, log_prob = run_onnx(path, observations)
    predicted, _ = model.predict(observations, deterministic=True)
    if isinstance(env.action_space, gym.spaces.Box):
        # The graph returns the raw Gaussian mean, predict() clips it to the bounds (as in SB3).
        low, high = env.action_space.low, env.action_space.high
        np.testing.assert_allclose(np.clip(action, low, high), predicted, atol=1e-5)
    else:
        np.testing.assert_array_equal(action.reshape(predicted.shape), predicted)
    np.testing.assert_allclose(log_prob, torch_log_prob(model, observations, action), atol=1e-5, rtol=1e-5)
    obs_tensor, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        expected_value = model.policy.predict_values(obs_tensor).numpy()
    np.testing.assert_allclose(value, expected_value, atol=1e-5)


def test_sb3_recipe_exports_a_floored_policy_at_extreme_logits(tmp_path: Path) -> None:
    """SB3's documented recipe as written (with the TorchScript exporter), at logits of +-1e4."""
    model = A2C(FlooredActorCriticPolicy, gym.make("CartPole-v1"), policy_kwargs={"min_prob": 0.02}, seed=0)
    with th.no_grad():  # saturate the head: logits of order 1e4 for any observation
        model.policy.action_net.weight.zero_()
        model.policy.action_net.bias.copy_(th.tensor([1e4, -1e4]))
    model.policy.set_floor(0.03)  # the floor in force at export time is what the graph keeps
    observations = observations_of(gym.make("CartPole-v1"), 8).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch's notice about the TorchScript exporter
        warnings.simplefilter("ignore", th.jit.TracerWarning)  # torch.distributions' argument validation
        th.onnx.export(
            OnnxableSB3Policy(model.policy),
            (th.as_tensor(observations[:1]),),
            str(tmp_path / "recipe.onnx"),
            opset_version=17,
            input_names=["input"],
            dynamic_axes={"input": {0: "batch"}},
            dynamo=False,
        )
    action, _, log_prob = run_onnx(tmp_path / "recipe.onnx", observations[:1])
    assert action.tolist() == [0]
    assert np.isfinite(log_prob).all()
    assert log_prob[0] == pytest.approx(math.log(1 - 0.03), abs=1e-6)
    # the disfavoured action keeps exactly the floor, in torch and in the exported arithmetic
    assert torch_log_prob(model, observations[:1], np.array([1]))[0] == pytest.approx(math.log(0.03), rel=1e-5)


def test_dict_observations_are_refused(tmp_path: Path) -> None:
    from gymnasium import spaces

    from rlfloor.policies import FlooredMultiInputActorCriticPolicy

    policy = FlooredMultiInputActorCriticPolicy(
        spaces.Dict({"a": spaces.Box(-1, 1, (2,))}), spaces.Discrete(2), lambda _: 3e-4
    )
    with pytest.raises(ValueError, match="Dict"):
        export_onnx(policy, tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="opset_version=11"):
        export_onnx(policy, tmp_path / "x.onnx", opset_version=11)
