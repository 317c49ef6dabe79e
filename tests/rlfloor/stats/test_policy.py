"""Gaussian statistics, the single maximum-entropy function, per-dimension action spread, grouped statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from rlfloor.callbacks.entropy import max_entropy as space_max_entropy
from rlfloor.stats import (
    CategoricalBatch,
    GaussianBatch,
    action_std,
    concat_batches,
    gaussian_kl_divergence,
    gaussian_statistics,
    grouped_logp_adv_cov,
    grouped_policy_statistics,
    grouped_state_logp_adv_cov,
    logp_adv_cov,
    max_entropy,
    policy_statistics,
    state_logp_adv_cov,
)


def test_max_entropy_one_definition() -> None:
    assert float(max_entropy([4])) == pytest.approx(math.log(4))
    assert float(max_entropy([2, 3])) == pytest.approx(math.log(6))
    assert space_max_entropy(spaces.MultiDiscrete([2, 3])) == pytest.approx(math.log(6))
    valid = [th.tensor([[True, True, False], [True, False, False]])]
    batch = CategoricalBatch(log_probs=[th.zeros(2, 3)], valid=valid)
    assert batch.max_entropy().tolist() == pytest.approx([math.log(2), 0.0])


def test_gaussian_statistics_are_exact() -> None:
    mean = th.tensor([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    std = th.tensor([[0.2, 1.0], [0.15, 3.0], [0.1, 0.5]])
    stats = gaussian_statistics(GaussianBatch(mean, std), min_std=0.1)
    entropy = th.distributions.Normal(mean.double(), std.double()).entropy().sum(dim=1)
    assert stats["entropy"] == pytest.approx(float(entropy.mean()))
    assert stats["entropy_min"] == pytest.approx(float(entropy.min()))
    assert stats["std_min"] == pytest.approx(0.1)
    assert stats["std_mean"] == pytest.approx(float(std.double().mean()))
    assert stats["std_floor_share"] == pytest.approx(float((0.1 / std.double()).mean()))
    assert gaussian_statistics(GaussianBatch(mean, std))["std_floor_share"] == 0.0
    # the Gaussian log-prob matches torch's, summed over dimensions
    actions = th.tensor([[0.1, 0.9], [2.0, 0.0], [0.0, 0.0]])
    expected = th.distributions.Normal(mean.double(), std.double()).log_prob(actions.double()).sum(dim=1)
    assert th.allclose(GaussianBatch(mean, std).log_prob(actions), expected)


def test_gaussian_kl_and_action_std() -> None:
    a = GaussianBatch(th.zeros(2, 1), th.ones(2, 1))
    b = GaussianBatch(th.ones(2, 1), th.ones(2, 1))
    assert gaussian_kl_divergence(a, b).tolist() == pytest.approx([0.5, 0.5])  # (mu difference)^2 / 2
    assert gaussian_kl_divergence(a, a).tolist() == [0.0, 0.0]
    actions = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    assert action_std(actions).tolist() == pytest.approx([math.sqrt(8 / 3), 0.0])


def _floored_batch(logits: th.Tensor, valid: th.Tensor, min_prob: float) -> CategoricalBatch:
    """Log-probabilities ``K m / K + (1 - K m) softmax`` over the valid actions (``-inf`` elsewhere)."""
    masked = th.where(valid, logits, th.full_like(logits, -math.inf))
    n_valid = valid.sum(dim=-1, keepdim=True)
    probs = n_valid * min_prob / n_valid + (1 - n_valid * min_prob) * th.softmax(masked, dim=-1)
    return CategoricalBatch(log_probs=[th.where(valid, probs, th.zeros_like(probs)).log()], valid=[valid])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grouped_statistics_equal_each_group_alone(seed: int) -> None:
    """Groups of a concatenated batch (rollouts of one interval) give each group's own statistics,
    with each group's floor; one group has a single valid action per state (no entropy_norm)."""
    rng = th.Generator().manual_seed(seed)
    floors, size, k = [0.05, 0.0, 0.1, 0.05], 6, 4
    groups, chosen = [], []
    for g, floor in enumerate(floors):
        logits = 4 * th.randn(size, k, generator=rng)
        valid = th.rand(size, k, generator=rng) < 0.7
        valid[:, 0] = True
        if g == 3:
            valid[:, 1:] = False  # one valid action: entropy_norm undefined for this group
        groups.append(_floored_batch(logits, valid, floor))
        actions = [int(th.multinomial(valid[i].float(), 1, generator=rng)) for i in range(size)]
        chosen.append(np.array(actions).reshape(size, 1))
    batch = concat_batches(groups)
    assert isinstance(batch, CategoricalBatch) and batch.n_samples == size * len(floors)
    grouped = grouped_policy_statistics(batch, floors, 0.01, np.concatenate(chosen))
    for g, (group, floor) in enumerate(zip(groups, floors, strict=True)):
        alone = policy_statistics(group, floor, 0.01, chosen[g])
        for key, value in alone.items():
            assert grouped[key][g] == pytest.approx(value, rel=1e-6, abs=1e-9), (g, key)
        if g == 3:
            assert "entropy_norm" not in alone and math.isnan(grouped["entropy_norm"][g])
    assert grouped["floor_mass"][1] == 0.0 and grouped["at_floor_frac"][1] == 0.0  # the group without a floor
    with pytest.raises(ValueError, match="split the batch's 24 states evenly"):
        grouped_policy_statistics(batch, [0.1] * 5)


def test_grouped_covariance_equals_each_row_alone() -> None:
    rng = np.random.default_rng(0)
    lp, expected, adv = (th.tensor(rng.normal(size=(3, 7))) for _ in range(3))
    rows = grouped_logp_adv_cov(lp, adv).tolist()
    state_rows = grouped_state_logp_adv_cov(lp, expected, adv).tolist()
    for g in range(3):
        assert rows[g] == pytest.approx(logp_adv_cov(lp[g], adv[g]))
        assert state_rows[g] == pytest.approx(state_logp_adv_cov(lp[g], expected[g], adv[g]))
    gaussians = concat_batches(
        [GaussianBatch(th.zeros(2, 1), th.ones(2, 1)), GaussianBatch(th.ones(1, 1), th.ones(1, 1))]
    )
    assert isinstance(gaussians, GaussianBatch) and gaussians.mean.flatten().tolist() == [0.0, 0.0, 1.0]
