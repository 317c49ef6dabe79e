"""Floor schedule: put a floored policy's scheduled floor in force before every rollout."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.schedules import RunProgress


class FloorScheduleCallback(BaseCallback):
    """Drive the floor schedule of a floored policy (``min_prob`` or ``min_std``).

    Before each rollout the policy's ``floor_schedule`` is put in force at the progress of
    :class:`rlfloor.schedules.RunProgress`: the first rollout of a run uses the schedule's start
    value and the last one its end value exactly, and the end value stays in force after
    ``learn()``. ``learn(..., reset_num_timesteps=False)`` continues the schedule from where it
    stopped and never goes back (a finished schedule holds its end value). The value is recorded
    as ``floor/min_prob`` (or ``floor/min_std``). A policy without a schedule is left as it is.
    """

    def __init__(self, verbose: int = 0):
        super().__init__(verbose)
        self.progress = RunProgress()
        self._total = 0

    def _on_training_start(self) -> None:
        policy = self.model.policy
        if not hasattr(policy, "update_floor"):
            raise ValueError(
                f"FloorScheduleCallback needs a floored policy from rlfloor.policies, got {type(policy).__name__}"
            )
        # learn() hands its locals to on_training_start: the call's target and whether it continues.
        self._total = int(self.locals.get("total_timesteps", self.model.num_timesteps))
        self.progress.begin(self.model, self.locals)

    def _update(self, progress_remaining: float) -> None:
        policy: Any = self.model.policy
        value = policy.update_floor(progress_remaining)
        self.logger.record(f"floor/{policy.floor_name}", value)

    def _on_rollout_start(self) -> None:
        self._update(self.progress.at(self.model.num_timesteps))

    def _on_training_end(self) -> None:
        if self.model.num_timesteps >= self._total:  # the call ran to its end (no callback stopped it)
            self.progress.last = 0.0
            self._update(0.0)  # the end value stays in force, and is what model.save() keeps

    def _on_step(self) -> bool:
        return True


__all__ = ["FloorScheduleCallback"]
