"""Episodic novelty: each bonus by its definition, memory cleared exactly at each env copy's episode start, E3B's
incremental inverse, GAE on extrinsic + intrinsic rewards (PPO, A2C, MaskablePPO), save/load/continue, metrics."""

from __future__ import annotations

import copy
import csv
from collections import Counter
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure

from agents import build_agent, get_agent
from envs import suite
from rlfloor.intrinsic import E3B, EpisodicCounts, IntrinsicRewardCallback, NovelD, Rollout, sherman_morrison
from tests.rlfloor.intrinsic.test_gae import Before as RecordSteps
from tests.rlfloor.intrinsic.test_gae import gae_by_definition

GAMMA, LAM, COEF, EXT_COEF = 0.9, 0.8, 0.5, 0.7
N_STEPS, N_ENVS, ROLLOUTS = 48, 2, 3
METHODS = ("episodic-count", "noveld", "e3b")


def key(obs: np.ndarray) -> tuple[float, ...]:
    return tuple(np.asarray(obs, dtype=np.float64).ravel().tolist())


# -- unit tests on hand-made rollouts --------------------------------------------------------------------------------
def hand_rollout() -> Rollout:
    """Two env copies, 5 steps, states are integers; env 0 starts episodes at t = 0 and 3, env 1 at t = 0 and 2."""
    obs = np.array([[1, 7], [2, 7], [1, 5], [1, 5], [2, 7]])[..., None]
    next_obs = np.array([[2, 7], [1, 9], [2, 5], [2, 7], [1, 5]])[..., None]  # env 1 ends at t=1 in 9 (terminal)
    starts = np.array([[1, 1], [0, 0], [0, 1], [1, 0], [0, 0]], dtype=bool)  # env 0's episode ended at t=2
    return Rollout(obs=obs, next_obs=next_obs, actions=np.zeros((5, 2, 1)), episode_starts=starts)


def test_episodic_counts_are_cleared_exactly_at_each_env_copys_episode_start() -> None:
    counts = EpisodicCounts(spaces.Box(0, 10, (1,), np.int64))
    n = counts.counts(hand_rollout())
    # env 0: episode {1, 2, 1, 2} then a new one from t=3: {1, 2, 1}
    np.testing.assert_array_equal(n[:, 0], [1, 2, 2, 1, 2])
    # env 1: episode {7, 7, 9}, then from t=2: {5, 5, 7, 5}
    np.testing.assert_array_equal(n[:, 1], [2, 1, 2, 1, 3])
    # The tables hold the current episodes only, and carry on into the next rollout.
    assert sorted(counts.tables[0].counts.values()) == [1, 2] and counts.tables[0].visits == 3
    assert sorted(counts.tables[1].counts.values()) == [1, 3] and counts.tables[1].visits == 4
    more = Rollout(
        obs=np.array([[[1], [5]]]),
        next_obs=np.array([[[2], [5]]]),
        actions=np.zeros((1, 2, 1)),
        episode_starts=np.zeros((1, 2), dtype=bool),
    )
    np.testing.assert_array_equal(counts.counts(more), [[2, 4]])


def test_episodic_counts_keyed_on_part_of_the_observation() -> None:
    counts = EpisodicCounts(spaces.Box(-1.0, 1.0, (2,), np.float32), obs_key=first_column)
    rollout = Rollout(
        obs=np.array([[[0.0, 0.3]], [[1.0, 0.1]]]),
        next_obs=np.array([[[1.0, 0.2]], [[1.0, 0.9]]]),
        actions=np.zeros((2, 1, 1)),
        episode_starts=np.array([[True], [False]]),
    )
    np.testing.assert_array_equal(counts.counts(rollout), [[1], [2]])  # the second column is ignored
    with pytest.raises(ValueError, match="continuous"):
        EpisodicCounts(spaces.Box(-np.inf, np.inf, (2,), np.float32))  # without a key: exact counts only


def first_column(obs: np.ndarray) -> np.ndarray:
    """Keys on the first column only."""
    return np.asarray(obs)[:, :1]


@pytest.mark.parametrize("dim", [8, 128])
def test_sherman_morrison_inverse_equals_the_direct_inverse(dim: int) -> None:
    rng = np.random.default_rng(dim)
    ridge, n = 0.1, 300
    phis = rng.normal(size=(n, 2, dim))
    inverse = np.broadcast_to(np.eye(dim) / ridge, (2, dim, dim)).copy()
    covariance = np.broadcast_to(np.eye(dim) * ridge, (2, dim, dim)).copy()
    for t in range(n):
        bonus = sherman_morrison(inverse, phis[t])
        direct = [phis[t, e] @ np.linalg.solve(covariance[e], phis[t, e]) for e in range(2)]
        np.testing.assert_allclose(bonus, direct, rtol=1e-5)
        covariance += phis[t][:, :, None] * phis[t][:, None, :]
    for e in range(2):
        expected = np.linalg.inv(covariance[e])
        assert np.abs(inverse[e] - expected).max() <= 1e-5 * np.abs(expected).max()


def test_e3b_memory_is_the_current_episode_of_each_env_copy() -> None:
    space = spaces.Box(0, 10, (1,), np.int64)
    e3b = E3B(space, spaces.Discrete(3), embedding_dim=4, hidden=8, ridge=0.5, seed=1)
    rollout = hand_rollout()
    phi = {s: e3b.embed(np.array([[s]]))[0] for s in (1, 2, 5, 7, 9)}
    raw, metrics = e3b.bonus(rollout)
    assert set(metrics) == {"inverse_dynamics_loss", "inverse_dynamics_accuracy"}

    def bonus(memory: list[int], state: int) -> float:
        covariance = 0.5 * np.eye(4) + sum(np.outer(phi[s], phi[s]) for s in memory)
        return float(phi[state] @ np.linalg.solve(covariance, phi[state]))

    # env 0: memory [1] -> +2 -> +1 | new episode [1] -> +2 -> +1
    expected0 = [bonus([1], 2), bonus([1, 2], 1), bonus([1, 2, 1], 2), bonus([1], 2), bonus([1, 2], 1)]
    expected1 = [bonus([7], 7), bonus([7, 7], 9), bonus([5], 5), bonus([5, 5], 7), bonus([5, 5, 7], 5)]
    np.testing.assert_allclose(raw[:, 0], expected0, rtol=1e-6)
    np.testing.assert_allclose(raw[:, 1], expected1, rtol=1e-6)
    assert e3b.inverse is not None
    memory = {0: [1, 2, 1], 1: [5, 5, 7, 5]}
    for e, states in memory.items():
        covariance = 0.5 * np.eye(4) + sum(np.outer(phi[s], phi[s]) for s in states)
        np.testing.assert_allclose(e3b.inverse[e], np.linalg.inv(covariance), rtol=1e-6, atol=1e-9)


def test_noveld_pays_the_clipped_novelty_difference_on_first_visits_only() -> None:
    space = spaces.Box(0, 10, (1,), np.int64)
    noveld = NovelD(space, alpha=0.5, embedding_dim=8, hidden=16, seed=0)
    rollout = hand_rollout()
    before = copy.deepcopy(noveld)
    raw, metrics = noveld.bonus(rollout)
    before.rnd.update_normalizer(rollout.next_obs.reshape(-1, 1))
    n_next = before.novelty(rollout.next_obs.reshape(-1, 1)).reshape(5, 2)
    n_obs = before.novelty(rollout.obs.reshape(-1, 1)).reshape(5, 2)
    first = EpisodicCounts(space).counts(rollout) == 1
    np.testing.assert_allclose(raw, np.maximum(n_next - 0.5 * n_obs, 0.0) * first, rtol=1e-6)
    assert (raw[~first] == 0).all() and (raw[first] > 0).any()
    assert metrics["first_visit"] == pytest.approx(first.mean())


# -- the bonus in SB3's rollouts: by definition, and GAE ---------------------------------------------------------------
class Before(RecordSteps):
    """Runs before the intrinsic callback: what the env returned (as test_gae records it), the observation each
    action was taken in, and the estimator as it was before each bonus."""

    def __init__(self) -> None:
        super().__init__()
        self.obs: list[np.ndarray] = []
        self.snapshots: list[Any] = []

    def _on_step(self) -> bool:
        model: Any = self.model
        self.obs.append(np.array(model._last_obs, copy=True))  # s_t (SB3 updates _last_obs after callbacks)
        return super()._on_step()

    def _on_rollout_end(self) -> None:
        self.snapshots.append(copy.deepcopy(self.model.intrinsic_state.novelty))  # type: ignore[attr-defined]


class After(BaseCallback):
    """Runs after the intrinsic callback: the buffer and the policy's last values of every rollout."""

    def __init__(self) -> None:
        super().__init__()
        self.copies: list[dict[str, np.ndarray]] = []
        self.last_values: list[np.ndarray] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        model: Any = self.model
        buffer = model.rollout_buffer
        keys = ("rewards", "values", "advantages", "returns")
        self.copies.append({k: np.array(getattr(buffer, k), copy=True) for k in keys})
        with th.no_grad():
            self.last_values.append(model.policy.predict_values(th.as_tensor(np.asarray(model._last_obs))).numpy())


def run(algo: str, method: str) -> tuple[Before, After]:
    if algo == "maskable-ppo":
        from sb3_contrib import MaskablePPO

        env = make_vec_env(lambda: suite.make("masked-grid", max_episode_steps=12), n_envs=N_ENVS, seed=0)
        model: Any = MaskablePPO(
            "MlpPolicy", env, n_steps=N_STEPS, batch_size=48, gamma=GAMMA, gae_lambda=LAM, seed=0, device="cpu"
        )
    else:
        env = make_vec_env("FrozenLake-v1", n_envs=N_ENVS, seed=0, env_kwargs={"max_episode_steps": 8})
        kwargs: dict[str, Any] = {"batch_size": 48} if algo == "ppo" else {}
        model = (PPO if algo == "ppo" else A2C)(
            "MlpPolicy", env, n_steps=N_STEPS, gamma=GAMMA, gae_lambda=LAM, seed=0, device="cpu", **kwargs
        )
    before, after = Before(), After()
    method_kwargs = {"embedding_dim": 8, "hidden": 16} if method != "episodic-count" else {}
    intrinsic = IntrinsicRewardCallback(
        method=method, coef=COEF, ext_coef=EXT_COEF, normalize=False, method_kwargs=method_kwargs
    )
    model.learn(N_STEPS * N_ENVS * ROLLOUTS, callback=CallbackList([before, intrinsic, after]))
    return before, after


def bonus_by_definition(method: str, before: Before) -> np.ndarray:
    """Each step's bonus from the recorded trajectories, each episode's memory rebuilt from scratch."""
    obs, next_obs, dones = np.stack(before.obs), np.stack(before.next_obs), np.stack(before.dones)
    n, n_envs = dones.shape
    # The estimator as it was when each rollout's bonus was computed (NovelD: RND's normalizer updated first).
    estimators = before.snapshots
    if method == "noveld":
        estimators = [copy.deepcopy(snapshot) for snapshot in before.snapshots]
        for r, noveld in enumerate(estimators):
            noveld.rnd.update_normalizer(next_obs[r * N_STEPS : (r + 1) * N_STEPS].reshape(N_STEPS * n_envs, -1))
    bonus = np.zeros((n, n_envs))
    for e in range(n_envs):
        memory: list[tuple[np.ndarray, int]] = []  # (observation, rollout in which it entered the memory)
        for t in range(n):
            r = t // N_STEPS
            estimator = estimators[r]
            if t == 0 or dones[t - 1, e]:
                memory = [(obs[t, e], r)]  # a new episode: its first observation only
            seen = Counter(key(o) for o, _ in memory)
            if method == "episodic-count":
                bonus[t, e] = 1.0 / np.sqrt(seen[key(next_obs[t, e])] + 1)
            elif method == "noveld":
                novelty = estimator.novelty(np.stack([next_obs[t, e], obs[t, e]]))
                first = seen[key(next_obs[t, e])] == 0
                bonus[t, e] = max(novelty[0] - 0.5 * novelty[1], 0.0) * first
            else:  # E3B: each observation embedded by the encoder of the rollout in which it entered the memory
                embedded = [estimators[q].embed(o[None])[0] for o, q in memory]
                dim = estimator.embedding_dim
                covariance = estimator.ridge * np.eye(dim) + sum(np.outer(p, p) for p in embedded)
                phi = estimator.embed(next_obs[t, e][None])[0]
                bonus[t, e] = float(phi @ np.linalg.solve(covariance, phi))
            memory.append((next_obs[t, e], r))
    return bonus


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("algo", ["ppo", "a2c", "maskable-ppo"])
def test_rewards_and_advantages_equal_gae_by_definition(algo: str, method: str) -> None:
    before, after = run(algo, method)
    dones, truncated = np.stack(before.dones), np.stack(before.truncated)
    if algo != "maskable-ppo":
        assert truncated.any() and (dones & ~truncated).any()  # both kinds of episode end in the run
    assert dones[:N_STEPS].any() and dones[-N_STEPS:].any()
    bonus = bonus_by_definition(method, before)
    ext = EXT_COEF * np.stack(before.rewards) + GAMMA * np.stack(before.terminal_values) * truncated
    for r in range(ROLLOUTS):
        rows = slice(r * N_STEPS, (r + 1) * N_STEPS)
        rewards = ext[rows] + COEF * bonus[rows]
        copy_ = after.copies[r]
        np.testing.assert_allclose(copy_["rewards"], rewards, rtol=1e-5, atol=1e-6)
        values = copy_["values"]
        next_values = np.concatenate([values[1:], after.last_values[r].reshape(1, -1)], axis=0)
        expected = gae_by_definition(rewards, values, next_values, dones[rows])
        np.testing.assert_allclose(copy_["advantages"], expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(copy_["returns"], expected + values, rtol=1e-4, atol=1e-5)
    assert np.abs(bonus).max() > 0


# -- saved with the model --------------------------------------------------------------------------------------------
def parameters(net: th.nn.Module) -> list[th.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("method", METHODS)
def test_episodic_state_round_trips_save_load_and_continue(method: str, tmp_path: Path) -> None:
    env = make_vec_env("FrozenLake-v1", n_envs=2, seed=0, env_kwargs={"max_episode_steps": 8})
    model: Any = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    kwargs = {"embedding_dim": 8, "hidden": 16} if method != "episodic-count" else {}
    model.learn(128, callback=IntrinsicRewardCallback(method=method, coef=0.1, method_kwargs=kwargs))
    model.save(tmp_path / "model.zip")
    loaded: Any = PPO.load(tmp_path / "model.zip", env=env, device="cpu")
    saved, restored = model.intrinsic_state.novelty, loaded.intrinsic_state.novelty
    assert type(restored) is type(saved)
    if method == "e3b":
        assert restored.inverse is not None
        np.testing.assert_array_equal(restored.inverse, saved.inverse)
        for a, b in zip(parameters(saved.encoder), parameters(restored.encoder), strict=True):
            assert th.equal(a, b)
        probe = np.arange(16)
        np.testing.assert_array_equal(restored.embed(probe), saved.embed(probe))
    else:
        tables = saved.tables if method == "episodic-count" else saved.episodic.tables
        back = restored.tables if method == "episodic-count" else restored.episodic.tables
        assert [t.counts for t in back] == [t.counts for t in tables] and any(t.counts for t in tables)
        if method == "noveld":
            np.testing.assert_array_equal(restored.rnd.obs_rms.mean, saved.rnd.obs_rms.mean)
            probe = np.arange(16)
            np.testing.assert_allclose(restored.novelty(probe), saved.novelty(probe))
    # Continuing learn() reuses the restored state; the fresh env reset starts new episodes (memory cleared).
    callback = IntrinsicRewardCallback(method=method, coef=0.1, method_kwargs=kwargs)
    loaded.learn(64, callback=callback, reset_num_timesteps=False)
    assert callback.state is loaded.intrinsic_state and loaded.intrinsic_state.novelty is restored
    assert loaded.num_timesteps == 192


# -- presets: a short real learn() on MiniGrid with the grid CNN, metrics under intrinsic/ ----------------------------
EPISODIC_PRESETS = {
    "ppo-episodic-count": ("episode_states", "first_visit"),
    "ppo-noveld": ("predictor_loss", "first_visit"),
    "ppo-e3b": ("inverse_dynamics_loss", "inverse_dynamics_accuracy"),
    "a2c-noveld": ("predictor_loss", "first_visit"),
    "a2c-episodic-count": ("episode_states", "first_visit"),
}


@pytest.mark.parametrize("name", sorted(EPISODIC_PRESETS))
def test_preset_learns_on_minigrid_and_logs_its_metrics(name: str, tmp_path: Path) -> None:
    pytest.importorskip("minigrid")
    from minigrid.wrappers import ImgObsWrapper

    from rlfloor.networks import GRID_POLICY_KWARGS

    spec = get_agent(name)
    env = make_vec_env(lambda: ImgObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0")), n_envs=4, seed=0)
    overrides: dict[str, Any] = {"n_steps": 32} if spec.algo == "a2c" else {"n_steps": 32, "batch_size": 64}
    model, callbacks = build_agent(spec, env, seed=0, overrides=overrides, policy_defaults=GRID_POLICY_KWARGS)
    assert model.observation_space.shape == (3, 7, 7)  # SB3 transposed the grid: the callback sees channels first
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(256, callback=callbacks, log_interval=1)
    with open(tmp_path / "progress.csv") as handle:
        last = list(csv.DictReader(handle))[-1]
    for metric in ("reward_raw", "reward", "coef", "share", *EPISODIC_PRESETS[name]):
        assert last[f"intrinsic/{metric}"] != "", metric
    assert float(last["intrinsic/share"]) > 0.0
    novelty: Any = model.intrinsic_state  # type: ignore[attr-defined]
    networks = [novelty.novelty.rnd.predictor] if "noveld" in name else []
    networks += [novelty.novelty.encoder] if "e3b" in name else []
    for net in networks:  # the package's grid CNN (rlfloor.networks.grid_cnn) embeds the grid
        assert sum(isinstance(m, th.nn.Conv2d) for m in net.modules()) == 3


def test_e3b_refuses_a_continuous_action_space() -> None:
    env = gym.make("MountainCarContinuous-v0")
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, device="cpu")
    with pytest.raises(ValueError, match=r"^E3B's inverse-dynamics model needs a Discrete action space"):
        model.learn(32, callback=IntrinsicRewardCallback(method="e3b"))
    assert model.num_timesteps == 0


@pytest.mark.parametrize("batch_size", [None, 16])
def test_e3b_inverse_dynamics_learns_the_action_from_its_transition(batch_size: int | None) -> None:
    """s_{t+1} = s_t + a_t (mod 5): the action is a function of the pair, so the pairs must be aligned to learn it."""
    rng = np.random.default_rng(0)
    n_steps, n_envs = 32, 2
    actions = rng.integers(0, 3, (n_steps, n_envs))
    obs = np.zeros((n_steps, n_envs), dtype=np.int64)
    obs[0] = rng.integers(0, 5, n_envs)
    for t in range(1, n_steps):
        obs[t] = (obs[t - 1] + actions[t - 1]) % 5
    next_obs = (obs + actions) % 5
    starts = np.zeros((n_steps, n_envs), dtype=bool)
    rollout = Rollout(obs=obs, next_obs=next_obs, actions=actions[..., None], episode_starts=starts)
    e3b = E3B(spaces.Discrete(5), spaces.Discrete(3), embedding_dim=8, hidden=32, learning_rate=1e-2, epochs=40,
              batch_size=batch_size, seed=0)  # fmt: skip
    _, metrics = e3b.bonus(rollout)
    assert metrics["inverse_dynamics_accuracy"] == 1.0
