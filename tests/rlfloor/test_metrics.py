"""Exploration metrics: the math of each statistic, and the values that reach TensorBoard.

The integration tests train briefly, read the event files back with TensorBoard's own
reader and check properties that must hold (floor respected, frequencies sum to one,
coverage bounded by the number of states, ...), not just that a tag exists.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlfloor.callbacks import AdaptiveEntropyCallback, ExplorationMetricsCallback, policy_stats
from rlfloor.callbacks.gradients import loop_per_sample_gradients, vmap_per_sample_gradients
from rlfloor.distributions import floored_log_probs
from rlfloor.policies import FlooredActorCriticPolicy
from rlfloor.stats import (
    StateVisitCounter,
    gradient_coherence,
    kl_divergence,
    n_observation_states,
    policy_statistics,
)
from rlfloor.stats.policy import CategoricalBatch, grouped_policy_statistics

SMALL_PPO: dict[str, Any] = dict(n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu")
Scalars = dict[str, list[tuple[int, float]]]


# --------------------------------------------------------------------------- helpers
def read_events(log_dir: Path) -> tuple[Scalars, list[str]]:
    """Scalars ``{tag: [(step, value), ...]}`` and histogram tags of the single run under ``log_dir``."""
    files = sorted(log_dir.rglob("events.out.tfevents*"))
    assert len(files) == 1, files
    accumulator = EventAccumulator(str(files[0]), size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    scalars = {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}
    return scalars, list(accumulator.Tags()["histograms"])


def values(scalars: Scalars, tag: str) -> np.ndarray:
    assert tag in scalars, f"{tag} not logged; logged: {sorted(scalars)}"
    return np.array([v for _, v in scalars[tag]])


def train(model: Any, log_dir: Path, timesteps: int, callbacks: list[Any], **learn_kwargs: Any) -> Scalars:
    model.tensorboard_log = str(log_dir)
    model.learn(timesteps, callback=callbacks, tb_log_name="run", **learn_kwargs)
    return read_events(log_dir)[0]


def assert_in_range(scalars: Scalars, tag: str, low: float, high: float) -> None:
    logged = values(scalars, tag)
    assert np.all((logged >= low) & (logged <= high)), (tag, logged)


def assert_frequencies_match(scalars: Scalars, actions: np.ndarray, n_actions: int) -> None:
    """``explore/action_freq/{i}`` at each dump equals the share of action i since the previous dump.

    :param actions: ``(steps, n_envs)`` actions in the order they were taken.
    """
    steps = [step for step, _ in scalars["explore/action_freq/0"]]
    per_step = actions.shape[1]
    for start, end in zip([0, *steps[:-1]], steps, strict=True):
        window = actions[start // per_step : end // per_step].ravel()
        expected = np.bincount(window, minlength=n_actions) / len(window)
        logged = [dict(scalars[f"explore/action_freq/{i}"])[end] for i in range(n_actions)]
        assert logged == pytest.approx(expected, abs=1e-6)


def assert_frequencies_sum_to_one(scalars: Scalars, prefix: str, n_actions: int) -> None:
    by_step: dict[int, float] = defaultdict(float)
    for i in range(n_actions):
        for step, value in scalars[f"{prefix}{i}"]:
            assert 0.0 <= value <= 1.0
            by_step[step] += value
    assert by_step
    for total in by_step.values():
        assert total == pytest.approx(1.0, abs=1e-5)


def rollout_from_logits(logits: th.Tensor, min_prob: float, mask: th.Tensor | None = None) -> CategoricalBatch:
    valid = th.ones_like(logits, dtype=th.bool) if mask is None else mask
    return CategoricalBatch(log_probs=[floored_log_probs(logits, min_prob, mask)], valid=[valid])


class ScoreAtEpisodeEnd(gym.Wrapper):
    """Puts ``info["score"] = 0.25`` on the step that ends an episode, like the rlfloor envs."""

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, "score": 0.25}
        return obs, reward, terminated, truncated, info


class Witness(gym.Wrapper):
    """Records the actions taken, counts steps and episodes, and remembers the first positive reward."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.steps, self.episodes = 0, 0
        self.first: tuple[int, int] | None = None
        self.actions: list[int] = []

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.actions.append(int(action))
        self.steps += 1
        if self.first is None and reward > 0:
            self.first = (self.steps, self.episodes + 1)
        if terminated or truncated:
            self.episodes += 1
        return obs, reward, terminated, truncated, info


class OneHot(gym.ObservationWrapper):
    """FrozenLake's Discrete(16) state as a float32 one-hot Box, like the rlfloor envs' observations."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(16,), dtype=np.float32)

    def observation(self, observation: Any) -> np.ndarray:
        out = np.zeros(16, dtype=np.float32)
        out[int(observation)] = 1.0
        return out


class DictObservation(gym.ObservationWrapper):
    """Puts the observation under the key ``"pos"`` of a Dict space (for MultiInputPolicy)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = spaces.Dict({"pos": env.observation_space})

    def observation(self, observation: Any) -> dict[str, Any]:
        return {"pos": observation}


class TwoKnobs(gym.Env):
    """MultiDiscrete([2, 3]) actions; reward 1 when both knobs are at 0; episodes of 5 steps."""

    observation_space = spaces.Discrete(5)
    action_space = spaces.MultiDiscrete([2, 3])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.t = 0
        return 0, {}

    def step(self, action: Any) -> Any:
        self.t += 1
        reward = float(action[0] == 0 and action[1] == 0)
        return self.t % 5, reward, self.t == 5, False, {}


def frozen_lake() -> gym.Env:
    return gym.make("FrozenLake-v1", is_slippery=False)


# --------------------------------------------------------------------------- math
def test_policy_statistics_match_hand_computation() -> None:
    m = 0.05
    logits = th.tensor([[0.0, 0.0, 0.0, 0.0], [20.0, 0.0, -20.0, 0.0], [3.0, 1.0, 0.0, -40.0]])
    rollout = rollout_from_logits(logits, m)
    p = floored_log_probs(logits, m).exp().double()
    actions = np.array([[0], [2], [3]])
    stats = policy_statistics(rollout, m, floor_tol=0.01, actions=actions)

    entropy = -(p * p.log()).sum(dim=1)
    assert stats["entropy"] == pytest.approx(float(entropy.mean()), rel=1e-5)
    assert stats["entropy_min"] == pytest.approx(float(entropy.min()), rel=1e-5)
    assert stats["entropy_norm"] == pytest.approx(float(entropy.mean() / math.log(4)), rel=1e-5)
    assert stats["min_prob"] == pytest.approx(m, rel=1e-5)  # the -20 and -40 logits sit on the floor
    assert stats["min_prob_mean"] == pytest.approx(float(p.min(dim=1).values.mean()), rel=1e-5)
    assert stats["uniform_mass"] == pytest.approx(4 * m)
    # pinned at the floor: row 1 actions 1-3 (e^-20 of softmax support), row 2 action 3; none in row 0
    pinned = p <= 1.01 * m
    assert pinned.sum() == 4
    assert stats["floor_mass"] == pytest.approx(float((p * pinned).sum(dim=1).mean()), rel=1e-5)
    # decisions: row 0 chose a uniform action (not pinned), rows 1 and 2 chose pinned actions
    assert stats["at_floor_frac"] == pytest.approx(2 / 3)


def test_policy_statistics_without_floor_and_with_masks() -> None:
    logits = th.tensor([[5.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    mask = th.tensor([[True, False, True], [False, True, False]])
    stats = policy_statistics(rollout_from_logits(logits, 0.0, mask), 0.0, actions=np.array([[0], [1]]))
    p_row0 = th.softmax(th.tensor([5.0, 1.0]), dim=0)
    # min over valid actions only: invalid ones (probability 0) must not count
    assert stats["min_prob"] == pytest.approx(float(p_row0.min()), rel=1e-5)
    # the single-valid-action row has no entropy to normalize: left out of entropy_norm
    h0 = float(-(p_row0 * p_row0.log()).sum())
    assert stats["entropy_norm"] == pytest.approx(h0 / math.log(2), rel=1e-5)
    assert stats["entropy_norm_min"] == stats["entropy_norm"]
    assert stats["floor_mass"] == 0.0 and stats["at_floor_frac"] == 0.0 and stats["uniform_mass"] == 0.0


def test_masked_floor_mass_counts_valid_actions_only() -> None:
    m = 0.1
    logits = th.tensor([[30.0, 0.0, 0.0, -30.0]])
    mask = th.tensor([[True, True, False, True]])
    stats = policy_statistics(rollout_from_logits(logits, m, mask), m)
    assert stats["uniform_mass"] == pytest.approx(3 * m)
    assert stats["min_prob"] == pytest.approx(m, rel=1e-5)
    assert stats["floor_mass"] == pytest.approx(2 * m, rel=1e-4)  # actions 1 and 3 are pinned


def test_kl_divergence_is_exact() -> None:
    generator = th.Generator().manual_seed(0)
    a, b = th.randn(5, 4, generator=generator), th.randn(5, 4, generator=generator)
    old, new = rollout_from_logits(a, 0.02), rollout_from_logits(b, 0.02)
    expected = th.distributions.kl_divergence(
        th.distributions.Categorical(logits=old.log_probs[0].double()),
        th.distributions.Categorical(logits=new.log_probs[0].double()),
    )
    assert th.allclose(kl_divergence(old, new), expected, atol=1e-6)
    assert th.all(kl_divergence(old, old) == 0.0)
    # masked actions (probability 0 in the old policy) add nothing, whatever the new policy says
    mask = th.tensor([[True, True, False, True]] * 5)
    masked_old = rollout_from_logits(a, 0.0, mask)
    shifted = CategoricalBatch(log_probs=[th.where(mask, masked_old.log_probs[0], th.zeros(5, 4))], valid=[mask])
    assert th.all(kl_divergence(masked_old, shifted) < 1e-9)


def test_gradient_coherence_bounds() -> None:
    same = th.tensor([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    assert gradient_coherence([same])[0] == pytest.approx(1.0)
    cancel = th.tensor([[3.0, -1.0], [-3.0, 1.0]])
    coherence, norm = gradient_coherence([cancel, th.zeros(2, 5)])
    assert coherence == pytest.approx(0.0) and norm == pytest.approx(math.sqrt(10))
    random = th.randn(16, 3, 3, generator=th.Generator().manual_seed(1))
    assert 0.0 < gradient_coherence([random])[0] < 1.0
    assert math.isnan(gradient_coherence([th.zeros(4, 2)])[0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=200), st.integers(1, 25))
def test_visit_counter_entropy_and_cap(states: list[int], max_states: int) -> None:
    counter = StateVisitCounter(max_states)
    half = len(states) // 2  # two updates: the running entropy must match a direct computation
    counter.update(np.array(states[:half]).reshape(-1, 1))
    counter.update(np.array(states[half:]).reshape(-1, 1))
    distinct = len(set(states))
    assert counter.distinct == min(distinct, max_states)
    assert counter.saturated == (distinct > max_states)
    counts = np.array(list(counter.counts.values()), dtype=float)
    assert counter.visits == counts.sum() <= len(states)
    if not counter.saturated:  # nothing dropped: the exact visitation counts
        counts = np.unique(states, return_counts=True)[1].astype(float)
        assert counter.visits == len(states)
    p = counts / counts.sum()
    assert counter.entropy() == pytest.approx(float(-(p * np.log(p)).sum()), abs=1e-9)


def test_visit_counter_rows_and_signed_zero() -> None:
    counter = StateVisitCounter()
    counter.update(np.array([[0.0, 1.0], [-0.0, 1.0], [1.0, 0.0]], dtype=np.float32))
    assert counter.distinct == 2
    assert counter.entropy() == pytest.approx(-(2 / 3) * math.log(2 / 3) - (1 / 3) * math.log(1 / 3))


def test_number_of_observation_states() -> None:
    assert n_observation_states(spaces.Discrete(16)) == 16
    assert n_observation_states(spaces.MultiDiscrete([3, 4])) == 12
    assert n_observation_states(spaces.MultiBinary(5)) == 32
    assert n_observation_states(spaces.Box(0, 1, (2,))) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_samples": 0}, r"max_samples=0 is outside the allowed range \[1, inf\)"),
        ({"policy_every": 0}, r"policy_every=0 is outside the allowed range \[1, inf\)"),
        ({"max_states": 2.5}, r"max_states=2.5 must be an integer in \[1, inf\)"),
        ({"grad_samples": 1}, r"grad_samples=1 is outside the allowed range \[2, inf\)"),
        ({"n_states": 0}, r"n_states=0 is outside the allowed range \[1, inf\)"),
        ({"floor_tol": -0.1}, r"floor_tol=-0.1 is outside the allowed range \[0, inf\)"),
        ({"floor_tol": "0.1"}, r"floor_tol='0.1' must be a number in \[0, inf\)"),
        ({"obs_key": "round"}, r"obs_key='round' must be a callable"),
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExplorationMetricsCallback(**kwargs)


def test_first_reward_counts_vector_steps_in_env_order() -> None:
    model = PPO("MlpPolicy", DummyVecEnv([frozen_lake] * 3), n_steps=8, batch_size=8, device="cpu")
    callback = ExplorationMetricsCallback()
    callback.init_callback(model)
    callback.on_training_start({}, {})
    no_info: list[dict[str, Any]] = [{}, {}, {}]
    callback.update_locals({"rewards": np.zeros(3), "dones": np.array([False, True, False]), "infos": no_info})
    callback.on_step()
    rewards, dones = np.array([0.0, 0.0, 1.0]), np.array([True, False, True])
    callback.update_locals({"rewards": rewards, "dones": dones, "infos": no_info})
    callback.on_step()
    # 3 steps before, then envs 0, 1, 2 of the second vector step: env 2 is step 6; one episode
    # ended before the vector step and one (env 0) ended before env 2 within it
    visits = callback.visit_counts
    assert visits.first_reward_step == 6
    assert visits.first_reward_episode == 3
    assert visits.steps == 6 and visits.episodes == 3


# --------------------------------------------------------------------------- TensorBoard integration
def test_floored_ppo_with_adaptive_entropy(tmp_path: Path) -> None:
    min_prob = 0.05
    model = PPO(FlooredActorCriticPolicy, frozen_lake(), policy_kwargs={"min_prob": min_prob}, **SMALL_PPO)
    adaptive = AdaptiveEntropyCallback(target_fraction=0.5, lr=2.0)
    scalars = train(model, tmp_path, 1024, [ExplorationMetricsCallback(), adaptive])
    n_dumps = 1024 // 128

    min_probs = values(scalars, "explore/min_prob")
    assert len(min_probs) == n_dumps
    assert np.all(min_probs >= min_prob * (1 - 1e-5)) and np.all(min_probs <= 0.25 + 1e-6)
    assert np.all(values(scalars, "explore/min_prob_mean") >= min_probs - 1e-7)
    assert np.all(values(scalars, "floor/min_prob") == pytest.approx(min_prob))
    assert np.all(values(scalars, "floor/mass") == pytest.approx(4 * min_prob))
    for tag in ("explore/entropy_norm", "explore/entropy_norm_min", "explore/floor_mass", "explore/at_floor_frac"):
        assert_in_range(scalars, tag, 0.0, 1.0 + 1e-6)
    assert np.all(values(scalars, "explore/entropy_min") <= values(scalars, "explore/entropy") + 1e-6)
    assert np.all(values(scalars, "explore/entropy") <= math.log(4) + 1e-6)
    assert_frequencies_sum_to_one(scalars, "explore/action_freq/", 4)
    coverage = values(scalars, "explore/coverage")
    assert np.all((coverage >= 1) & (coverage <= 16)) and np.all(np.diff(coverage) >= 0)
    assert np.all(values(scalars, "explore/coverage_frac") == pytest.approx(coverage / 16))
    assert np.all(values(scalars, "explore/coverage_saturated") == 0.0)
    assert_in_range(scalars, "explore/visit_entropy", 0.0, math.log(16))
    # the adaptive callback moves the coefficient; the metrics callback shows the one in force
    coefs = values(scalars, "entropy/coef")
    assert len(set(coefs.tolist())) > 1
    assert coefs[-1] == pytest.approx(model.ent_coef, rel=1e-6)
    kl = values(scalars, "explore/kl")
    assert len(kl) == n_dumps - 1 and np.all(kl >= 0.0) and np.all(values(scalars, "explore/kl_max") >= kl)
    # loss terms: the same numbers SB3 logged, weighted as they enter the loss; shares sum to 1
    assert values(scalars, "loss/value") == pytest.approx(0.5 * values(scalars, "train/value_loss"), rel=1e-5)
    assert values(scalars, "loss/policy") == pytest.approx(values(scalars, "train/policy_gradient_loss"), rel=1e-5)
    shares = sum(values(scalars, f"loss/{term}_share") for term in ("policy", "value", "entropy"))
    assert shares == pytest.approx(np.ones(n_dumps - 1), abs=1e-5)
    assert "explore/actions" in read_events(tmp_path)[1]


def test_stock_ppo_is_measured_the_same_way(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", "CartPole-v1", ent_coef=0.01, **SMALL_PPO)
    scalars = train(model, tmp_path, 512, [ExplorationMetricsCallback()])
    min_probs = values(scalars, "explore/min_prob")
    assert np.all((min_probs > 0.0) & (min_probs <= 0.5))
    assert np.all(values(scalars, "floor/min_prob") == 0.0)
    assert np.all(values(scalars, "explore/floor_mass") == 0.0)
    assert np.all(values(scalars, "entropy/coef") == pytest.approx(0.01))
    assert values(scalars, "loss/entropy") == pytest.approx(0.01 * values(scalars, "train/entropy_loss"), rel=1e-5)
    # CartPole pays +1 on the very first step of the very first episode
    assert np.all(values(scalars, "explore/first_reward_step") == 1)
    assert np.all(values(scalars, "explore/first_reward_episode") == 1)
    assert not any(tag.startswith("explore/coverage") for tag in scalars)  # continuous observations


def test_a2c_default_log_interval_with_vector_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0, wrapper_class=Witness)
    model = A2C("MlpPolicy", env, seed=0, device="cpu")
    evaluations: list[tuple[int, dict[str, float]]] = []

    def spy(batch: Any, min_probs: list[float], *args: Any, **kwargs: Any) -> dict[str, list[float]]:
        # the interval's evaluated rollouts are computed together before the dump: one group each
        stats = grouped_policy_statistics(batch, min_probs, *args, **kwargs)
        for group in range(len(min_probs)):
            evaluations.append((model.num_timesteps, {key: values[group] for key, values in stats.items()}))
        return stats

    monkeypatch.setattr(policy_stats, "grouped_policy_statistics", spy)
    scalars = train(model, tmp_path, 4000, [ExplorationMetricsCallback(grad_coherence=True)])
    # 5 steps x 4 envs per rollout, a dump every 100 rollouts: at 2000 and 4000 steps
    assert [step for step, _ in scalars["explore/entropy"]] == [2000, 4000]
    # each dump aggregates every evaluation of its interval (every 4th rollout: >= 64 states each)
    for start, end in [(0, 2000), (2000, 4000)]:
        interval = [stats for step, stats in evaluations if start < step <= end]
        assert len(interval) == 25
        assert dict(scalars["explore/min_prob"])[end] == pytest.approx(min(s["min_prob"] for s in interval))
        assert dict(scalars["explore/entropy_min"])[end] == pytest.approx(min(s["entropy_min"] for s in interval))
        mean_entropy = np.mean([s["entropy"] for s in interval])
        assert dict(scalars["explore/entropy"])[end] == pytest.approx(mean_entropy, rel=1e-5)
    assert_frequencies_sum_to_one(scalars, "explore/action_freq/", 2)
    # aggregated over all 100 rollouts of each interval, not just the last one
    assert_frequencies_match(scalars, np.array([w.actions for w in env.envs]).T, 2)  # type: ignore[attr-defined]
    assert np.all(values(scalars, "explore/first_reward_step") == 1)
    assert np.all(values(scalars, "explore/entropy_norm") <= 1.0 + 1e-6)
    kl = values(scalars, "explore/kl")
    assert len(kl) == 2 and np.all(kl > 0.0)
    assert_in_range(scalars, "explore/grad_coherence", 0.0, 1.0)
    for term in ("policy", "value", "entropy"):
        assert len(values(scalars, f"loss/{term}")) == 2


def test_rollout_before_a_dump_is_always_evaluated(tmp_path: Path) -> None:
    model = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    scalars = train(model, tmp_path, 200, [ExplorationMetricsCallback(policy_every=1000)], log_interval=10)
    assert [step for step, _ in scalars["explore/entropy"]] == [50, 100, 150, 200]


def test_masked_ppo_floor_over_valid_actions(tmp_path: Path, masked_env_factory: Callable[[], gym.Env]) -> None:
    sb3_contrib = pytest.importorskip("sb3_contrib")
    from rlfloor.contrib.policies import FlooredMaskableActorCriticPolicy

    min_prob = 0.1
    model = sb3_contrib.MaskablePPO(
        FlooredMaskableActorCriticPolicy, masked_env_factory(), policy_kwargs={"min_prob": min_prob}, **SMALL_PPO
    )
    scalars = train(model, tmp_path, 512, [ExplorationMetricsCallback(grad_coherence=True)])
    # corner states have 2 valid actions: masked-out actions (probability 0) are not counted
    min_probs = values(scalars, "explore/min_prob")
    assert np.all(min_probs >= min_prob * (1 - 1e-5)) and np.all(min_probs <= 0.5 + 1e-6)
    uniform_mass = values(scalars, "floor/mass")  # K_valid * m, K_valid in {2, 3, 4}
    assert np.all((uniform_mass >= 2 * min_prob - 1e-9) & (uniform_mass < 4 * min_prob))
    assert np.all(values(scalars, "explore/coverage") <= 16)
    coherence = values(scalars, "explore/grad_coherence")
    assert len(coherence) == 4 and np.all((coherence >= 0.0) & (coherence <= 1.0))


def test_logit_penalty_is_a_loss_term(tmp_path: Path) -> None:
    policy_kwargs = {"logit_penalty": 1.0, "logit_penalty_bound": 1e-4}  # every logit is beyond the bound
    model = PPO(FlooredActorCriticPolicy, "CartPole-v1", policy_kwargs=policy_kwargs, **SMALL_PPO)
    scalars = train(model, tmp_path, 384, [ExplorationMetricsCallback()])
    assert np.all(values(scalars, "loss/logit_penalty") > 0.0)
    terms = ("policy", "value", "entropy", "logit_penalty")
    assert sum(values(scalars, f"loss/{term}_share") for term in terms) == pytest.approx(np.ones(2), abs=1e-5)


def test_kl_is_zero_when_the_policy_does_not_change(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=0.0, **SMALL_PPO)
    scalars = train(model, tmp_path, 512, [ExplorationMetricsCallback()])
    assert np.all(values(scalars, "explore/kl") < 1e-7)
    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=1e-2, **SMALL_PPO)
    scalars = train(model, tmp_path / "moving", 512, [ExplorationMetricsCallback()])
    assert np.all(values(scalars, "explore/kl") > 1e-6)


def test_first_reward_and_episode_score(tmp_path: Path) -> None:
    witness = Witness(ScoreAtEpisodeEnd(frozen_lake()))
    model = PPO("MlpPolicy", witness, **SMALL_PPO)
    scalars = train(model, tmp_path, 1024, [ExplorationMetricsCallback()])
    assert witness.first is not None, "the seeded run never reached the goal"
    assert np.all(values(scalars, "explore/first_reward_step") == witness.first[0])
    assert np.all(values(scalars, "explore/first_reward_episode") == witness.first[1])
    assert values(scalars, "explore/episode_score") == pytest.approx(0.25)
    assert_frequencies_match(scalars, np.array(witness.actions)[:, None], 4)


def test_coverage_for_one_hot_box_observations_and_saturation(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", OneHot(frozen_lake()), **SMALL_PPO)
    scalars = train(model, tmp_path, 512, [ExplorationMetricsCallback(n_states=16)])
    coverage = values(scalars, "explore/coverage")
    assert np.all((coverage >= 2) & (coverage <= 16))
    assert "explore/coverage_frac" in scalars
    model = PPO("MlpPolicy", frozen_lake(), **SMALL_PPO)
    scalars = train(model, tmp_path / "capped", 512, [ExplorationMetricsCallback(max_states=3)])
    assert values(scalars, "explore/coverage")[-1] == 3
    assert values(scalars, "explore/coverage_saturated")[-1] == 1.0


def test_obs_key_discretizes_continuous_observations(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", "CartPole-v1", **SMALL_PPO)
    callback = ExplorationMetricsCallback(obs_key=lambda obs: np.sign(np.asarray(obs)[:, 2:3]))
    scalars = train(model, tmp_path, 256, [callback])
    # the sign of the pole angle: at most 3 cells (-1, 0, +1); both sides are visited quickly
    assert values(scalars, "explore/coverage")[-1] in (2, 3)


def test_multidiscrete_actions(tmp_path: Path) -> None:
    min_prob = 0.1
    model = PPO(FlooredActorCriticPolicy, TwoKnobs(), policy_kwargs={"min_prob": min_prob}, **SMALL_PPO)
    scalars = train(model, tmp_path, 512, [ExplorationMetricsCallback(grad_coherence=True)])
    assert np.all(values(scalars, "explore/min_prob") >= min_prob * (1 - 1e-5))
    assert np.all(values(scalars, "floor/mass") == pytest.approx((2 + 3) * min_prob / 2))  # mean over sub-spaces
    assert np.all(values(scalars, "explore/entropy") <= math.log(2) + math.log(3) + 1e-6)
    assert_frequencies_sum_to_one(scalars, "explore/action_freq/0/", 2)
    assert_frequencies_sum_to_one(scalars, "explore/action_freq/1/", 3)
    assert np.all(values(scalars, "explore/coverage") == 5)
    assert_in_range(scalars, "explore/grad_coherence", 0.0, 1.0)
    assert {"explore/actions/0", "explore/actions/1"} <= set(read_events(tmp_path)[1])


def test_dict_observations_and_box_actions(tmp_path: Path) -> None:
    model = PPO("MultiInputPolicy", DictObservation(OneHot(frozen_lake())), **SMALL_PPO)
    callback = ExplorationMetricsCallback(grad_coherence=True, obs_key=lambda obs: obs["pos"])
    scalars = train(model, tmp_path, 256, [callback])
    assert np.all(values(scalars, "explore/entropy_norm") <= 1.0 + 1e-6)
    assert_in_range(scalars, "explore/coverage", 1, 16)
    assert len(values(scalars, "explore/kl")) == 1
    # Box actions: Gaussian statistics (tests/rlfloor/callbacks/test_box_metrics.py), gradient coherence, losses
    model = PPO(FlooredActorCriticPolicy, "Pendulum-v1", policy_kwargs={"min_std": 0.1}, **SMALL_PPO)
    scalars = train(model, tmp_path / "box", 256, [ExplorationMetricsCallback(grad_coherence=True)])
    assert np.all(values(scalars, "floor/min_std") == pytest.approx(0.1))
    assert_in_range(scalars, "explore/grad_coherence", 0.0, 1.0)
    assert "loss/value" in scalars and "explore/std_min" in scalars and "explore/min_prob" not in scalars


def test_vmap_and_loop_per_sample_gradients_agree() -> None:
    model = PPO(FlooredActorCriticPolicy, "CartPole-v1", policy_kwargs={"min_prob": 0.05}, **SMALL_PPO)
    generator = th.Generator().manual_seed(0)
    obs, actions = th.randn(6, 4, generator=generator), th.tensor([0, 1, 1, 0, 1, 0])
    advantages = th.randn(6, generator=generator)
    fast = vmap_per_sample_gradients(model.policy, obs, actions, advantages, None)
    slow = loop_per_sample_gradients(model.policy, obs, actions, advantages, None)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert th.allclose(a, b, atol=1e-6)
    # one sample by hand: the gradient of A * log pi(a|s)
    model.policy.zero_grad()
    (advantages[2] * model.policy.get_distribution(obs[2:3]).log_prob(actions[2:3]).sum()).backward()
    weight = model.policy.action_net.weight.grad
    names = [name for name, p in model.policy.named_parameters() if p.requires_grad]
    assert th.allclose(fast[names.index("action_net.weight")][2], weight, atol=1e-6)
