"""The covariance of log-probability and advantage, which drives a softmax policy's entropy.

Cui et al. (2025), "The Entropy Mechanism of Reinforcement Learning for Reasoning Language
Models" (arXiv:2505.22617), show that for a softmax policy trained by policy gradient the
change of entropy in a state after one step of size ``eta`` is, to first order::

    H(s)' - H(s) ~= -eta * Cov_{a ~ pi(.|s)}( log pi(a|s), pi(a|s) * A(s, a) )      (vanilla PG)
    H(s)' - H(s) ~= -eta * Cov_{a ~ pi(.|s)}( log pi(a|s), A(s, a) )                (natural PG)

Sign convention (the same for both functions below): a **positive** covariance means that the
actions the policy already favours have above-average advantages, so the update sharpens the
policy and **entropy falls**; a negative one means rare actions are paying off, and entropy rises.
It moves before the entropy does, which is why it explains a collapse before it happens.
"""

from __future__ import annotations

import torch as th


def logp_adv_cov(log_probs: th.Tensor, advantages: th.Tensor) -> float:
    """Batch covariance of ``log pi(a_i | s_i)`` and ``A_i`` over the samples ``i`` (population form).

    :param log_probs: ``(n,)`` log-probabilities of the actions taken.
    :param advantages: ``(n,)`` their advantages.
    :return: ``mean_i (lp_i - mean lp) * (A_i - mean A)``; positive means entropy is being pushed down.
    """
    return float(grouped_logp_adv_cov(log_probs.reshape(1, -1), advantages.reshape(1, -1))[0])


def grouped_logp_adv_cov(log_probs: th.Tensor, advantages: th.Tensor) -> th.Tensor:
    """:func:`logp_adv_cov` of each row of ``(groups, n)`` log-probabilities and advantages: ``(groups,)`` float64."""
    lp, adv = log_probs.to(th.float64), advantages.to(th.float64)
    return ((lp - lp.mean(dim=1, keepdim=True)) * (adv - adv.mean(dim=1, keepdim=True))).mean(dim=1)


def state_logp_adv_cov(log_probs: th.Tensor, expected_log_probs: th.Tensor, advantages: th.Tensor) -> float:
    """Per-state analog: log-probabilities centred on each state's own mean ``E_{a~pi}[log pi(a|s)]``.

    ``E_{a~pi}[log pi(a|s)] = -H(s)`` is exact from the policy's distribution, so with actions
    sampled from ``pi`` the estimate ``mean_i (lp_i + H(s_i)) * (A_i - mean A)`` is unbiased for
    ``E_s Cov_{a~pi(.|s)}(log pi(a|s), A(s, a))`` (the centred log-prob has mean 0 in every state,
    so state-level differences in entropy or value do not leak in as they do in the batch form).

    :param log_probs: ``(n,)`` log-probabilities of the actions taken.
    :param expected_log_probs: ``(n,)`` ``E_{a~pi}[log pi(a|s_i)]`` (minus the entropy) per sample.
    :param advantages: ``(n,)`` the advantages.
    """
    rows = (log_probs.reshape(1, -1), expected_log_probs.reshape(1, -1), advantages.reshape(1, -1))
    return float(grouped_state_logp_adv_cov(*rows)[0])


def grouped_state_logp_adv_cov(log_probs: th.Tensor, expected_log_probs: th.Tensor, advantages: th.Tensor) -> th.Tensor:
    """:func:`state_logp_adv_cov` of each row of ``(groups, n)`` inputs: ``(groups,)`` float64."""
    lp = log_probs.to(th.float64) - expected_log_probs.to(th.float64)
    adv = advantages.to(th.float64)
    return (lp * (adv - adv.mean(dim=1, keepdim=True))).mean(dim=1)


__all__ = ["grouped_logp_adv_cov", "grouped_state_logp_adv_cov", "logp_adv_cov", "state_logp_adv_cov"]
