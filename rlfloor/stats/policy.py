"""Statistics of a policy's action distributions on a batch of states: pure functions over tensors.

:class:`CategoricalBatch` holds the normalized log-probabilities of a categorical policy
(Discrete or MultiDiscrete, valid actions marked); :class:`GaussianBatch` the means and standard
deviations of a diagonal Gaussian (Box). The functions below compute what the exploration
metrics log from them, exactly (no sampling), and are tested without any training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch as th


def max_entropy(n_valid: Sequence[int | th.Tensor]) -> th.Tensor:
    """The largest entropy (nats) a categorical can have: ``sum_d log(K_d)`` over sub-spaces ``d``.

    The one place rlfloor computes it (the entropy target, ``explore/entropy_norm``).

    :param n_valid: number of valid actions per sub-space, as ints or as per-state tensors.
    :return: a float64 tensor (per state when tensors are given, else a scalar).
    """
    total = th.zeros((), dtype=th.float64)
    for n in n_valid:
        total = total + th.as_tensor(n, dtype=th.float64).log()
    return total


@dataclass
class CategoricalBatch:
    """A categorical policy's distributions on a batch of states.

    :param log_probs: one ``(n_samples, K_d)`` tensor of normalized log-probabilities per sub-space
        (a single one for Discrete); invalid actions hold ``-inf`` or a huge negative value.
    :param valid: matching boolean tensors, ``True`` where the action was valid.
    """

    log_probs: list[th.Tensor]
    valid: list[th.Tensor]

    @property
    def n_samples(self) -> int:
        """Number of states in the batch."""
        return int(self.log_probs[0].shape[0])

    def probs(self) -> list[th.Tensor]:
        """Probabilities per sub-space; exactly 0 on invalid actions."""
        return [th.where(v, lp.exp(), th.zeros_like(lp)) for lp, v in zip(self.log_probs, self.valid, strict=True)]

    def entropy(self) -> th.Tensor:
        """Exact entropy (nats) per state, summed over sub-spaces, valid actions only."""
        total = th.zeros(self.n_samples, dtype=self.log_probs[0].dtype)
        for lp, p, v in zip(self.log_probs, self.probs(), self.valid, strict=True):
            total -= th.where(v, p * th.where(v, lp, th.zeros_like(lp)), th.zeros_like(lp)).sum(dim=-1)
        return total

    def max_entropy(self) -> th.Tensor:
        """Largest possible entropy per state (:func:`max_entropy` of its valid-action counts)."""
        return max_entropy([v.sum(dim=-1) for v in self.valid]).to(self.log_probs[0].dtype)

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        """``log pi(a | s)`` of the chosen actions ``(n_samples, n_subspaces)``, summed over sub-spaces."""
        chosen = actions.long().reshape(self.n_samples, -1)
        return th.stack([lp.gather(1, chosen[:, d : d + 1])[:, 0] for d, lp in enumerate(self.log_probs)]).sum(dim=0)


@dataclass
class GaussianBatch:
    """A diagonal Gaussian policy's distributions on a batch of states.

    :param mean: ``(n_samples, action_dim)`` means.
    :param std: matching standard deviations (``> 0``).
    """

    mean: th.Tensor
    std: th.Tensor

    @property
    def n_samples(self) -> int:
        """Number of states in the batch."""
        return int(self.mean.shape[0])

    def entropy(self) -> th.Tensor:
        """Exact entropy (nats) per state: ``sum_i log(std_i) + d/2 * log(2 pi e)``."""
        std = self.std.to(th.float64)
        return std.log().sum(dim=-1) + 0.5 * std.shape[-1] * (1.0 + math.log(2.0 * math.pi))

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        """``log pi(a | s)`` of the chosen (unsquashed) actions, summed over dimensions."""
        normal = th.distributions.Normal(self.mean.to(th.float64), self.std.to(th.float64))
        return normal.log_prob(actions.reshape(self.mean.shape).to(th.float64)).sum(dim=-1)


#: The batch of a policy's distributions: categorical (Discrete, MultiDiscrete) or Gaussian (Box).
PolicyBatch = CategoricalBatch | GaussianBatch


def policy_statistics(
    batch: CategoricalBatch,
    min_prob: float = 0.0,
    floor_tol: float = 0.01,
    actions: np.ndarray | None = None,
) -> dict[str, float]:
    """Exploration statistics of a categorical policy on a batch of states (valid actions only).

    :param batch: the policy's distributions, e.g. from :func:`rlfloor.callbacks.rollout.evaluate_states`.
    :param min_prob: the floor in force (0 for stock policies).
    :param floor_tol: an action is *at the floor* when ``p <= (1 + floor_tol) * min_prob``.
    :param actions: the actions chosen in these states, ``(n, n_subspaces)``, for ``at_floor_frac``.
    :return: ``entropy``, ``entropy_min``, ``entropy_norm``, ``entropy_norm_min`` (absent when
        every state has a single valid action), ``min_prob``, ``min_prob_mean``, ``floor_mass``,
        ``uniform_mass`` (mean ``K_valid * min_prob``) and, with ``actions``, ``at_floor_frac``.
    """
    stats = {key: values[0] for key, values in grouped_policy_statistics(batch, [min_prob], floor_tol, actions).items()}
    if math.isnan(stats["entropy_norm"]):  # every state has a single valid action
        del stats["entropy_norm"], stats["entropy_norm_min"]
    return stats


def grouped_policy_statistics(
    batch: CategoricalBatch,
    min_probs: Sequence[float],
    floor_tol: float = 0.01,
    actions: np.ndarray | None = None,
) -> dict[str, list[float]]:
    """:func:`policy_statistics` of equal consecutive groups of a batch at once, e.g. of several rollouts.

    :param batch: ``len(min_probs)`` groups of states, one after the other, all of the same size.
    :param min_probs: the floor in force in each group.
    :param floor_tol: see :func:`policy_statistics`.
    :param actions: the actions chosen in all the states, ``(n, n_subspaces)``.
    :return: per key of :func:`policy_statistics`, one value per group; ``entropy_norm`` is NaN (and
        ``entropy_norm_min`` inf) for a group whose states all have a single valid action.
    """
    groups = len(min_probs)
    n = batch.n_samples
    if groups < 1 or n % groups:
        raise ValueError(f"min_probs has {groups} groups; they must split the batch's {n} states evenly")
    size = n // groups
    probs = batch.probs()
    entropy = batch.entropy().reshape(groups, size)
    stats = {"entropy": entropy.mean(dim=1).tolist(), "entropy_min": entropy.amin(dim=1).tolist()}
    top = batch.max_entropy().reshape(groups, size)
    informative = top > 0
    zeros = th.zeros_like(top)
    stats["entropy_norm"] = (
        th.where(informative, entropy, zeros).sum(dim=1) / th.where(informative, top, zeros).sum(dim=1)
    ).tolist()
    stats["entropy_norm_min"] = th.where(informative, entropy / top, th.full_like(top, math.inf)).amin(dim=1).tolist()
    lowest = th.stack(
        [th.where(v, p, th.full_like(p, math.inf)).amin(dim=-1) for p, v in zip(probs, batch.valid, strict=True)]
    ).amin(dim=0)
    lowest = lowest.reshape(groups, size)
    stats["min_prob"] = lowest.amin(dim=1).tolist()
    stats["min_prob_mean"] = lowest.mean(dim=1).tolist()
    floors = th.tensor(min_probs, dtype=th.float64)
    n_valid = th.stack([v.sum(dim=-1) for v in batch.valid]).to(th.float64)  # (n_subspaces, n)
    stats["uniform_mass"] = (n_valid.reshape(-1, groups, size) * floors[:, None]).mean(dim=(0, 2)).tolist()
    if not any(m > 0.0 for m in min_probs):
        stats["floor_mass"] = [0.0] * groups
        if actions is not None:
            stats["at_floor_frac"] = [0.0] * groups
        return stats
    floored = (floors > 0.0).repeat_interleave(size)[:, None]  # no state is pinned without a floor
    threshold = ((1.0 + floor_tol) * floors).to(probs[0].dtype).repeat_interleave(size)[:, None]
    pinned = [v & (p <= threshold) & floored for p, v in zip(probs, batch.valid, strict=True)]
    mass = th.stack([th.where(k, p, th.zeros_like(p)).sum(dim=-1) for p, k in zip(probs, pinned, strict=True)])
    stats["floor_mass"] = mass.to(th.float64).reshape(-1, groups, size).mean(dim=(0, 2)).tolist()
    if actions is not None:
        chosen = th.as_tensor(np.asarray(actions, dtype=np.int64).reshape(len(actions), -1))
        hits = th.cat([k.gather(1, chosen[:, d : d + 1]) for d, k in enumerate(pinned)], dim=1)
        stats["at_floor_frac"] = hits.to(th.float64).reshape(groups, -1).mean(dim=1).tolist()
    return stats


def concat_batches(batches: Sequence[PolicyBatch]) -> PolicyBatch:
    """The batches' states one after the other, as one batch (all categorical or all Gaussian)."""
    first = batches[0]
    if len(batches) == 1:
        return first
    if isinstance(first, GaussianBatch):
        gaussians = [b for b in batches if isinstance(b, GaussianBatch)]
        return GaussianBatch(th.cat([b.mean for b in gaussians]), th.cat([b.std for b in gaussians]))
    categoricals = [b for b in batches if isinstance(b, CategoricalBatch)]
    return CategoricalBatch(
        [th.cat(parts) for parts in zip(*(b.log_probs for b in categoricals), strict=True)],
        [th.cat(parts) for parts in zip(*(b.valid for b in categoricals), strict=True)],
    )


def gaussian_statistics(batch: GaussianBatch, min_std: float = 0.0) -> dict[str, float]:
    """Exploration statistics of a diagonal Gaussian policy on a batch of states.

    :param batch: the policy's means and standard deviations.
    :param min_std: the standard-deviation floor in force (``std = min_std + exp(log_std)``).
    :return: ``entropy`` (mean exact entropy, nats), ``entropy_min``, ``std_min`` (smallest std of
        any dimension in any state), ``std_mean`` and ``std_floor_share``: mean of ``min_std / std``,
        the share of the standard deviation the floor provides (0 without a floor, 1 when the
        learned part has vanished).
    """
    entropy = batch.entropy()
    std = batch.std.to(th.float64)
    return {
        "entropy": float(entropy.mean()),
        "entropy_min": float(entropy.min()),
        "std_min": float(std.min()),
        "std_mean": float(std.mean()),
        "std_floor_share": float((min_std / std).clamp(max=1.0).mean()) if min_std > 0.0 else 0.0,
    }


def action_std(actions: np.ndarray) -> np.ndarray:
    """Per-dimension standard deviation of continuous actions ``(n, action_dim)``: the Box analog of
    action frequencies (how widely the taken actions spread along each dimension)."""
    rows = np.asarray(actions, dtype=np.float64).reshape(len(actions), -1)
    return rows.std(axis=0)


def kl_divergence(old: CategoricalBatch, new: CategoricalBatch) -> th.Tensor:
    """Exact per-state ``KL(old || new)`` (nats), summed over sub-spaces, over ``old``'s valid actions."""
    total = th.zeros(old.n_samples, dtype=th.float64)
    for lp_old, lp_new, valid in zip(old.log_probs, new.log_probs, old.valid, strict=True):
        lp_old, lp_new = lp_old.to(th.float64), lp_new.to(th.float64)
        term = lp_old.exp() * (lp_old - lp_new)
        total += th.where(valid & (lp_old > -math.inf), term, th.zeros_like(term)).sum(dim=-1)
    return total.clamp_min(0.0)  # rounding can leave -1e-9 where the policies agree


def gaussian_kl_divergence(old: GaussianBatch, new: GaussianBatch) -> th.Tensor:
    """Exact per-state ``KL(old || new)`` (nats) of diagonal Gaussians, summed over dimensions."""
    p = th.distributions.Normal(old.mean.to(th.float64), old.std.to(th.float64))
    q = th.distributions.Normal(new.mean.to(th.float64), new.std.to(th.float64))
    return th.distributions.kl_divergence(p, q).sum(dim=-1).clamp_min(0.0)


__all__ = [
    "CategoricalBatch",
    "GaussianBatch",
    "PolicyBatch",
    "action_std",
    "concat_batches",
    "gaussian_kl_divergence",
    "gaussian_statistics",
    "grouped_policy_statistics",
    "kl_divergence",
    "max_entropy",
    "policy_statistics",
]
