"""The floored Bernoulli (MultiBinary actions): each bit's probability in [m, 1 - m], in log space."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as th
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.distributions import BernoulliDistribution
from stable_baselines3.common.envs import IdentityEnvMultiBinary

from rlfloor.distributions import FlooredBernoulliDistribution, make_floored_proba_distribution
from rlfloor.policies import FlooredActorCriticPolicy


@st.composite
def bit_logits_and_floor(draw: st.DrawFn) -> tuple[th.Tensor, float]:
    bits = draw(st.integers(1, 6))
    batch = draw(st.integers(1, 4))
    values = draw(arrays(np.float32, (batch, bits), elements=st.floats(-1e4, 1e4, allow_nan=False, width=32)))
    min_prob = draw(st.one_of(st.just(0.0), st.floats(1e-30, 0.4999)))
    return th.as_tensor(values), min_prob


def all_outcomes(bits: int) -> th.Tensor:
    return th.tensor(list(np.ndindex(*([2] * bits))), dtype=th.float32)


@settings(max_examples=200, deadline=None)
@given(bit_logits_and_floor())
def test_floor_holds_and_log_prob_is_log_of_probs(case: tuple[th.Tensor, float]) -> None:
    logits, m = case
    dist = FlooredBernoulliDistribution(logits.shape[1], m).proba_distribution(logits)
    p = dist.distribution.probs
    assert th.all(th.isfinite(p))
    assert th.all(p >= m * (1 - 1e-5) - 1e-7) and th.all(p <= 1 - m * (1 - 1e-5) + 1e-7)
    # the closed form, computed in float64
    expected = m + (1 - 2 * m) * th.sigmoid(logits.double())
    assert th.allclose(p.double(), expected, atol=2e-6, rtol=1e-5)
    for bits in (th.zeros_like(logits), th.ones_like(logits)):
        log_prob = dist.log_prob(bits)  # summed over bits, as SB3's
        assert th.all(th.isfinite(log_prob))
        # log p and log(1 - p) in float64 log space: logaddexp(log m, log(1 - 2m) + logsigmoid(+-z))
        z = logits.double()
        log_m = th.tensor(math.log(m) if m > 0 else -math.inf, dtype=th.float64)
        log_p1 = th.logaddexp(log_m, math.log1p(-2 * m) + th.nn.functional.logsigmoid(z))
        log_p0 = th.logaddexp(log_m, math.log1p(-2 * m) + th.nn.functional.logsigmoid(-z))
        per_bit = th.where(bits > 0, log_p1, log_p0).sum(-1)
        assert th.allclose(log_prob.double(), per_bit, atol=1e-4, rtol=1e-5)


@settings(max_examples=100, deadline=None)
@given(bit_logits_and_floor())
def test_entropy_is_exact(case: tuple[th.Tensor, float]) -> None:
    logits, m = case
    dist = FlooredBernoulliDistribution(logits.shape[1], m).proba_distribution(logits)
    p = (m + (1 - 2 * m) * th.sigmoid(logits.double())).clamp(0, 1)
    xlogx = lambda q: th.where(q > 0, q * q.log(), th.zeros_like(q))  # noqa: E731
    expected = -(xlogx(p) + xlogx(1 - p)).sum(-1)
    assert th.allclose(dist.entropy().double(), expected, atol=1e-5)
    if m > 0:  # the floor's entropy guarantee, per bit
        assert th.all(dist.entropy() >= logits.shape[1] * -(m * math.log(m) + (1 - m) * math.log(1 - m)) - 1e-4)


def test_log_prob_sums_to_one_over_all_outcomes() -> None:
    logits = th.tensor([[3.0, -1e4, 1e4]])
    dist = FlooredBernoulliDistribution(3, 0.1).proba_distribution(logits.expand(8, 3))
    total = dist.log_prob(all_outcomes(3)).exp().sum()
    assert total.item() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("m", [0.0, 1e-4, 0.05, 0.49])
def test_finite_values_and_gradients_at_extreme_logits(m: float) -> None:
    logits = th.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    dist = FlooredBernoulliDistribution(3, m).proba_distribution(logits)
    actions = th.tensor([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    loss = dist.entropy().sum() + dist.log_prob(actions).sum()
    assert th.isfinite(loss)
    loss.backward()
    assert logits.grad is not None and th.all(th.isfinite(logits.grad))
    if m > 0:
        # bit 0 of row 0 chose 0 against a logit of +1e4: its log-prob is exactly log m
        per_bit = dist.distribution.log_prob(actions)
        assert per_bit[0, 0].item() == pytest.approx(math.log(m), rel=1e-5)


def test_zero_floor_is_sb3() -> None:
    logits = th.randn(8, 4, generator=th.Generator().manual_seed(0)) * 5
    ours = FlooredBernoulliDistribution(4, 0.0).proba_distribution(logits)
    theirs = BernoulliDistribution(4).proba_distribution(logits)
    actions = (th.rand(8, 4, generator=th.Generator().manual_seed(1)) > 0.5).float()
    assert th.equal(ours.log_prob(actions), theirs.log_prob(actions))
    assert th.equal(ours.entropy(), theirs.entropy())
    assert th.equal(ours.mode(), theirs.mode())


def test_bad_floor_and_factory() -> None:
    from gymnasium import spaces

    with pytest.raises(ValueError, match=r"min_prob=0\.5 .* = \[0, 1/2\)"):
        FlooredBernoulliDistribution(3, 0.5)
    assert isinstance(make_floored_proba_distribution(spaces.MultiBinary(3), 0.1), FlooredBernoulliDistribution)
    with pytest.raises(ValueError, match="1-D MultiBinary"):
        make_floored_proba_distribution(spaces.MultiBinary([2, 2]), 0.1)


@pytest.mark.parametrize("algo", [PPO, A2C])
def test_ppo_and_a2c_learn_multibinary_with_the_floor(algo: type) -> None:
    """SB3's own identity test for MultiBinary (tests/test_identity.py) with the floored policy."""
    env = IdentityEnvMultiBinary(4, ep_length=16)
    kwargs = dict(n_steps=64, batch_size=32) if algo is PPO else dict(n_steps=8)
    model = algo(FlooredActorCriticPolicy, env, learning_rate=0.05, policy_kwargs={"min_prob": 0.1}, seed=0, **kwargs)
    model.learn(256)
    observations = np.stack([env.observation_space.sample() for _ in range(16)])
    obs_tensor, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        p = model.policy.get_distribution(obs_tensor).distribution.probs
    assert th.all(p >= 0.1 - 1e-6) and th.all(p <= 0.9 + 1e-6)
    assert model.policy.n_actions == 2 and model.policy.max_floor == 0.5


def test_multibinary_refuses_logit_options() -> None:
    from gymnasium import spaces

    with pytest.raises(ValueError, match="need Discrete or MultiDiscrete"):
        FlooredActorCriticPolicy(spaces.Box(-1, 1, (3,)), spaces.MultiBinary(3), lambda _: 3e-4, temperature=2.0)
