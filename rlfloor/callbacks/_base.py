"""What the metric callbacks share: an evaluator they may own, and interval aggregation in the logger."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks.rollout import RolloutEvaluator


class EvaluatorCallback(BaseCallback):
    """A callback that reads a :class:`RolloutEvaluator`: a shared one, or its own that it drives.

    :param evaluator: the evaluator to read (already placed before this callback in a
        ``CallbackList``); ``None`` makes a private one with ``evaluator_kwargs``.
    """

    def __init__(self, evaluator: RolloutEvaluator | None = None, verbose: int = 0, **evaluator_kwargs: Any):
        super().__init__(verbose)
        self._owns_evaluator = evaluator is None
        self.evaluator = RolloutEvaluator(**evaluator_kwargs) if evaluator is None else evaluator

    def _init_callback(self) -> None:
        if self._owns_evaluator:
            self.evaluator.init_callback(self.model)

    def on_training_start(self, locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        if self._owns_evaluator:
            self.evaluator.on_training_start(locals_, globals_)
        super().on_training_start(locals_, globals_)

    def on_rollout_end(self) -> None:
        if self._owns_evaluator:
            self.evaluator.on_rollout_end()
        super().on_rollout_end()

    def _on_step(self) -> bool:
        return True

    @property
    def record_now(self) -> bool:
        """Whether values kept for the interval should go to the logger after this rollout:
        a dump follows it, or the dump schedule is unknown."""
        return self.evaluator.dump_next or self.evaluator.log_interval is None

    def _record_min(self, key: str, value: float) -> None:
        """Record the smallest value since the last dump (a dump empties ``name_to_value``)."""
        recorded = self.logger.name_to_value  # test membership first: it is a defaultdict
        self.logger.record(key, min(value, float(recorded[key])) if key in recorded else value)

    def _record_max(self, key: str, value: float) -> None:
        """Record the largest value since the last dump."""
        recorded = self.logger.name_to_value
        self.logger.record(key, max(value, float(recorded[key])) if key in recorded else value)
