"""The log-probability/advantage covariance (Cui et al., 2025) on batches with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as th

from rlfloor.stats import CategoricalBatch, logp_adv_cov, state_logp_adv_cov


def test_batch_covariance_by_hand() -> None:
    log_probs = th.tensor([-1.0, -2.0, -3.0, -4.0])
    advantages = th.tensor([1.0, 0.0, 0.0, -1.0])
    # deviations (1.5, 0.5, -0.5, -1.5) x (1, 0, 0, -1), averaged: (1.5 + 1.5) / 4
    assert logp_adv_cov(log_probs, advantages) == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    lp, adv = rng.normal(size=500), rng.normal(size=500)
    assert logp_adv_cov(th.tensor(lp), th.tensor(adv)) == pytest.approx(np.cov(lp, adv, bias=True)[0, 1])
    # shifting either variable changes nothing; swapping the advantage's sign flips the sign
    assert logp_adv_cov(log_probs - 7.0, advantages + 3.0) == pytest.approx(0.75)
    assert logp_adv_cov(log_probs, -advantages) == pytest.approx(-0.75)


def test_state_covariance_is_exact_on_a_batch_that_represents_pi() -> None:
    """Two states whose samples hold each action in proportion to pi: the estimate equals
    E_s Cov_{a~pi(.|s)}(log pi(a|s), A(s,a)) exactly, whatever the states' mean advantages."""
    probs = [th.tensor([0.5, 0.25, 0.25]), th.tensor([0.1, 0.1, 0.8])]
    adv_table = [th.tensor([2.0, -1.0, 0.0]), th.tensor([10.0, 11.0, 13.0])]  # state 2: all high
    actions = [[0] * 10 + [1] * 5 + [2] * 5, [0] * 2 + [1] * 2 + [2] * 16]  # 20 samples per state, as pi
    log_probs, expected, advantages, exact = [], [], [], 0.0
    for p, a_tab, acts in zip(probs, adv_table, actions, strict=True):
        lp = p.log()
        entropy = -(p * lp).sum()
        for a in acts:
            log_probs.append(lp[a])
            expected.append(-entropy)
            advantages.append(a_tab[a])
        exact += float((p * (lp + entropy) * (a_tab - (p * a_tab).sum())).sum()) / 2
    value = state_logp_adv_cov(th.stack(log_probs), th.stack(expected), th.stack(advantages))
    assert value == pytest.approx(exact, rel=1e-6)
    # the batch form mixes in the between-state difference (state 2 is sharper, so its log-probs
    # are higher on average, and its advantages are all far higher): a different number
    assert logp_adv_cov(th.stack(log_probs), th.stack(advantages)) != pytest.approx(exact, rel=1e-2)


def test_sign_convention_positive_covariance_means_entropy_falls() -> None:
    """A natural policy-gradient step on softmax logits (z += eta * A) changes the entropy by
    about -eta * Cov_pi(log pi, A) (Cui et al., 2025, eq. for natural PG)."""
    z = th.tensor([1.0, 0.0, -1.0], dtype=th.float64)
    eta = 1e-4
    for advantages in (th.tensor([1.0, 0.0, -1.0]), th.tensor([-1.0, 0.0, 1.0])):
        adv = advantages.to(th.float64)
        p = th.softmax(z, dim=0)
        lp = p.log()
        cov = float((p * (lp - (p * lp).sum()) * (adv - (p * adv).sum())).sum())
        before = float(-(p * lp).sum())
        q = th.softmax(z + eta * adv, dim=0)
        after = float(-(q * q.log()).sum())
        assert after - before == pytest.approx(-eta * cov, rel=1e-3)
        assert math.copysign(1.0, after - before) == -math.copysign(1.0, cov)
    # the batch helper agrees on a sample drawn in proportion to pi
    batch = CategoricalBatch(log_probs=[th.log(th.tensor([[0.5, 0.5]] * 2))], valid=[th.ones(2, 2, dtype=th.bool)])
    chosen = batch.log_prob(th.tensor([[0], [1]]))
    assert chosen.tolist() == pytest.approx([math.log(0.5)] * 2)
    assert state_logp_adv_cov(chosen, -batch.entropy(), th.tensor([1.0, -1.0])) == pytest.approx(0.0, abs=1e-12)
