"""An adaptive probability floor: off while a committed policy's returns hold, raised when they drop.

A constant floor (Exp3's ``gamma / K`` uniform mixing, DreamerV3's 1% "unimix") pays a tax on
every decision of a task already solved, and a floor annealed to 0 is gone when the world
changes late in training. The floor here is an alarm response instead:

* **Drop signal.** Each finished training episode updates two running levels of the episodic
  return: a *fast* one (mean of about the last ``fast_episodes`` episodes) and a *reference*
  (a running mean with a horizon of ``reference_steps`` environment steps). The signal is the
  drop of the fast level below the reference, in units of the range of returns seen so far::

      signal = (reference - fast) / (max return seen - min return seen)

  Both levels are bias-corrected running means at the start (an episode counts ``1/n`` while
  fewer episodes than the horizon have been seen), so a lucky first episode raises no alarm.
  The callback sums the episode returns itself from the rewards and dones of every step (the
  env's own rewards under ``VecNormalize``): it needs no ``Monitor``, so it is never silently off
  on a user's own ``DummyVecEnv``.
* **Commitment gate.** A drop alone is not evidence that the world changed: a policy that is
  still learning has dips of its own (CartPole's returns often halve for a while). The alarm
  also needs the policy to have *committed*: the running level of its entropy, in units of
  ``log K``, must be below ``commit_entropy``. The entropy is estimated for free from the
  rollout buffer: the mean of ``-log pi(a|s)`` over the sampled actions is an unbiased
  estimate of the rollout policy's mean entropy (no forward pass). A committed policy whose
  returns fall is the situation a floor exists for -- its sampling can no longer find what
  changed -- while an uncommitted one still explores by itself.
* **Alarm.** It starts when ``signal > threshold`` while the policy is committed, and lasts while
  ``signal > threshold`` (the floor raises the entropy, so the gate is needed only to start it).
  During an alarm the floor is ``high``: every action must be sampled again.
* **Holding the reference** (``hold_steps``, off by default). The reference keeps moving during an
  alarm, so the alarm also ends when the reference has *forgotten* the pre-drop level, whether or not
  the policy recovered: with a 10k-step horizon, PPO's alarm after a second switch lasted 2,176 steps
  where relearning takes 4-8k (docs/results/nonstationary.md). With ``hold_steps > 0`` the reference
  stays at its pre-alarm level for up to that many environment steps of an alarm, so the alarm ends
  when the fast return has climbed back to within ``threshold`` of it; past ``hold_steps`` the
  reference moves again (the drop was for good: a world whose best return fell).
* **A reference that re-arms** (``reference_mode="peak"``, off by default). A running mean climbs as
  slowly as it falls: after a recovery it takes the reference's horizon to come back to the recovered
  level, so a second change soon after the first raises a shorter alarm, or none. Replayed through this
  controller, PPO's alarm after the switching bandit's second switch started at a reference of 0.62 and
  lasted 2,176 steps, against 6,912 after the first (docs/results/nonstationary.md). With ``"peak"``
  the reference never sits below the fast level: it climbs with the fast level at once and falls as the
  running mean does, so every drop from a recovered level raises the same full alarm. Measured off the
  tier (published/adaptive-peak/) it re-arms, yet PPO still does not recover: under a floor, the gradient
  of an action whose own softmax probability has collapsed scales with that probability
  (docs/guide/adaptive-floor.md, "What stops PPO from recovering").
* **Learnable, not only sampled** (``shrink_head=True``, off by default). Under a floor the policy is the
  mixture ``m + (1 - K m) softmax(z)``, and the gradient of an action's log-probability scales with its own
  softmax probability over ``m``: an action the softmax has pushed to 1e-6 is sampled at ``m`` and learned
  about 1e-4 times as fast as one the policy plays (published/adaptive-peak/). With ``shrink_head`` the
  start of an alarm also scales the policy head's last layer down until, in the states of the alarm's
  rollout, every action's own probability is at least ``high``: the shrink of "shrink and perturb" (Ash &
  Adams, "On Warm-Starting Neural Network Training", NeurIPS 2020) and of the output-layer resets that restore
  plasticity (Nikishin et al., "The Primacy Bias in Deep Reinforcement Learning", ICML 2022), applied to the
  head only and only when the returns say the world changed.
* **Decay.** Otherwise the floor falls linearly back to ``low`` over ``decay_steps``
  environment steps. With ``low = 0`` (the default) the floor is fully off while returns
  hold, and the policy is the stock one.

The floor starts at ``low``: until a committed policy's returns drop, an adaptive agent samples
like stock PPO or A2C. The controller is :class:`AdaptiveFloorController` (pure Python, testable
with synthetic returns and entropies); :class:`AdaptiveFloorCallback` drives it from SB3's training
loop and puts its floor in force through the policy's ``set_floor``. The floor in force is the
policy buffer ``floor_in_force``; the controller's own state is the model attribute
``adaptive_floor_state`` (a dict of numbers), which ``model.save()`` writes and ``load()``
restores, so a continued ``learn()`` resumes the same levels and floor (a state saved before the
commitment gate existed loads too: the entropy level starts unknown).

Metrics (recorded after every rollout): ``floor/min_prob`` (floor in force during the rollout),
``floor/signal`` (return drop in units of the return range), ``floor/alarm`` (1 during an alarm),
``floor/entropy`` (the rollout's entropy estimate in units of ``log K``), ``floor/entropy_level``
(its running level, the one the gate reads), ``floor/committed`` (1 while that level is below
``commit_entropy``), ``floor/return_fast`` and ``floor/return_reference`` (the two return levels), and with
``shrink_head``, ``floor/head_scale`` (the factor the head was scaled by before the rollout; 1: not scaled).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecNormalize

from rlfloor.callbacks.episodes import EpisodeTracker, env_rewards
from rlfloor.checks import check_choice, check_int, check_number
from rlfloor.distributions import action_space_sizes

#: name of the model attribute holding the controller's state (pickled by ``model.save()``)
STATE_ATTRIBUTE = "adaptive_floor_state"

#: default floor while returns hold (0: the floor is off, the stock policy)
DEFAULT_LOW = 0.0
#: default floor during an alarm (Exp3's ``gamma / K`` role: 20% uniform mixing over 4 actions)
DEFAULT_HIGH = 0.05
#: default alarm threshold: the fast return level below the reference by half the return range
DEFAULT_THRESHOLD = 0.5
#: default horizon of the fast return level, in episodes
DEFAULT_FAST_EPISODES = 20
#: default horizon of the reference return level, in environment steps
DEFAULT_REFERENCE_STEPS = 10_000
#: default number of environment steps for the floor to fall from ``high`` to ``low``
DEFAULT_DECAY_STEPS = 2_000
#: default commitment gate: the policy's entropy level below this fraction of ``log K``
DEFAULT_COMMIT_ENTROPY = 0.15
#: default horizon of the entropy level, in environment steps
DEFAULT_ENTROPY_STEPS = 1_000
#: default steps of an alarm with the reference held (0: never held, the reference keeps moving)
DEFAULT_HOLD_STEPS = 0
#: how the reference follows the returns: "mean" (a running mean) or "peak" (never below the fast level)
REFERENCE_MODES = ("mean", "peak")
#: default reference mode
DEFAULT_REFERENCE_MODE = "mean"

#: keys every saved state has (a state saved before the commitment gate has exactly these)
_STATE_KEYS = ("floor", "fast", "reference", "return_min", "return_max", "episodes", "signal", "alarm")
#: keys added later (the commitment gate, the held reference), and their values for a state saved without them
_ADDED_KEY_DEFAULTS = {"entropy": math.nan, "entropy_level": math.nan, "entropy_count": 0.0, "held": 0.0}


class AdaptiveFloorController:
    """The adaptive floor's logic: return and entropy levels in, a floor in ``[low, high]`` out.

    Call :meth:`update` once per policy update with the returns and lengths of the episodes
    that ended since the last call, the number of environment steps taken and the rollout's
    entropy estimate; it returns the floor to use next.

    :param low: floor while returns hold, ``>= 0`` (0: the floor is off).
    :param high: floor during an alarm, ``>= low`` and ``< 1`` (and ``< 1/K`` for ``K`` actions;
        the callback checks that against the action space).
    :param threshold: alarm when the fast return level is more than this fraction of the
        return range below the reference, in ``(0, 1]``.
    :param fast_episodes: horizon, in episodes, of the fast return level (``>= 1``).
    :param reference_steps: horizon, in environment steps, of the reference return level (``>= 1``).
    :param decay_steps: environment steps over which the floor falls from ``high`` to ``low``
        once the alarm is over (``>= 1``).
    :param commit_entropy: an alarm can start only while the entropy level is below this
        fraction of ``log K``, in ``(0, 1]`` (``1``: any policy short of uniform counts as committed).
    :param entropy_steps: horizon, in environment steps, of the entropy level (``>= 1``).
    :param hold_steps: environment steps of an alarm during which the reference is held at its
        pre-alarm level (``>= 0``; 0: the reference keeps moving, the default).
    :param reference_mode: ``"mean"`` (the default): the reference is a running mean of the returns;
        ``"peak"``: the same, but never below the fast level, so it is back at a recovered level at once.
    """

    def __init__(
        self,
        low: float = DEFAULT_LOW,
        high: float = DEFAULT_HIGH,
        threshold: float = DEFAULT_THRESHOLD,
        fast_episodes: int = DEFAULT_FAST_EPISODES,
        reference_steps: int = DEFAULT_REFERENCE_STEPS,
        decay_steps: int = DEFAULT_DECAY_STEPS,
        commit_entropy: float = DEFAULT_COMMIT_ENTROPY,
        entropy_steps: int = DEFAULT_ENTROPY_STEPS,
        hold_steps: int = DEFAULT_HOLD_STEPS,
        reference_mode: str = DEFAULT_REFERENCE_MODE,
    ):
        self.low = check_number("low", low, 0.0, 1.0, high_open=True)
        self.high = check_number("high", high, 0.0, 1.0, high_open=True)
        if self.high < self.low:
            raise ValueError(f"high={high!r} must be >= low={low!r}")
        self.threshold = check_number("threshold", threshold, 0.0, 1.0, low_open=True)
        self.fast_episodes = check_int("fast_episodes", fast_episodes, 1)
        self.reference_steps = check_int("reference_steps", reference_steps, 1)
        self.decay_steps = check_int("decay_steps", decay_steps, 1)
        self.commit_entropy = check_number("commit_entropy", commit_entropy, 0.0, 1.0, low_open=True)
        self.entropy_steps = check_int("entropy_steps", entropy_steps, 1)
        self.hold_steps = check_int("hold_steps", hold_steps, 0)
        self.reference_mode: str = check_choice("reference_mode", reference_mode, REFERENCE_MODES)
        self.reset()

    def reset(self) -> None:
        """Forget every return and entropy seen; the floor goes back to ``low``."""
        self.floor = self.low
        self.fast = math.nan
        self.reference = math.nan
        self.return_min = math.inf
        self.return_max = -math.inf
        self.episodes = 0
        self.signal = 0.0
        self.alarm = False
        self.entropy = math.nan
        self.entropy_level = math.nan
        self.entropy_count = 0
        self.held = 0

    @property
    def committed(self) -> bool:
        """Whether the entropy level is below ``commit_entropy`` (``False`` before any entropy is seen)."""
        return self.entropy_level < self.commit_entropy  # NaN compares False

    def settings(self) -> dict[str, float | str]:
        """The constructor arguments."""
        return {
            "low": self.low,
            "high": self.high,
            "threshold": self.threshold,
            "fast_episodes": self.fast_episodes,
            "reference_steps": self.reference_steps,
            "decay_steps": self.decay_steps,
            "commit_entropy": self.commit_entropy,
            "entropy_steps": self.entropy_steps,
            "hold_steps": self.hold_steps,
            "reference_mode": self.reference_mode,
        }

    def observe_episode(self, episode_return: float, length: int) -> None:
        """Fold one finished episode into the return levels (the floor changes in :meth:`update`)."""
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
            if not (self.alarm and self.held < self.hold_steps):  # held: the pre-alarm level stays the bar
                self.reference += reference_weight * (value - self.reference)
                if self.reference_mode == "peak":
                    self.reference = max(self.reference, self.fast)
        self.return_min = min(self.return_min, value)
        self.return_max = max(self.return_max, value)
        spread = self.return_max - self.return_min
        self.signal = (self.reference - self.fast) / spread if spread > 0.0 else 0.0

    def observe_entropy(self, entropy: float, n_steps: int) -> None:
        """Fold one rollout's entropy estimate (in units of ``log K``) over ``n_steps`` steps into the level."""
        value = float(entropy)
        if not math.isfinite(value) or value < 0.0:
            raise ValueError(f"entropy={entropy!r} must be a finite number >= 0")
        if n_steps <= 0:
            return
        self.entropy = value
        self.entropy_count += n_steps
        # Bias-corrected like the return levels: a step-weighted average until the horizon is reached.
        weight = max(n_steps / self.entropy_count, -math.expm1(-n_steps / self.entropy_steps))
        if self.entropy_count == n_steps:
            self.entropy_level = value
        else:
            self.entropy_level += weight * (value - self.entropy_level)

    def update(
        self, returns: Sequence[float], lengths: Sequence[int], n_steps: int, entropy: float | None = None
    ) -> float:
        """One controller step: fold in the rollout's entropy and finished episodes, then move the floor.

        :param returns: returns of the episodes that ended since the last call.
        :param lengths: their lengths (environment steps), same order.
        :param n_steps: environment steps taken since the last call (over all envs).
        :param entropy: the rollout policy's mean entropy over those steps, in units of ``log K``
            (``None``: not measured; the entropy level stays as it is).
        :return: the floor to put in force, in ``[low, high]``.
        """
        if len(returns) != len(lengths):
            raise ValueError(f"got {len(returns)} returns but {len(lengths)} lengths")
        n_steps = check_int("n_steps", n_steps, 0)
        if entropy is not None:
            self.observe_entropy(entropy, n_steps)
        for episode_return, length in zip(returns, lengths, strict=True):
            self.observe_episode(episode_return, length)
        # The gate is needed to start an alarm, not to keep it: the floor itself raises the entropy.
        self.alarm = self.signal > self.threshold and (self.alarm or self.committed)
        self.held = self.held + n_steps if self.alarm else 0
        if self.alarm:
            self.floor = self.high
        else:
            step = (self.high - self.low) * n_steps / self.decay_steps
            self.floor = min(self.high, max(self.low, self.floor - step))
        return self.floor

    def state_dict(self) -> dict[str, float]:
        """The controller's state as plain numbers (infinities / NaN while nothing was seen)."""
        return {
            "floor": self.floor,
            "fast": self.fast,
            "reference": self.reference,
            "return_min": self.return_min,
            "return_max": self.return_max,
            "episodes": float(self.episodes),
            "signal": self.signal,
            "alarm": float(self.alarm),
            "entropy": self.entropy,
            "entropy_level": self.entropy_level,
            "entropy_count": float(self.entropy_count),
            "held": float(self.held),
        }

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restore a state written by :meth:`state_dict`; the floor is clipped into ``[low, high]``.

        A state saved before the commitment gate (no entropy keys) loads with the entropy level unknown.
        """
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"adaptive floor state lacks {missing}; got keys {sorted(state)}")
        full = {**_ADDED_KEY_DEFAULTS, **state}
        self.floor = min(self.high, max(self.low, float(full["floor"])))
        self.fast = float(full["fast"])
        self.reference = float(full["reference"])
        self.return_min = float(full["return_min"])
        self.return_max = float(full["return_max"])
        self.episodes = int(full["episodes"])
        self.signal = float(full["signal"])
        self.alarm = bool(full["alarm"])
        self.entropy = float(full["entropy"])
        self.entropy_level = float(full["entropy_level"])
        self.entropy_count = int(full["entropy_count"])
        self.held = int(full["held"])


class AdaptiveFloorCallback(BaseCallback):
    """Drive a floored policy's ``min_prob`` with an :class:`AdaptiveFloorController`.

    Works with PPO, A2C and sb3-contrib's MaskablePPO on a policy from :mod:`rlfloor.policies`
    or :mod:`rlfloor.maskable` with ``Discrete`` or ``MultiDiscrete`` actions. Episode returns
    are tracked by the callback itself from the rewards and dones of every step
    (:class:`~rlfloor.callbacks.episodes.EpisodeTracker`; the env's own rewards under ``VecNormalize``),
    so no ``Monitor`` or ``VecMonitor`` is needed: they equal ``VecMonitor``'s returns step for step.
    Episodes in flight when ``learn()`` resets the env are dropped; a ``learn(reset_num_timesteps=False)``
    with the same callback continues them. The entropy estimate is ``-mean(log_probs)`` of the rollout buffer's
    sampled actions over ``log K`` (the sum of ``log K_i`` for ``MultiDiscrete``; the full ``K`` under
    masks). After each rollout the controller is updated and the metrics recorded; the new floor
    comes into force before the next rollout, so each rollout is collected and trained on under
    one floor. The policy's own ``min_prob`` argument is ignored while this callback drives it
    (keep it a number, not a schedule). The arguments and their defaults are those of
    :class:`AdaptiveFloorController` (the module's ``DEFAULT_*`` constants), and:

    :param shrink_head: at the start of each alarm, also scale the policy head (:func:`shrink_policy_head`)
        so that in the alarm rollout's states every action's own softmax probability is at least ``high``:
        the floor then samples actions the policy can also learn to prefer. Off by default. The factor
        applied is recorded as ``floor/head_scale`` (1 when nothing was shrunk).
    """

    def __init__(
        self,
        low: float = DEFAULT_LOW,
        high: float = DEFAULT_HIGH,
        threshold: float = DEFAULT_THRESHOLD,
        fast_episodes: int = DEFAULT_FAST_EPISODES,
        reference_steps: int = DEFAULT_REFERENCE_STEPS,
        decay_steps: int = DEFAULT_DECAY_STEPS,
        commit_entropy: float = DEFAULT_COMMIT_ENTROPY,
        entropy_steps: int = DEFAULT_ENTROPY_STEPS,
        hold_steps: int = DEFAULT_HOLD_STEPS,
        reference_mode: str = DEFAULT_REFERENCE_MODE,
        shrink_head: bool = False,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        if not isinstance(shrink_head, bool):
            raise ValueError(f"shrink_head={shrink_head!r} must be True or False")
        self.shrink_head = shrink_head
        self.controller = AdaptiveFloorController(
            low=low,
            high=high,
            threshold=threshold,
            fast_episodes=fast_episodes,
            reference_steps=reference_steps,
            decay_steps=decay_steps,
            commit_entropy=commit_entropy,
            entropy_steps=entropy_steps,
            hold_steps=hold_steps,
            reference_mode=reference_mode,
        )
        self._returns: list[float] = []
        self._lengths: list[int] = []
        self._steps = 0
        self._log_k = 0.0
        self._episodes: EpisodeTracker | None = None
        self._vec_normalize: VecNormalize | None = None
        self._model_id: int | None = None
        self._shrink_rollout: tuple[Any, Any] | None = None  # the alarm rollout's observations and masks, if pending
        self._head_scale = 1.0

    def _on_training_start(self) -> None:
        policy = self.model.policy
        if not hasattr(policy, "set_floor") or getattr(policy, "floor_name", None) != "min_prob":
            raise ValueError(
                "AdaptiveFloorCallback needs a floored policy from rlfloor.policies (or rlfloor.maskable) with "
                f"Discrete or MultiDiscrete actions, got {type(policy).__name__} on {self.model.action_space}"
            )
        sizes = action_space_sizes(self.model.action_space)
        n_actions = max(sizes)
        if self.controller.high * n_actions >= 1.0:
            raise ValueError(
                f"high={self.controller.high!r} is outside the allowed range [low, 1/{n_actions}) for "
                f"{n_actions} actions"
            )
        self._log_k = float(sum(math.log(k) for k in sizes))
        state = getattr(self.model, STATE_ATTRIBUTE, None)
        if state is not None:
            self.controller.load_state_dict(state)
        self._returns, self._lengths, self._steps = [], [], 0
        self._track_episodes()
        policy.set_floor(self.controller.floor)  # type: ignore[operator]
        self._save_state()

    def _track_episodes(self) -> None:
        """Start (or continue) tracking episode returns from the rewards and dones of the training env."""
        model, n_envs = self.model, self.training_env.num_envs
        # learn(reset_num_timesteps=True) resets the env (num_timesteps is 0 then): in-flight episodes are gone.
        # A continued learn() of the same model with the same callback keeps them.
        fresh = self._episodes is None or self._episodes.n_envs != n_envs or self._model_id != id(model)
        if fresh or model.num_timesteps == 0:
            self._episodes = EpisodeTracker(n_envs)
        self._model_id = id(model)
        self._vec_normalize = model.get_vec_normalize_env()

    def _on_rollout_start(self) -> None:
        if self._shrink_rollout is not None:
            observations, masks = self._shrink_rollout
            self._head_scale = shrink_policy_head(self.model.policy, observations, self.controller.high, masks)
            self._shrink_rollout = None
        self.model.policy.set_floor(self.controller.floor)  # type: ignore[operator]

    def _on_step(self) -> bool:
        if self._episodes is None:  # stepped without on_training_start (not through learn())
            self._track_episodes()
        assert self._episodes is not None
        rewards = env_rewards(self.locals, self._vec_normalize)
        for episode_return, length in self._episodes.step(rewards, self.locals["dones"]):
            self._returns.append(episode_return)
            self._lengths.append(length)
        self._steps += self.training_env.num_envs
        return True

    def _rollout_entropy(self) -> float | None:
        """``-mean(log pi(a|s))`` of the rollout's sampled actions over ``log K`` (``None``: none)."""
        buffer = getattr(self.model, "rollout_buffer", None)
        if buffer is None or self._log_k <= 0.0:
            return None
        filled = buffer.buffer_size if buffer.full else buffer.pos
        if filled == 0:
            return None
        return max(0.0, -float(np.mean(buffer.log_probs[:filled])) / self._log_k)

    def _on_rollout_end(self) -> None:
        in_force = float(self.model.policy.floor)  # type: ignore[arg-type]
        controller = self.controller
        was_alarm = controller.alarm
        controller.update(self._returns, self._lengths, self._steps, self._rollout_entropy())
        self._returns, self._lengths, self._steps = [], [], 0
        self._save_state()
        if self.shrink_head and controller.alarm and not was_alarm:
            # Shrunk before the next rollout, not now: this rollout is trained on with the head it was sampled from.
            # SB3's buffer reset allocates new arrays, so this reference keeps the alarm rollout's observations.
            buffer = self.model.rollout_buffer  # type: ignore[attr-defined]
            self._shrink_rollout = (buffer.observations, getattr(buffer, "action_masks", None))
        self.logger.record("floor/min_prob", in_force)
        if self.shrink_head:
            self.logger.record("floor/head_scale", self._head_scale)
            self._head_scale = 1.0
        self.logger.record("floor/signal", controller.signal)
        self.logger.record("floor/alarm", float(controller.alarm))
        self.logger.record("floor/committed", float(controller.committed))
        if controller.entropy_count:
            self.logger.record("floor/entropy", controller.entropy)
            self.logger.record("floor/entropy_level", controller.entropy_level)
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
        return {**self.controller.settings(), "shrink_head": self.shrink_head}


#: most observations of the alarm rollout that :func:`shrink_policy_head` reads
SHRINK_SAMPLE = 4096


def shrink_policy_head(
    policy: Any, observations: Any, min_prob: float, action_masks: np.ndarray | None = None
) -> float:
    """Scale a floored policy's head so that, in every observed state, each action's own softmax probability
    is at least ``min_prob``; returns the smallest factor applied (1: the head was already within the bound).

    For ``K`` actions whose logits span at most ``g``, the least probable action has at least
    ``1 / (1 + (K - 1) e^g)``; the bound is met with ``g = log((1 - min_prob) / ((K - 1) min_prob))``. Each
    categorical sub-space whose widest logit span over ``observations`` is above its ``g`` has its rows of the
    (linear) head multiplied by ``g / span``. Nothing else changes: the features, the value head, the optimizer.
    Under action masks the span is taken over the valid actions of each state (``K`` stays the full size, as
    for the floor's own bound ``high < 1/K``).

    :param policy: a policy from :mod:`rlfloor.policies` or :mod:`rlfloor.contrib.policies`.
    :param observations: a rollout buffer's ``observations`` (an array ``(n_steps, n_envs, ...)``, or a dict of them).
    :param min_prob: the own probability every action keeps, in ``(0, 1/K)``; 0 shrinks nothing.
    :param action_masks: the buffer's ``action_masks`` (``(n_steps, n_envs, sum of K)``, 1 = valid), or ``None``.
    """
    if min_prob <= 0.0:
        return 1.0

    def flat(array: np.ndarray) -> th.Tensor:
        array = array.reshape(-1, *array.shape[2:])[:SHRINK_SAMPLE]
        return th.as_tensor(array, device=policy.device)

    obs = (
        {key: flat(value) for key, value in observations.items()}
        if isinstance(observations, dict)
        else flat(observations)
    )
    with th.no_grad():
        logits = policy.head_logits(obs)
    valid = th.ones_like(logits, dtype=th.bool) if action_masks is None else flat(action_masks) > 0.5
    sizes = action_space_sizes(policy.action_space)
    factors = []
    for size, part, ok in zip(sizes, th.split(logits, sizes, dim=-1), th.split(valid, sizes, dim=-1), strict=True):
        top = part.masked_fill(~ok, -math.inf).amax(dim=-1)
        bottom = part.masked_fill(~ok, math.inf).amin(dim=-1)
        spans = (top - bottom)[ok.sum(dim=-1) > 1]  # a state with one valid action has no span
        span = float(spans.max()) if spans.numel() else 0.0
        bound = math.log((1.0 - min_prob) / ((size - 1) * min_prob)) if size > 1 else math.inf
        factors.append(min(1.0, bound / span) if span > 0.0 else 1.0)
    policy.scale_head(factors)
    return min(factors)


__all__ = [
    "DEFAULT_COMMIT_ENTROPY",
    "DEFAULT_DECAY_STEPS",
    "DEFAULT_ENTROPY_STEPS",
    "DEFAULT_FAST_EPISODES",
    "DEFAULT_HIGH",
    "DEFAULT_HOLD_STEPS",
    "DEFAULT_LOW",
    "DEFAULT_REFERENCE_MODE",
    "DEFAULT_REFERENCE_STEPS",
    "DEFAULT_THRESHOLD",
    "REFERENCE_MODES",
    "STATE_ATTRIBUTE",
    "AdaptiveFloorCallback",
    "AdaptiveFloorController",
    "shrink_policy_head",
]
