"""SB3 callbacks of rlfloor.

* :class:`FloorScheduleCallback` puts a floored policy's scheduled floor in force
  before every rollout.
* The entropy-coefficient callbacks live in :mod:`rlfloor.entropy` and are re-exported here.
"""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.entropy import AdaptiveEntropyCallback, EntropyScheduleCallback
from rlfloor.metrics import ExplorationMetricsCallback
from rlfloor.rollout import progress_remaining


class FloorScheduleCallback(BaseCallback):
    """Drive the floor schedule of a floored policy (``min_prob`` or ``min_std``).

    Before each rollout the policy's ``floor_schedule`` is evaluated at SB3's
    ``progress_remaining`` and put in force; the value is recorded as ``floor/min_prob``
    (or ``floor/min_std``). A policy without a schedule is left as it is.
    """

    def _on_training_start(self) -> None:
        if not hasattr(self.model.policy, "update_floor"):
            raise ValueError(
                f"FloorScheduleCallback needs a floored policy from rlfloor.policies, "
                f"got {type(self.model.policy).__name__}"
            )
        self._update()

    def _update(self) -> None:
        policy = self.model.policy
        value = policy.update_floor(progress_remaining(self.model))  # type: ignore[operator]
        self.logger.record(f"floor/{policy.floor_name}", value)

    def _on_rollout_start(self) -> None:
        self._update()

    def _on_step(self) -> bool:
        return True


__all__ = [
    "AdaptiveEntropyCallback",
    "EntropyScheduleCallback",
    "ExplorationMetricsCallback",
    "FloorScheduleCallback",
]
