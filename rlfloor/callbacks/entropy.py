"""Entropy regularization as a controlled, visible quantity.

SB3's PPO, A2C and MaskablePPO add ``ent_coef * (-entropy)`` to their loss and read
``model.ent_coef`` at every update. The callbacks below set that attribute between
rollout collection and training, so the stock training loops are used unchanged:

* fixed: SB3's own ``ent_coef=...`` (no callback needed);
* scheduled: :class:`EntropyScheduleCallback` (any schedule of ``progress_remaining``);
* adaptive: :class:`AdaptiveEntropyCallback`, dual ascent on the coefficient so the
  policy's entropy tracks a target given as a fraction of its maximum ``log K``.

Both record ``entropy/coef`` (and the adaptive one ``entropy/target`` and
``entropy/measured``, in normalized units) in the SB3 logger.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks._base import EvaluatorCallback
from rlfloor.callbacks.rollout import RolloutEvaluator
from rlfloor.checks import check_int, check_number
from rlfloor.distributions import action_space_sizes, min_entropy_with_floor
from rlfloor.schedules import RunProgress, ScheduleLike, as_schedule, check_schedule
from rlfloor.stats.policy import CategoricalBatch
from rlfloor.stats.policy import max_entropy as _max_entropy


def max_entropy(action_space: spaces.Space) -> float:
    """Entropy (nats) of the uniform policy: ``log K``, summed over MultiDiscrete sub-spaces."""
    return float(_max_entropy(action_space_sizes(action_space)))


def floor_entropy_fraction(min_prob: float, action_space: spaces.Space) -> float:
    """The entropy a probability floor guarantees, as a fraction of the maximum entropy."""
    top = max_entropy(action_space)
    if top == 0.0:
        return 0.0
    return sum(min_entropy_with_floor(min_prob, n) for n in action_space_sizes(action_space)) / top


class EntropyScheduleCallback(BaseCallback):
    """Set ``model.ent_coef`` from a schedule of training progress before every update.

    Progress follows :class:`rlfloor.schedules.RunProgress`: the update after a run's first rollout
    uses the schedule's start value, the last update its end value, and
    ``learn(..., reset_num_timesteps=False)`` continues from where the schedule stopped.

    :param schedule: a number, a :mod:`rlfloor.schedules` schedule, or any callable of
        ``progress_remaining`` (1 at the start of training, 0 at the end); values must be ``>= 0``.
    """

    def __init__(self, schedule: ScheduleLike, verbose: int = 0):
        super().__init__(verbose)
        self.schedule = as_schedule(schedule)
        check_schedule("ent_coef", self.schedule, 0.0)  # over the whole run, before training
        self.progress = RunProgress()
        self._rollout_start = 0

    def _apply(self, progress_remaining: float) -> None:
        coef = float(self.schedule(progress_remaining))
        if not math.isfinite(coef) or coef < 0.0:
            raise ValueError(f"entropy coefficient schedule gave {coef!r}; allowed range is [0, inf)")
        self.model.ent_coef = coef  # type: ignore[attr-defined]
        self.logger.record("entropy/coef", coef)

    def _on_training_start(self) -> None:
        self.progress.begin(self.model, self.locals)
        self._apply(self.progress.last)

    def _on_rollout_start(self) -> None:
        self._rollout_start = self.model.num_timesteps

    def _on_rollout_end(self) -> None:
        self._apply(self.progress.at(self._rollout_start))

    def _on_step(self) -> bool:
        return True


class AdaptiveEntropyCallback(EvaluatorCallback):
    """Adapt ``model.ent_coef`` so the policy's entropy tracks a target (dual ascent).

    The constraint "entropy >= target" gets a Lagrange multiplier, the entropy
    coefficient ``alpha``. After each rollout the policy's entropy on the rollout's
    states is measured exactly (as a fraction of the maximum, valid actions only) by a
    :class:`~rlfloor.callbacks.rollout.RolloutEvaluator`, the one forward pass the metric callbacks
    use too, and ``log alpha`` moves against the gap::

        log alpha += lr * (target_fraction - measured_fraction) * n_transitions / 1000

    so alpha grows while the policy is below target and decays once it is above.
    Scaling by the rollout size makes ``lr`` a rate per 1,000 transitions, the same for
    PPO's long rollouts and A2C's short ones.

    :param target_fraction: target entropy as a fraction of ``log K``, in ``(0, 1)``.
    :param initial_coef: starting coefficient; ``None`` takes the model's ``ent_coef``
        (or 0.01 when that is 0).
    :param lr: step size of the dual ascent on ``log alpha`` per 1,000 transitions.
    :param coef_bounds: ``(min, max)`` the coefficient is kept within.
    :param max_samples: states evaluated per rollout (evenly spaced subsample), by this callback's own
        evaluator.
    :param evaluator: an evaluator to read instead (placed before this callback, evaluating every rollout).
        The default, an evaluator of its own, keeps training independent of what else is logged:
        sharing the metrics' evaluator would change the states evaluated with the metrics settings.
    """

    def __init__(
        self,
        target_fraction: float,
        initial_coef: float | None = None,
        lr: float = 0.5,
        coef_bounds: tuple[float, float] = (1e-5, 1.0),
        max_samples: int = 4096,
        evaluator: RolloutEvaluator | None = None,
        verbose: int = 0,
    ):
        self.max_samples = check_int("max_samples", max_samples, 1)
        super().__init__(evaluator, verbose, max_samples=self.max_samples, policy_every=1, keep_previous=False)
        self.target_fraction = check_number("target_fraction", target_fraction, 0.0, 1.0, low_open=True, high_open=True)
        if initial_coef is not None:
            initial_coef = check_number("initial_coef", initial_coef, 0.0, low_open=True)
        self.lr = check_number("lr", lr, 0.0, low_open=True)
        if not (isinstance(coef_bounds, tuple | list) and len(coef_bounds) == 2):
            raise ValueError(f"coef_bounds={coef_bounds!r} must be a pair (min, max) with 0 < min <= max < inf")
        low = check_number("coef_bounds[0]", coef_bounds[0], 0.0, low_open=True)
        high = check_number("coef_bounds[1]", coef_bounds[1], 0.0, low_open=True)
        if low > high:
            raise ValueError(f"coef_bounds={coef_bounds!r} must satisfy 0 < min <= max < inf")
        self.initial_coef = initial_coef
        self.coef_bounds = (low, high)
        self.log_coef = math.nan
        self.measured_fraction = math.nan

    @property
    def coef(self) -> float:
        """The coefficient in force."""
        return math.exp(self.log_coef)

    def _on_training_start(self) -> None:
        action_space = self.model.action_space
        if not isinstance(action_space, spaces.Discrete | spaces.MultiDiscrete):
            raise ValueError(
                f"AdaptiveEntropyCallback needs Discrete or MultiDiscrete actions (target given as a "
                f"fraction of log K), got {action_space}"
            )
        start = self.initial_coef
        if start is None:
            start = float(getattr(self.model, "ent_coef", 0.0)) or 0.01
        low, high = self.coef_bounds
        self.log_coef = math.log(float(np.clip(start, low, high)))
        self.model.ent_coef = self.coef  # type: ignore[attr-defined]
        floor = float(getattr(self.model.policy, "min_prob", 0.0))
        guaranteed = floor_entropy_fraction(floor, action_space)
        if floor > 0.0 and self.target_fraction <= guaranteed:
            warnings.warn(
                f"entropy target {self.target_fraction:.3f} (fraction of log K) is at or below the "
                f"{guaranteed:.3f} that min_prob={floor:g} already guarantees: the constraint never "
                "binds and the coefficient will decay to its minimum",
                stacklevel=2,
            )

    def _on_rollout_end(self) -> None:
        rollout = self.evaluator.current()
        if not isinstance(rollout, CategoricalBatch):
            return
        top = rollout.max_entropy()
        informative = top > 0  # states with a single valid action carry no entropy
        if not bool(informative.any()):
            return
        self.measured_fraction = float(rollout.entropy()[informative].sum() / top[informative].sum())
        model: Any = self.model
        n_transitions = model.rollout_buffer.buffer_size * model.n_envs
        step = self.lr * (self.target_fraction - self.measured_fraction) * n_transitions / 1000.0
        low, high = self.coef_bounds
        self.log_coef = float(np.clip(self.log_coef + step, math.log(low), math.log(high)))
        self.model.ent_coef = self.coef  # type: ignore[attr-defined]
        self.logger.record("entropy/coef", self.coef)
        self.logger.record("entropy/target", self.target_fraction)
        self.logger.record("entropy/measured", self.measured_fraction)


__all__ = [
    "AdaptiveEntropyCallback",
    "EntropyScheduleCallback",
    "floor_entropy_fraction",
    "max_entropy",
]
