"""Deprecated location of the rollout-evaluation helpers; kept so that old imports keep working.

The helpers live in :mod:`rlfloor.callbacks.rollout`, the distribution batches in
:mod:`rlfloor.stats.policy` (``RolloutPolicy`` is :class:`~rlfloor.stats.policy.CategoricalBatch`),
and ``progress_remaining`` in :mod:`rlfloor.schedules`.
"""

from __future__ import annotations

from rlfloor.callbacks.rollout import (
    categorical_log_probs,
    evaluate_rollout,
    evaluate_states,
    rollout_masks,
    rollout_observations,
    rollout_size,
    sample_index,
    take_states,
)
from rlfloor.schedules import progress_remaining
from rlfloor.stats.policy import CategoricalBatch as RolloutPolicy

__all__ = [
    "RolloutPolicy",
    "categorical_log_probs",
    "evaluate_rollout",
    "evaluate_states",
    "progress_remaining",
    "rollout_masks",
    "rollout_observations",
    "rollout_size",
    "sample_index",
    "take_states",
]
