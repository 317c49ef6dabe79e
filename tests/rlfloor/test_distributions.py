"""The math of the floored distributions: floor, normalization, exact entropy, extremes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as th
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from stable_baselines3.common.distributions import (
    CategoricalDistribution,
    DiagGaussianDistribution,
    kl_divergence,
)

from rlfloor.distributions import (
    FlooredCategoricalDistribution,
    FlooredDiagGaussianDistribution,
    FlooredMultiCategoricalDistribution,
    check_min_prob,
    floored_log_probs,
    make_floored_proba_distribution,
    min_entropy_with_floor,
)

F32_TOL = 2e-6  # float32 rounding on probabilities of order 1


@st.composite
def logits_and_floor(draw: st.DrawFn, max_abs: float = 1e4) -> tuple[th.Tensor, float]:
    k = draw(st.integers(2, 8))
    batch = draw(st.integers(1, 4))
    values = draw(arrays(np.float32, (batch, k), elements=st.floats(-max_abs, max_abs, allow_nan=False, width=32)))
    # Floors below 1e-30 are numerically zero; with the floor as the reference point, the relative
    # error of p is about log(1/m) * 2**-24 (see rlfloor.distributions.floored_logits).
    min_prob = draw(st.one_of(st.just(0.0), st.floats(1e-30, 0.999 / k)))
    if min_prob == 0.0:
        # No floor is SB3's Categorical(logits=z), bit for bit (test_zero_floor_is_sb3): its float32
        # normalization z - logsumexp(z) errs by about |z| * 2**-24, so the exactness properties below
        # are checked at ordinary logit scales there; floors > 0 keep them at +-1e4.
        values = np.clip(values, -64.0, 64.0)
    return th.as_tensor(values), min_prob


def exact_entropy(probs: th.Tensor) -> th.Tensor:
    p = probs.double()
    return -(p * th.where(p > 0, p.log(), th.zeros_like(p))).sum(-1)


@settings(max_examples=200, deadline=None)
@given(logits_and_floor())
def test_floor_holds_sums_to_one_and_log_prob_matches(case: tuple[th.Tensor, float]) -> None:
    logits, min_prob = case
    k = logits.shape[1]
    dist = FlooredCategoricalDistribution(k, min_prob).proba_distribution(logits)
    probs = dist.distribution.probs
    assert th.all(probs >= min_prob * (1 - 1e-5) - 1e-7)
    assert th.allclose(probs.sum(-1), th.ones(len(logits)), atol=F32_TOL)
    for action in range(k):
        actions = th.full((len(logits),), action)
        log_prob = dist.log_prob(actions)
        assert th.all(th.isfinite(log_prob))
        assert th.allclose(log_prob.exp(), probs[:, action], atol=F32_TOL, rtol=1e-5)


@settings(max_examples=200, deadline=None)
@given(logits_and_floor())
def test_entropy_is_exact_and_argmax_unchanged(case: tuple[th.Tensor, float]) -> None:
    logits, min_prob = case
    dist = FlooredCategoricalDistribution(logits.shape[1], min_prob).proba_distribution(logits)
    assert th.allclose(dist.entropy().double(), exact_entropy(dist.distribution.probs), atol=1e-5)
    # The floor is monotone in softmax(z): the deterministic action is a most likely one
    # without the floor too (up to float32 ties).
    soft = th.softmax(logits.double(), dim=1)
    mode = dist.mode()
    assert th.all(soft.gather(1, mode[:, None]).squeeze(1) >= soft.max(dim=1).values - 1e-6)
    # And the entropy can never fall below what the floor guarantees.
    assert th.all(dist.entropy() >= min_entropy_with_floor(min_prob, logits.shape[1]) - 1e-4)


@settings(max_examples=100, deadline=None)
@given(logits_and_floor(), logits_and_floor())
def test_kl_is_nonnegative(case_p: tuple[th.Tensor, float], case_q: tuple[th.Tensor, float]) -> None:
    logits_p, min_prob = case_p
    logits_q, _ = case_q
    if logits_p.shape != logits_q.shape:
        logits_q = th.zeros_like(logits_p)
    k = logits_p.shape[1]
    p = FlooredCategoricalDistribution(k, min_prob).proba_distribution(logits_p)
    q = FlooredCategoricalDistribution(k, min_prob).proba_distribution(logits_q)
    kl = kl_divergence(p, q)
    assert th.all(kl >= -1e-5)
    if min_prob >= th.finfo(th.float32).tiny:
        # torch's KL is inf where q's probability underflows to 0; a floor that float32
        # can represent rules that out.
        assert th.all(th.isfinite(kl))
    assert th.allclose(kl_divergence(p, p), th.zeros(len(logits_p)), atol=1e-5)


@pytest.mark.parametrize("min_prob", [0.0, 1e-4, 0.05, 0.24])
def test_gradients_finite_at_extreme_logits(min_prob: float) -> None:
    logits = th.tensor([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, 1e4]], requires_grad=True)
    dist = FlooredCategoricalDistribution(4, min_prob).proba_distribution(logits)
    loss = dist.entropy().sum() + dist.log_prob(th.tensor([1, 0])).sum()
    loss.backward()
    assert logits.grad is not None and th.all(th.isfinite(logits.grad))
    assert th.all(th.isfinite(dist.entropy()))
    if min_prob > 0:
        # log-prob of the disfavoured action is exactly log(min_prob) to float32 rounding,
        # and its gradient is not zero: the floor keeps a learning signal at the extremes.
        assert dist.log_prob(th.tensor([1, 0]))[0].item() == pytest.approx(math.log(min_prob), rel=1e-5)


def test_zero_floor_is_sb3() -> None:
    """At ``min_prob=0`` the floored categorical is SB3's, bit for bit (so a floor switched off is stock)."""
    logits = th.randn(16, 5, generator=th.Generator().manual_seed(0)) * 30
    ours = FlooredCategoricalDistribution(5, 0.0).proba_distribution(logits)
    theirs = CategoricalDistribution(5).proba_distribution(logits)
    assert th.equal(ours.distribution.logits, theirs.distribution.logits)
    assert th.equal(ours.distribution.probs, theirs.distribution.probs)
    assert th.equal(ours.entropy(), theirs.entropy())
    actions = th.arange(16) % 5
    assert th.equal(ours.log_prob(actions), theirs.log_prob(actions))
    assert th.equal(ours.mode(), theirs.mode())


def test_floored_log_probs_closed_form() -> None:
    logits = th.tensor([[2.0, 0.0, -1.0]])
    m = 0.1
    expected = m + (1 - 3 * m) * th.softmax(logits, -1)
    assert th.allclose(floored_log_probs(logits, m).exp(), expected, atol=1e-7)


def test_multidiscrete_floor_per_subspace() -> None:
    dims = [2, 5, 3]
    logits = th.tensor([[1e4, -1e4, 50.0, -50.0, 0.0, 1.0, 2.0, 3.0, -1e4, 1e4]], requires_grad=True)
    dist = FlooredMultiCategoricalDistribution(dims, min_prob=0.1).proba_distribution(logits)
    for sub, k in zip(dist.distribution, dims, strict=True):
        assert sub.probs.shape[-1] == k
        assert th.all(sub.probs >= 0.1 - 1e-6)
        assert th.allclose(sub.probs.sum(-1), th.ones(1), atol=F32_TOL)
    actions = th.tensor([[1, 4, 0]])
    expected = sum(float(sub.probs[0, a].log().detach()) for sub, a in zip(dist.distribution, actions[0], strict=True))
    assert dist.log_prob(actions).item() == pytest.approx(expected, rel=1e-5)
    expected_entropy = sum(float(exact_entropy(sub.probs.detach())[0]) for sub in dist.distribution)
    assert dist.entropy().item() == pytest.approx(expected_entropy, abs=1e-5)
    (dist.entropy().sum() + dist.log_prob(actions).sum()).backward()
    assert logits.grad is not None and th.all(th.isfinite(logits.grad))
    with pytest.raises(ValueError, match=r"min_prob=0\.2.*\[0, 1/5\)"):
        FlooredMultiCategoricalDistribution(dims, min_prob=0.2)


@pytest.mark.parametrize("log_std", [-30.0, -2.0, 0.0, 3.0])
def test_gaussian_std_floor_with_gradient(log_std: float) -> None:
    mean = th.zeros(3, 2)
    log_std_param = th.full((2,), log_std, requires_grad=True)
    dist = FlooredDiagGaussianDistribution(2, min_std=0.2).proba_distribution(mean, log_std_param)
    std = dist.distribution.stddev
    assert th.all(std >= 0.2)
    assert th.allclose(std, th.full_like(std, 0.2 + math.exp(log_std)))
    actions = th.ones(3, 2)
    dist.log_prob(actions).sum().backward()
    assert log_std_param.grad is not None and th.all(th.isfinite(log_std_param.grad))
    if log_std > -10:
        assert th.all(log_std_param.grad != 0)


def test_gaussian_zero_floor_is_sb3() -> None:
    mean, log_std = th.randn(4, 3), th.randn(3)
    ours = FlooredDiagGaussianDistribution(3, 0.0).proba_distribution(mean, log_std)
    theirs = DiagGaussianDistribution(3).proba_distribution(mean, log_std)
    actions = th.randn(4, 3)
    assert th.equal(ours.log_prob(actions), theirs.log_prob(actions))


@pytest.mark.parametrize("bad", [-0.01, 0.25, 0.5, math.nan, math.inf, True, "0.1"])
def test_bad_min_prob_is_rejected_with_the_value(bad: object) -> None:
    with pytest.raises(ValueError, match="min_prob"):
        check_min_prob(bad, 4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re_escape_value(bad)):
        FlooredCategoricalDistribution(4, bad)  # type: ignore[arg-type]


def re_escape_value(value: object) -> str:
    import re

    return re.escape(repr(value))


def test_min_prob_assignment_is_validated() -> None:
    dist = FlooredCategoricalDistribution(3, 0.1)
    dist.min_prob = 0.3
    assert dist.min_prob == 0.3
    with pytest.raises(ValueError, match=r"\[0, 1/3\)"):
        dist.min_prob = 1 / 3


def test_unsupported_space_names_supported_ones() -> None:
    from gymnasium import spaces

    with pytest.raises(ValueError, match=r"Discrete, MultiDiscrete, MultiBinary.*Box"):
        make_floored_proba_distribution(spaces.Tuple([spaces.Discrete(2)]), 0.0)


def test_min_entropy_with_floor_brute_force() -> None:
    # Among distributions with p_i >= m, the minimum entropy puts m on all but one action.
    rng = np.random.default_rng(0)
    m, k = 0.05, 4
    samples = rng.dirichlet(np.full(k, 0.3), size=20000) * (1 - k * m) + m
    entropies = -(samples * np.log(samples)).sum(1)
    assert min_entropy_with_floor(m, k) <= entropies.min() + 1e-9
    assert min_entropy_with_floor(m, k) == pytest.approx(entropies.min(), abs=0.02)


@pytest.mark.parametrize("min_prob", [0.0, 1e-9, 0.02, 0.2])
def test_normalized_categorical_is_torchs_categorical(min_prob: float) -> None:
    """The fast path (no second normalization) behaves as torch's Categorical on the same log-probs."""
    from torch.distributions import Categorical, kl_divergence

    from rlfloor.distributions import NormalizedCategorical, floored_categorical

    logits = th.tensor([[1e4, -1e4, 0.0, 3.0], [0.5, -0.2, 0.1, 0.0]], requires_grad=True)
    fast = floored_categorical(logits, min_prob)
    assert isinstance(fast, NormalizedCategorical) == (min_prob >= 1e-6)
    log_p = floored_log_probs(logits, min_prob)
    torch_dist = Categorical(logits=log_p)
    actions = th.tensor([1, 2])
    assert th.allclose(fast.log_prob(actions), torch_dist.log_prob(actions), atol=1e-6)
    assert th.allclose(fast.entropy(), torch_dist.entropy(), atol=1e-6)
    assert th.allclose(fast.probs, torch_dist.probs, atol=1e-7)
    assert th.allclose(fast.probs.sum(-1), th.ones(2), atol=F32_TOL)
    assert th.equal(fast.probs.argmax(-1), torch_dist.probs.argmax(-1))
    assert th.allclose(kl_divergence(fast, torch_dist), th.zeros(2), atol=1e-6)
    th.manual_seed(0)
    drawn = fast.sample((4000,))
    assert drawn.shape == (4000, 2)
    frequencies = th.stack([(drawn[:, 1] == a).float().mean() for a in range(4)])
    assert th.allclose(frequencies, torch_dist.probs[1].detach(), atol=0.03)
    (fast.log_prob(actions).sum() + fast.entropy().sum()).backward()
    assert logits.grad is not None and th.all(th.isfinite(logits.grad))
