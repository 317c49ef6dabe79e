"""SB3 callbacks of rlfloor, one job each; compose them with SB3's ``CallbackList``.

* :class:`FloorScheduleCallback` (:mod:`~rlfloor.callbacks.floor`) puts a floored policy's scheduled
  floor in force before every rollout; :class:`AdaptiveFloorCallback` (:mod:`~rlfloor.callbacks.adaptive_floor`)
  raises the floor when the returns drop and lets it decay while they hold;
* :class:`EntropyScheduleCallback`, :class:`AdaptiveEntropyCallback` (:mod:`~rlfloor.callbacks.entropy`)
  set the entropy coefficient;
* :class:`IntrinsicRewardCallback` (:mod:`rlfloor.intrinsic`) adds count, SimHash or RND bonuses to the
  rollout's rewards before SB3's GAE;
* :class:`ExplorationMetricsCallback` (:mod:`~rlfloor.callbacks.metrics`) logs every exploration metric.
  It composes :class:`RolloutEvaluator` (:mod:`~rlfloor.callbacks.rollout`, one batched evaluation of the
  rollout shared by the others), :class:`PolicyStatisticsCallback`, :class:`VisitsCallback`,
  :class:`LossTermsCallback` and :class:`GradientCoherenceCallback`.
"""

from __future__ import annotations

from rlfloor.callbacks.adaptive_floor import AdaptiveFloorCallback, AdaptiveFloorController
from rlfloor.callbacks.entropy import AdaptiveEntropyCallback, EntropyScheduleCallback
from rlfloor.callbacks.floor import FloorScheduleCallback
from rlfloor.callbacks.gradients import GradientCoherenceCallback
from rlfloor.callbacks.losses import LossTermsCallback
from rlfloor.callbacks.metrics import ExplorationMetricsCallback
from rlfloor.callbacks.policy_stats import PolicyStatisticsCallback
from rlfloor.callbacks.rollout import RolloutEvaluator
from rlfloor.callbacks.visits import VisitsCallback
from rlfloor.intrinsic import IntrinsicRewardCallback

__all__ = [
    "AdaptiveEntropyCallback",
    "AdaptiveFloorCallback",
    "AdaptiveFloorController",
    "EntropyScheduleCallback",
    "ExplorationMetricsCallback",
    "FloorScheduleCallback",
    "GradientCoherenceCallback",
    "IntrinsicRewardCallback",
    "LossTermsCallback",
    "PolicyStatisticsCallback",
    "RolloutEvaluator",
    "VisitsCallback",
]
