"""Gaussian statistics, the single maximum-entropy function and per-dimension action spread."""

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
    gaussian_kl_divergence,
    gaussian_statistics,
    max_entropy,
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
