"""An adaptive probability floor: off while returns hold, raised when they drop.

A constant floor (Exp3's ``gamma / K`` uniform mixing, DreamerV3's 1% "unimix") pays a tax on
every decision of a task already solved, and a floor annealed to 0 is gone when the world
changes late in training. The floor here is an alarm response instead:

* **Signal.** Each finished training episode updates two running levels of the episodic
  return: a *fast* one (mean of about the last ``fast_episodes`` episodes) and a *reference*
  (a running mean with a horizon of ``reference_steps`` environment steps). The signal is the
  drop of the fast level below the reference, in units of the range of returns seen so far::

      signal = (reference - fast) / (max return seen - min return seen)

  Both levels are bias-corrected running means at the start (an episode counts ``1/n`` while
  fewer episodes than the horizon have been seen), so a lucky first episode raises no alarm.
* **Alarm.** While ``signal > threshold`` the floor is put at ``high``: the evidence says the
  returns the policy was confirmed by are gone, and every action must be sampled again.
* **Decay.** Otherwise the floor falls linearly back to ``low`` over ``decay_steps``
  environment steps. With ``low = 0`` (the default) the floor is fully off while returns
  hold, and the policy is the stock one.

The floor starts at ``low``: until the returns drop, an adaptive agent samples like stock PPO
or A2C. The controller is :class:`AdaptiveFloorController` (pure Python, testable with
synthetic returns); :class:`AdaptiveFloorCallback` drives it from SB3's training loop and puts
its floor in force through the policy's ``set_floor``. The floor in force is the policy buffer
``floor_in_force``; the controller's own state is the model attribute
``adaptive_floor_state`` (a dict of numbers), which ``model.save()`` writes and ``load()``
restores, so a continued ``learn()`` resumes the same levels and floor.

Metrics (recorded after every rollout): ``floor/min_prob`` (floor in force during the
rollout), ``floor/signal`` (return drop in units of the return range), ``floor/alarm``
(1 while the drop exceeds the threshold), ``floor/return_fast`` and ``floor/return_reference``
(the two levels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.checks import check_int, check_number
from rlfloor.distributions import action_space_sizes

#: name of the model attribute holding the controller's state (pickled by ``model.save()``)
STATE_ATTRIBUTE = "adaptive_floor_state"

_STATE_KEYS = ("floor", "fast", "reference", "return_min", "return_max", "episodes", "signal", "alarm")


class AdaptiveFloorController:
    """The adaptive floor's logic: running return levels in, a floor in ``[low, high]`` out.

    Call :meth:`update` once per policy update with the returns and lengths of the episodes
    that ended since the last call and the number of environment steps taken; it returns the
    floor to use next.

    :param low: floor while returns hold, ``>= 0`` (0: the floor is off).
    :param high: floor during an alarm, ``>= low`` and ``< 1`` (and ``< 1/K`` for ``K`` actions;
        the callback checks that against the action space).
    :param threshold: alarm when the fast return level is more than this fraction of the
        return range below the reference, in ``(0, 1]``.
    :param fast_episodes: horizon, in episodes, of the fast return level (``>= 1``).
    :param reference_steps: horizon, in environment steps, of the reference return level (``>= 1``).
    :param decay_steps: environment steps over which the floor falls from ``high`` to ``low``
        once the alarm is over (``>= 1``).
    """

    def __init__(
        self,
        low: float = 0.0,
        high: float = 0.05,
        threshold: float = 0.5,
        fast_episodes: int = 20,
        reference_steps: int = 10_000,
        decay_steps: int = 2_000,
    ):
        self.low = check_number("low", low, 0.0, 1.0, high_open=True)
        self.high = check_number("high", high, 0.0, 1.0, high_open=True)
        if self.high < self.low:
            raise ValueError(f"high={high!r} must be >= low={low!r}")
        self.threshold = check_number("threshold", threshold, 0.0, 1.0, low_open=True)
        self.fast_episodes = check_int("fast_episodes", fast_episodes, 1)
        self.reference_steps = check_int("reference_steps", reference_steps, 1)
        self.decay_steps = check_int("decay_steps", decay_steps, 1)
        self.reset()

    def reset(self) -> None:
        """Forget every return seen; the floor goes back to ``low``."""
        self.floor = self.low
        self.fast = math.nan
        self.reference = math.nan
        self.return_min = math.inf
        self.return_max = -math.inf
        self.episodes = 0
        self.signal = 0.0
        self.alarm = False

    def settings(self) -> dict[str, float]:
        """The constructor arguments."""
        return {
            "low": self.low,
            "high": self.high,
            "threshold": self.threshold,
            "fast_episodes": self.fast_episodes,
            "reference_steps": self.reference_steps,
            "decay_steps": self.decay_steps,
        }

    def observe_episode(self, episode_return: float, length: int) -> None:
        """Fold one finished episode into the running levels (the floor changes in :meth:`update`)."""
        value = float(episode_return)
        if not math.isfinite(value):
            raise ValueError(f"episode_return={episode_return!r} must be finite")
        self.episodes += 1
        n = self.episodes
        # Bias-corrected running means: a plain average until the horizon is reached.
        fast_weight = max(1.0 / n, 1.0 / self.fast_episodes)
        reference_weight = max(1.0 / n, -math.expm1(-max(int(length), 1) / self.reference_steps))
        if n == 1:
            self.fast = self.reference = value
        else:
            self.fast += fast_weight * (value - self.fast)
            self.reference += reference_weight * (value - self.reference)
        self.return_min = min(self.return_min, value)
        self.return_max = max(self.return_max, value)
        spread = self.return_max - self.return_min
        self.signal = (self.reference - self.fast) / spread if spread > 0.0 else 0.0
        self.alarm = self.signal > self.threshold

    def update(self, returns: Sequence[float], lengths: Sequence[int], n_steps: int) -> float:
        """One controller step: fold in the finished episodes, then move the floor.

        :param returns: returns of the episodes that ended since the last call.
        :param lengths: their lengths (environment steps), same order.
        :param n_steps: environment steps taken since the last call (over all envs).
        :return: the floor to put in force, in ``[low, high]``.
        """
        if len(returns) != len(lengths):
            raise ValueError(f"got {len(returns)} returns but {len(lengths)} lengths")
        n_steps = check_int("n_steps", n_steps, 0)
        for episode_return, length in zip(returns, lengths, strict=True):
            self.observe_episode(episode_return, length)
        if self.alarm:
            self.floor = self.high
        else:
            step = (self.high - self.low) * n_steps / self.decay_steps
            self.floor = min(self.high, max(self.low, self.floor - step))
        return self.floor

    def state_dict(self) -> dict[str, float]:
        """The controller's state as plain numbers (JSON-ready; infinities while no episode was seen)."""
        return {
            "floor": self.floor,
            "fast": self.fast,
            "reference": self.reference,
            "return_min": self.return_min,
            "return_max": self.return_max,
            "episodes": float(self.episodes),
            "signal": self.signal,
            "alarm": float(self.alarm),
        }

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restore a state written by :meth:`state_dict`; the floor is clipped into ``[low, high]``."""
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"adaptive floor state lacks {missing}; got keys {sorted(state)}")
        self.floor = min(self.high, max(self.low, float(state["floor"])))
        self.fast = float(state["fast"])
        self.reference = float(state["reference"])
        self.return_min = float(state["return_min"])
        self.return_max = float(state["return_max"])
        self.episodes = int(state["episodes"])
        self.signal = float(state["signal"])
        self.alarm = bool(state["alarm"])


class AdaptiveFloorCallback(BaseCallback):
    """Drive a floored policy's ``min_prob`` with an :class:`AdaptiveFloorController`.

    Works with PPO, A2C and sb3-contrib's MaskablePPO on a policy from :mod:`rlfloor.policies`
    or :mod:`rlfloor.maskable` with ``Discrete`` or ``MultiDiscrete`` actions. Episode returns
    are read from the ``episode`` entry SB3's ``Monitor`` adds to ``info`` (SB3 wraps envs in a
    ``Monitor`` itself). After each rollout the controller is updated and the metrics recorded;
    the new floor comes into force before the next rollout, so each rollout is collected and
    trained on under one floor. The policy's own ``min_prob`` argument is ignored while this
    callback drives it (keep it a number, not a schedule).

    :param low: floor while returns hold (default 0: off, the stock policy).
    :param high: floor during an alarm (default 0.05); must be below ``1/K`` for the
        action space's ``K`` (the largest sub-space; the full ``K`` even where masks allow fewer).
    :param threshold: alarm when returns drop by more than this fraction of their range (default 0.5).
    :param fast_episodes: horizon of the fast return level, in episodes (default 20).
    :param reference_steps: horizon of the reference return level, in env steps (default 10,000).
    :param decay_steps: env steps for the floor to fall from ``high`` to ``low`` (default 2,000).
    """

    def __init__(
        self,
        low: float = 0.0,
        high: float = 0.05,
        threshold: float = 0.5,
        fast_episodes: int = 20,
        reference_steps: int = 10_000,
        decay_steps: int = 2_000,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        self.controller = AdaptiveFloorController(
            low=low,
            high=high,
            threshold=threshold,
            fast_episodes=fast_episodes,
            reference_steps=reference_steps,
            decay_steps=decay_steps,
        )
        self._returns: list[float] = []
        self._lengths: list[int] = []
        self._steps = 0

    def _on_training_start(self) -> None:
        policy = self.model.policy
        if not hasattr(policy, "set_floor") or getattr(policy, "floor_name", None) != "min_prob":
            raise ValueError(
                "AdaptiveFloorCallback needs a floored policy from rlfloor.policies (or rlfloor.maskable) with "
                f"Discrete or MultiDiscrete actions, got {type(policy).__name__} on {self.model.action_space}"
            )
        n_actions = max(action_space_sizes(self.model.action_space))
        if self.controller.high * n_actions >= 1.0:
            raise ValueError(
                f"high={self.controller.high!r} is outside the allowed range [low, 1/{n_actions}) for "
                f"{n_actions} actions"
            )
        state = getattr(self.model, STATE_ATTRIBUTE, None)
        if state is not None:
            self.controller.load_state_dict(state)
        self._returns, self._lengths, self._steps = [], [], 0
        policy.set_floor(self.controller.floor)  # type: ignore[operator]
        self._save_state()

    def _on_rollout_start(self) -> None:
        self.model.policy.set_floor(self.controller.floor)  # type: ignore[operator]

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            episode = info.get("episode")
            if episode is not None:
                self._returns.append(float(episode["r"]))
                self._lengths.append(int(episode["l"]))
        self._steps += self.training_env.num_envs
        return True

    def _on_rollout_end(self) -> None:
        in_force = float(self.model.policy.floor)  # type: ignore[arg-type]
        controller = self.controller
        controller.update(self._returns, self._lengths, self._steps)
        self._returns, self._lengths, self._steps = [], [], 0
        self._save_state()
        self.logger.record("floor/min_prob", in_force)
        self.logger.record("floor/signal", controller.signal)
        self.logger.record("floor/alarm", float(controller.alarm))
        if controller.episodes:
            self.logger.record("floor/return_fast", controller.fast)
            self.logger.record("floor/return_reference", controller.reference)

    def _save_state(self) -> None:
        setattr(self.model, STATE_ATTRIBUTE, self.controller.state_dict())

    @property
    def floor(self) -> float:
        """The floor the controller puts in force for the next rollout."""
        return self.controller.floor

    def settings(self) -> dict[str, Any]:
        """The constructor arguments (for configs and reports)."""
        return self.controller.settings()


__all__ = ["STATE_ATTRIBUTE", "AdaptiveFloorCallback", "AdaptiveFloorController"]
