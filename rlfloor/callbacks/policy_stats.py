"""Policy statistics after each rollout: entropy, probabilities, the floor, KL, actions taken, and
the log-probability/advantage covariance that drives entropy (tags in :mod:`rlfloor.callbacks.metrics`).

The distributions are evaluated on each due rollout, with the policy that collected it; the statistics
of the interval's evaluated rollouts are computed together when they are recorded, just before the
dump (one batched computation instead of one per rollout: A2C evaluates about 8 rollouts of 5 states
per dump). Each rollout keeps its own floor, states and advantages, and the logged values are those
of a per-rollout computation: means over the interval of each rollout's mean, minima over all states,
and each rollout's covariance computed over that rollout alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces

from rlfloor.callbacks._base import EvaluatorCallback
from rlfloor.callbacks.rollout import RolloutEvaluator
from rlfloor.checks import check_int, check_number
from rlfloor.distributions import action_space_sizes, multibinary_size
from rlfloor.stats.covariance import grouped_logp_adv_cov, grouped_state_logp_adv_cov
from rlfloor.stats.policy import (
    CategoricalBatch,
    GaussianBatch,
    PolicyBatch,
    action_std,
    concat_batches,
    gaussian_kl_divergence,
    gaussian_statistics,
    grouped_policy_statistics,
    kl_divergence,
)

# A histogram goes to TensorBoard only.
HISTOGRAM_ONLY = ("stdout", "log", "json", "csv")


class PolicyStatisticsCallback(EvaluatorCallback):
    """Log the policy's exploration statistics on the rollout's states (exact, no extra env steps).

    Categorical policies (Discrete, MultiDiscrete, masked; MultiBinary as one two-action categorical per bit,
    ``explore/action_freq/{bit}/{0,1}``): ``explore/entropy*``, ``explore/min_prob*``,
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
        self._floor_name = "min_prob"
        # the interval's evaluated rollouts: (distributions, floor, chosen actions, advantages)
        self._evaluated: list[tuple[PolicyBatch, float, np.ndarray, np.ndarray]] = []

    def _on_training_start(self) -> None:
        space = self.model.action_space
        if isinstance(space, spaces.Discrete | spaces.MultiDiscrete):
            self._action_sizes = action_space_sizes(space)
        elif isinstance(space, spaces.MultiBinary):  # one two-action categorical per bit
            self._action_sizes = [2] * multibinary_size(space)
        elif isinstance(space, spaces.Box):
            self._action_sizes = None
        else:
            raise ValueError(
                f"PolicyStatisticsCallback covers Discrete, MultiDiscrete, MultiBinary and Box actions, not {space}"
            )
        self._counts = [np.zeros(k, dtype=np.int64) for k in self._action_sizes or []]
        self._box_actions = []
        self._pending = []
        self._evaluated = []
        default = "min_prob" if self._action_sizes is not None else "min_std"
        self._floor_name = getattr(self.model.policy, "floor_name", default)  # looked up once per learn()

    def _on_training_end(self) -> None:
        self._record_statistics()  # a later learn() call (or a dump by the user) still sees them

    def _on_rollout_end(self) -> None:
        model: Any = self.model
        policy = model.policy
        evaluator = self.evaluator
        floor_name = self._floor_name
        record_now = self.record_now
        floor = 0.0
        if evaluator.due or record_now:  # values in force: the last one recorded before a dump is logged
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
        if evaluator.due:
            batch = evaluator.current()
            if batch is not None:  # copies: the buffer's arrays are reused by later rollouts
                chosen = np.array(evaluator.sampled(evaluator.actions))
                advantages = np.array(evaluator.sampled(model.rollout_buffer.advantages.reshape(-1)))
                self._evaluated.append((batch, floor, chosen, advantages))
        if record_now:
            self._record_statistics()

    def _record_statistics(self) -> None:
        """Record the statistics of the evaluated rollouts kept since the last call (batched when of one size)."""
        evaluated, self._evaluated = self._evaluated, []
        if not evaluated:
            return
        if len({batch.n_samples for batch, *_ in evaluated}) > 1:  # groups of one size only
            for item in evaluated:
                self._record_group([item])
        else:
            self._record_group(evaluated)

    def _record_group(self, evaluated: list[tuple[PolicyBatch, float, np.ndarray, np.ndarray]]) -> None:
        batch = concat_batches([item[0] for item in evaluated])
        chosen = np.concatenate([item[2] for item in evaluated])
        if isinstance(batch, CategoricalBatch):
            floors = [item[1] if self._floor_name == "min_prob" else 0.0 for item in evaluated]
            stats = grouped_policy_statistics(batch, floors, self.floor_tol, chosen)
            means: tuple[str, ...] = ("entropy", "entropy_norm", "min_prob_mean", "floor_mass", "at_floor_frac")
            minima: tuple[str, ...] = ("entropy_min", "entropy_norm_min", "min_prob")
            for value in stats["uniform_mass"]:
                self.logger.record_mean("floor/mass", value)
        else:
            per_rollout = [
                gaussian_statistics(item[0], item[1] if self._floor_name == "min_std" else 0.0)  # type: ignore[arg-type]
                for item in evaluated
            ]
            stats = {key: [s[key] for s in per_rollout] for key in per_rollout[0]}
            means = ("entropy", "std_mean", "std_floor_share")
            minima = ("entropy_min", "std_min")
        for key in means:
            for value in stats.get(key, ()):
                if not math.isnan(value):  # entropy_norm of a rollout with one valid action per state
                    self.logger.record_mean(f"explore/{key}", value)
        for key in minima:
            finite = [value for value in stats.get(key, ()) if math.isfinite(value)]
            if finite:
                self._record_min(f"explore/{key}", min(finite))
        if self.covariance:
            self._record_covariance(batch, chosen, np.concatenate([item[3] for item in evaluated]), len(evaluated))

    def _record_covariance(self, batch: PolicyBatch, chosen: np.ndarray, advantages: np.ndarray, groups: int) -> None:
        """``explore/logp_adv_cov`` and its per-state analog of each rollout, with its (GAE) advantages."""
        if len(advantages) < 2 * groups:  # a covariance needs two samples
            return
        rows = (groups, -1)
        log_probs = batch.log_prob(th.as_tensor(chosen)).reshape(rows)
        adv = th.as_tensor(advantages).reshape(rows)
        for value in grouped_logp_adv_cov(log_probs, adv).tolist():
            self.logger.record_mean("explore/logp_adv_cov", value)
        for value in grouped_state_logp_adv_cov(log_probs, -batch.entropy().reshape(rows), adv).tolist():
            self.logger.record_mean("explore/logp_adv_cov_state", value)

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
