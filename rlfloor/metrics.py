"""Deprecated location of the exploration metrics; kept so that old imports keep working.

The metrics now live in :mod:`rlfloor.callbacks` (one callback per job, composed by
:class:`~rlfloor.callbacks.ExplorationMetricsCallback`) and their math in :mod:`rlfloor.stats`.
"""

from __future__ import annotations

from rlfloor.callbacks.metrics import ExplorationMetricsCallback
from rlfloor.callbacks.rollout import AUTO_EVAL_MIN_STATES
from rlfloor.callbacks.visits import AUTO_COVERAGE_MAX_SIZE
from rlfloor.stats.coverage import StateVisitCounter, n_observation_states
from rlfloor.stats.gradients import gradient_coherence
from rlfloor.stats.policy import kl_divergence, policy_statistics

__all__ = [
    "AUTO_COVERAGE_MAX_SIZE",
    "AUTO_EVAL_MIN_STATES",
    "ExplorationMetricsCallback",
    "StateVisitCounter",
    "gradient_coherence",
    "kl_divergence",
    "n_observation_states",
    "policy_statistics",
]
