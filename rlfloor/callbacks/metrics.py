"""Exploration metrics for TensorBoard: the composition of the one-job metric callbacks.

:class:`ExplorationMetricsCallback` plugs into ``learn()`` of PPO, A2C or MaskablePPO,
with a floored or a stock policy (so baselines are measured the same way). It takes
no extra environment steps: policy statistics come from one batched no-grad forward
pass over (a subsample of) the rollout buffer (:class:`RolloutEvaluator`, shared by the
callbacks below), the rest from data SB3 already has. It is a ``CallbackList`` of

* :class:`RolloutEvaluator` -- the shared evaluation of the rollout;
* :class:`PolicyStatisticsCallback` -- entropy, probabilities, floor, KL, actions, covariance;
* :class:`VisitsCallback` -- coverage, visitation entropy, first reward, episode score;
* :class:`LossTermsCallback` -- the weighted loss terms of each update;
* :class:`GradientCoherenceCallback` -- per-sample gradient coherence (with ``grad_coherence=True``).

Each can be used alone too. The tags are documented in the README's tag table.

"Interval" is the span between two logger dumps (``log_interval`` rollouts); values are
aggregated over it (mean, min, max or share as stated), so A2C's default ``log_interval=100``
loses nothing. Timing follows SB3: a dump after rollout ``t`` holds the policy statistics of
rollout ``t`` and the ``loss/`` and ``explore/kl`` values of the update that preceded it (the
same update SB3's ``train/`` keys describe).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import CallbackList

from rlfloor.callbacks.gradients import GradientCoherenceCallback
from rlfloor.callbacks.losses import LossTermsCallback
from rlfloor.callbacks.policy_stats import PolicyStatisticsCallback
from rlfloor.callbacks.rollout import Observations, RolloutEvaluator
from rlfloor.callbacks.visits import VisitsCallback


class ExplorationMetricsCallback(CallbackList):
    """Log how an on-policy agent explores: every ``explore/``, ``floor/``, ``entropy/coef`` and ``loss/`` tag.

    Works with PPO, A2C and MaskablePPO, floored or stock policies, vectorized envs and
    any ``log_interval``, for Discrete, MultiDiscrete, MultiBinary (each bit a two-action categorical) and Box
    actions; another action space is refused when training starts.

    :param max_samples: states of a rollout evaluated for the policy statistics (evenly spaced
        subsample when the rollout is larger).
    :param policy_every: evaluate the policy statistics (and gradient coherence) on every n-th
        rollout. ``None`` picks the smallest n that sees 64 states per evaluation: every rollout
        for PPO, every 13th for A2C's 5-step single-env rollouts. The rollout before each dump is
        always evaluated if its interval has none yet.
    :param floor_tol: relative tolerance for an action to count as pinned at the floor.
    :param max_action_scalars: sub-spaces with at most this many actions get one
        ``explore/action_freq`` scalar per action (all get the histogram); Box spaces with at most
        this many dimensions get one ``explore/action_std`` scalar per dimension.
    :param coverage: count visited states (see :class:`VisitsCallback`).
    :param obs_key: maps a batch of observations to one row per state (see :class:`VisitsCallback`).
    :param max_states: most distinct states stored for coverage (bounded memory).
    :param n_states: number of states, for ``explore/coverage_frac``; ``None`` infers it for
        finite observation spaces.
    :param score_key: ``info`` key holding the episode score on the step that ends an episode.
    :param kl: log the exact per-update KL (its states share the forward pass).
    :param grad_coherence: log gradient coherence (per-sample gradients; costly, off by default).
    :param grad_samples: rollout samples used for gradient coherence (``>= 2``).
    :param covariance: log ``explore/logp_adv_cov`` and ``explore/logp_adv_cov_state``.
    """

    def __init__(
        self,
        max_samples: int = 2048,
        policy_every: int | None = None,
        floor_tol: float = 0.01,
        max_action_scalars: int = 16,
        coverage: bool = True,
        obs_key: Callable[[Observations], np.ndarray] | None = None,
        max_states: int = 100_000,
        n_states: int | None = None,
        score_key: str = "score",
        kl: bool = True,
        grad_coherence: bool = False,
        grad_samples: int = 32,
        covariance: bool = True,
        verbose: int = 0,
    ):
        self.evaluator = RolloutEvaluator(max_samples, policy_every, keep_previous=kl)
        self.policy_statistics = PolicyStatisticsCallback(
            floor_tol, max_action_scalars, kl=kl, covariance=covariance, evaluator=self.evaluator
        )
        self.visit_counts = VisitsCallback(coverage, obs_key, max_states, n_states, score_key, verbose=verbose)
        self.loss_terms = LossTermsCallback()
        callbacks: list[Any] = [self.evaluator, self.policy_statistics, self.visit_counts, self.loss_terms]
        self.gradient_coherence: GradientCoherenceCallback | None = None
        gradients = GradientCoherenceCallback(grad_samples, evaluator=self.evaluator)  # validates grad_samples
        if grad_coherence:
            self.gradient_coherence = gradients
            callbacks.append(gradients)
        super().__init__(callbacks)
        self.verbose = verbose
        self.max_samples, self.policy_every = max_samples, policy_every
        self.grad_coherence, self.grad_samples = bool(grad_coherence), grad_samples

    # Per step only VisitsCallback has work: hand the step's locals to it alone, instead of
    # CallbackList's copy of collect_rollouts' locals into every child at every step (the largest
    # per-step cost of the composition on A2C's 5-step rollouts; see scripts/bench_metrics.py).
    def update_locals(self, locals_: dict[str, Any]) -> None:
        """Give the step's (and the rollout end's) locals to the one callback that reads them."""
        self.visit_counts.update_locals(locals_)

    def _on_step(self) -> bool:
        return self.visit_counts.on_step()

    def _on_rollout_start(self) -> None:
        self.loss_terms.on_rollout_start()  # the one child with work at rollout start


__all__ = ["ExplorationMetricsCallback"]
