"""The bonus enters the rewards before GAE: recomputed advantages equal a hand-computed GAE."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

from envs import suite
from rlfloor.intrinsic import IntrinsicRewardCallback, SimHashCounter, exact_counter

GAMMA, LAM, COEF, EXT_COEF = 0.9, 0.8, 0.5, 0.7


class Before(BaseCallback):
    """Runs before the intrinsic callback: records what the env returned at every step."""

    def __init__(self) -> None:
        super().__init__()
        self.next_obs: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.dones: list[np.ndarray] = []
        self.truncated: list[np.ndarray] = []
        self.terminal_values: list[np.ndarray] = []
        self.critic_values: np.ndarray | None = None

    def _on_step(self) -> bool:
        model: Any = self.model
        infos, dones = self.locals["infos"], self.locals["dones"]
        next_obs = np.array(self.locals["new_obs"], copy=True)
        truncated = np.zeros(len(dones), dtype=bool)
        terminal_values = np.zeros(len(dones), dtype=np.float32)
        for i, done in enumerate(dones):
            if done:
                next_obs[i] = infos[i]["terminal_observation"]
                if infos[i].get("TimeLimit.truncated", False):
                    truncated[i] = True
                    with th.no_grad():
                        obs = model.policy.obs_to_tensor(infos[i]["terminal_observation"])[0]
                        terminal_values[i] = float(model.policy.predict_values(obs)[0])
        self.next_obs.append(next_obs)
        self.rewards.append(np.array(self.locals["rewards"], dtype=np.float32, copy=True))
        self.dones.append(np.array(dones, dtype=bool, copy=True))
        self.truncated.append(truncated)
        self.terminal_values.append(terminal_values)
        return True

    def _on_rollout_end(self) -> None:
        model: Any = self.model
        critic = model.intrinsic_state.critic
        if critic is not None:  # the intrinsic critic's values, before the intrinsic callback trains it
            buffer = model.rollout_buffer
            obs = buffer.observations.reshape(-1, *buffer.observations.shape[2:])
            self.critic_values = critic.values(obs).reshape(buffer.buffer_size, buffer.n_envs)
            self.critic_last = critic.values(np.asarray(model._last_obs))


class After(BaseCallback):
    """Runs after the intrinsic callback: copies the buffer and the policy's last values before training."""

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        model: Any = self.model
        buffer = model.rollout_buffer
        self.copy = {k: np.array(getattr(buffer, k), copy=True) for k in ("rewards", "values", "advantages", "returns")}
        with th.no_grad():
            obs = th.as_tensor(np.asarray(model._last_obs))
            self.last_values = model.policy.predict_values(obs).numpy().reshape(-1)


def gae_by_definition(rewards: Any, values: Any, next_values: Any, ends: Any) -> np.ndarray:
    """A_t = sum_k (gamma*lam)^(k-t) delta_k over the steps k >= t of the same episode (ends[k]: episode ended at k)."""
    n, n_envs = rewards.shape
    advantages = np.zeros((n, n_envs))
    for e in range(n_envs):
        for t in range(n):
            total, weight = 0.0, 1.0
            for k in range(t, n):
                delta = rewards[k, e] + GAMMA * next_values[k, e] * (1.0 - ends[k, e]) - values[k, e]
                total += weight * delta
                if ends[k, e]:
                    break
                weight *= GAMMA * LAM
            advantages[t, e] = total
    return advantages


def run_one_rollout(algo: str, episodic: bool) -> tuple[Before, After, Any]:
    n_steps = 48
    if algo == "maskable-ppo":
        from sb3_contrib import MaskablePPO

        env = make_vec_env(lambda: suite.make("masked-grid", max_episode_steps=20), n_envs=2, seed=0)
        model: Any = MaskablePPO("MlpPolicy", env, n_steps=n_steps, batch_size=48, gamma=GAMMA, gae_lambda=LAM, seed=0)
        method = "count"
    else:
        env = make_vec_env("CartPole-v1", n_envs=2, seed=0, env_kwargs={"max_episode_steps": 15})
        kwargs: dict[str, Any] = {"batch_size": 48} if algo == "ppo" else {}
        model = (PPO if algo == "ppo" else A2C)(
            "MlpPolicy", env, n_steps=n_steps, gamma=GAMMA, gae_lambda=LAM, seed=0, device="cpu", **kwargs
        )
        method = "simhash"
    before, after = Before(), After()
    intrinsic = IntrinsicRewardCallback(
        method=method,
        coef=COEF,
        ext_coef=EXT_COEF,
        episodic=episodic,
        method_kwargs={"seed": 5} if method == "simhash" else None,
    )
    model.learn(n_steps * 2, callback=CallbackList([before, intrinsic, after]))
    return before, after, model


@pytest.mark.parametrize("algo", ["ppo", "a2c", "maskable-ppo"])
def test_recomputed_advantages_equal_hand_gae_of_extrinsic_plus_intrinsic(algo: str) -> None:
    before, after, model = run_one_rollout(algo, episodic=True)
    next_obs = np.stack(before.next_obs)
    n, n_envs = next_obs.shape[:2]
    ext = np.stack(before.rewards)
    dones, truncated = np.stack(before.dones), np.stack(before.truncated)
    if algo != "maskable-ppo":
        assert truncated.any() and (dones & ~truncated).any()  # both kinds of episode end happen

    space = model.observation_space
    counter = (
        SimHashCounter(space, seed=5)
        if isinstance(space, spaces.Box) and algo != "maskable-ppo"
        else exact_counter(space)
    )
    counts = counter.update(next_obs.reshape(n * n_envs, *next_obs.shape[2:])).reshape(n, n_envs)
    bonus = COEF / np.sqrt(counts)
    # SB3 bootstraps a truncated episode by adding gamma * V(terminal obs) to its last reward.
    rewards = EXT_COEF * ext + GAMMA * np.stack(before.terminal_values) * truncated + bonus
    np.testing.assert_allclose(after.copy["rewards"], rewards, rtol=1e-5, atol=1e-6)

    values = after.copy["values"]
    next_values = np.concatenate([values[1:], after.last_values[None]], axis=0)
    expected = gae_by_definition(rewards, values, next_values, dones)
    np.testing.assert_allclose(after.copy["advantages"], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(after.copy["returns"], expected + values, rtol=1e-4, atol=1e-5)
    # The bonus made a difference: GAE of the extrinsic rewards alone is not what the buffer holds.
    extrinsic_only = gae_by_definition(rewards - bonus, values, next_values, dones)
    assert np.abs(after.copy["advantages"] - extrinsic_only).max() > 1e-2


def test_non_episodic_intrinsic_return_runs_across_episode_ends() -> None:
    before, after, model = run_one_rollout("ppo", episodic=False)
    next_obs = np.stack(before.next_obs)
    n, n_envs = next_obs.shape[:2]
    ext = np.stack(before.rewards)
    dones, truncated = np.stack(before.dones), np.stack(before.truncated)
    assert dones.any()
    counts = SimHashCounter(model.observation_space, seed=5).update(next_obs.reshape(n * n_envs, -1))
    bonus = (COEF / np.sqrt(counts)).reshape(n, n_envs)
    ext_rewards = EXT_COEF * ext + GAMMA * np.stack(before.terminal_values) * truncated

    values = after.copy["values"]
    next_values = np.concatenate([values[1:], after.last_values[None]], axis=0)
    ext_adv = gae_by_definition(ext_rewards, values, next_values, dones)
    assert before.critic_values is not None
    int_values = before.critic_values
    int_next = np.concatenate([int_values[1:], before.critic_last[None]], axis=0)
    int_adv = gae_by_definition(bonus, int_values, int_next, np.zeros_like(dones))  # no episode ends
    np.testing.assert_allclose(after.copy["advantages"], ext_adv + int_adv, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(after.copy["returns"], ext_adv + values, rtol=1e-4, atol=1e-5)  # value head: extrinsic
