"""Policy statistics after each rollout: entropy, probabilities, the floor, KL, actions taken, and
the log-probability/advantage covariance that drives entropy (tags in :mod:`rlfloor.callbacks.metrics`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces

from rlfloor.callbacks._base import EvaluatorCallback
from rlfloor.callbacks.rollout import RolloutEvaluator
from rlfloor.checks import check_int, check_number
from rlfloor.distributions import action_space_sizes
from rlfloor.stats.covariance import logp_adv_cov, state_logp_adv_cov
from rlfloor.stats.policy import (
    CategoricalBatch,
    GaussianBatch,
    action_std,
    gaussian_kl_divergence,
    gaussian_statistics,
    kl_divergence,
    policy_statistics,
)

# A histogram goes to TensorBoard only.
HISTOGRAM_ONLY = ("stdout", "log", "json", "csv")


class PolicyStatisticsCallback(EvaluatorCallback):
    """Log the policy's exploration statistics on the rollout's states (exact, no extra env steps).

    Categorical policies (Discrete, MultiDiscrete, masked): ``explore/entropy*``, ``explore/min_prob*``,
    ``explore/floor_mass``, ``explore/at_floor_frac``, ``explore/action_freq/*``, ``explore/actions``,
    ``floor/mass``. Gaussian policies (Box): ``explore/entropy*``, ``explore/std_min``,
    ``explore/std_mean``, ``explore/std_floor_share``, ``explore/action_std/*``. Both:
    ``explore/kl``, ``explore/kl_max``, ``explore/logp_adv_cov``, ``explore/logp_adv_cov_state``,
    ``floor/min_prob`` or ``floor/min_std`` and ``entropy/coef``.

    :param floor_tol: relative tolerance for an action to count as pinned at the floor.
    :param max_action_scalars: sub-spaces (or Box dimensions) with at most this many actions get one
        scalar per action (all categorical sub-spaces get the histogram).
    :param kl: log the exact per-update KL.
    :param covariance: log the log-probability/advantage covariance.
    :param evaluator: a shared :class:`RolloutEvaluator`; ``None`` makes one with ``max_samples``
        and ``policy_every``.
    :param max_samples: see :class:`RolloutEvaluator` (only without ``evaluator``).
    :param policy_every: see :class:`RolloutEvaluator` (only without ``evaluator``).
    """

    def __init__(
        self,
        floor_tol: float = 0.01,
        max_action_scalars: int = 16,
        kl: bool = True,
        covariance: bool = True,
        evaluator: RolloutEvaluator | None = None,
        max_samples: int = 2048,
        policy_every: int | None = None,
        verbose: int = 0,
    ):
        super().__init__(evaluator, verbose, max_samples=max_samples, policy_every=policy_every, keep_previous=bool(kl))
        self.floor_tol = check_number("floor_tol", floor_tol, 0.0)
        self.max_action_scalars = check_int("max_action_scalars", max_action_scalars, 0)
        self.kl = bool(kl)
        self.covariance = bool(covariance)
        self._action_sizes: list[int] | None = None
        self._counts: list[np.ndarray] = []
        self._box_actions: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []

    def _on_training_start(self) -> None:
        space = self.model.action_space
        categorical = isinstance(space, spaces.Discrete | spaces.MultiDiscrete)
        self._action_sizes = action_space_sizes(space) if categorical else None
        self._counts = [np.zeros(k, dtype=np.int64) for k in self._action_sizes or []]
        self._box_actions = []
        self._pending = []

    def _on_rollout_end(self) -> None:
        model: Any = self.model
        policy = model.policy
        evaluator = self.evaluator
        floor_name = getattr(policy, "floor_name", "min_prob" if self._action_sizes is not None else "min_std")
        if evaluator.due or self.record_now:  # values in force: the last one recorded before a dump is logged
            floor = float(getattr(policy, "floor", 0.0))
            self.logger.record(f"floor/{floor_name}", floor)
            coef = getattr(model, "ent_coef", None)
            if isinstance(coef, int | float):
                self.logger.record("entropy/coef", float(coef))
        self._record_actions(evaluator.actions)
        if self.kl:
            pair = evaluator.update_pair()
            if pair is not None:
                before, after = pair
                if isinstance(before, CategoricalBatch) and isinstance(after, CategoricalBatch):
                    kl = kl_divergence(before, after)
                else:
                    assert isinstance(before, GaussianBatch) and isinstance(after, GaussianBatch)
                    kl = gaussian_kl_divergence(before, after)
                self.logger.record_mean("explore/kl", float(kl.mean()))
                self._record_max("explore/kl_max", float(kl.max()))
        if not evaluator.due:
            return
        batch = evaluator.current()
        if batch is None:
            return
        chosen = evaluator.sampled(evaluator.actions)
        if isinstance(batch, CategoricalBatch):
            min_prob = floor if floor_name == "min_prob" else 0.0
            stats = policy_statistics(batch, min_prob, self.floor_tol, chosen)
            means: tuple[str, ...] = ("entropy", "entropy_norm", "min_prob_mean", "floor_mass", "at_floor_frac")
            minima: tuple[str, ...] = ("entropy_min", "entropy_norm_min", "min_prob")
            self.logger.record_mean("floor/mass", stats["uniform_mass"])
        else:
            stats = gaussian_statistics(batch, floor if floor_name == "min_std" else 0.0)
            means = ("entropy", "std_mean", "std_floor_share")
            minima = ("entropy_min", "std_min")
        for key in means:
            if key in stats:
                self.logger.record_mean(f"explore/{key}", stats[key])
        for key in minima:
            if key in stats:
                self._record_min(f"explore/{key}", stats[key])
        if self.covariance:
            self._record_covariance(batch, chosen)

    def _record_covariance(self, batch: CategoricalBatch | GaussianBatch, chosen: np.ndarray) -> None:
        """``explore/logp_adv_cov`` and its per-state analog, with the rollout's (GAE) advantages."""
        advantages = th.as_tensor(self.evaluator.sampled(self.model.rollout_buffer.advantages.reshape(-1)))  # type: ignore[attr-defined]
        if len(advantages) < 2:
            return
        log_probs = batch.log_prob(th.as_tensor(chosen))
        self.logger.record_mean("explore/logp_adv_cov", logp_adv_cov(log_probs, advantages))
        self.logger.record_mean(
            "explore/logp_adv_cov_state", state_logp_adv_cov(log_probs, -batch.entropy(), advantages)
        )

    def _record_actions(self, actions: np.ndarray) -> None:
        """Action frequencies and histogram (categorical), or per-dimension action std (Box), per interval."""
        if self._action_sizes is None:
            self._box_actions.append(actions)
            if self.record_now:
                spread = action_std(np.concatenate(self._box_actions))
                self._box_actions = []
                if spread.size <= self.max_action_scalars:
                    for i, value in enumerate(spread.tolist()):
                        self.logger.record(f"explore/action_std/{i}", value)
                self.logger.record("explore/action_std", float(spread.mean()))
            return
        self._pending.append(actions)  # counted when recorded: one bincount per interval, not per rollout
        if not self.record_now:
            return
        chosen = np.concatenate(self._pending).astype(np.int64)
        self._pending = []
        for d, size in enumerate(self._action_sizes):
            self._counts[d] += np.bincount(chosen[:, d], minlength=size)
        multi = len(self._action_sizes) > 1
        for d, size in enumerate(self._action_sizes):
            counts = self._counts[d]
            prefix = f"explore/action_freq/{d}/" if multi else "explore/action_freq/"
            if size <= self.max_action_scalars:
                freq = (counts / max(int(counts.sum()), 1)).tolist()
                for i in range(size):
                    self.logger.record(f"{prefix}{i}", freq[i])
            values = np.repeat(np.arange(size), counts)
            self.logger.record(f"explore/actions/{d}" if multi else "explore/actions", values, exclude=HISTOGRAM_ONLY)
            if self.evaluator.dump_next:
                counts[:] = 0


__all__ = ["HISTOGRAM_ONLY", "PolicyStatisticsCallback"]
