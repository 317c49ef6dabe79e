"""Actor-critic policies whose action distribution keeps a floor.

Use them wherever SB3 takes a policy class::

    from stable_baselines3 import PPO
    from rlfloor.policies import FlooredActorCriticPolicy

    model = PPO(FlooredActorCriticPolicy, env, policy_kwargs={"min_prob": 0.02})

``Discrete`` and ``MultiDiscrete`` actions get a probability floor (``min_prob``),
``Box`` actions a standard-deviation floor (``min_std``). The logit transforms of
:mod:`rlfloor.logits` (temperature, straight-through clipping, range penalty,
centering) are options of the same policies. With every option at its default the
policy behaves exactly like SB3's.

A floor given as a schedule (for example ``LinearSchedule(0.05, 0.0)``) follows
training progress when :class:`rlfloor.callbacks.FloorScheduleCallback` is passed to
``learn()``. The floor in force is a buffer of the policy, so ``model.save()`` keeps it.

``FlooredMaskableActorCriticPolicy`` (for sb3-contrib's ``MaskablePPO``) is importable
from here too when sb3-contrib is installed; it lives in :mod:`rlfloor.maskable`.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    MultiInputActorCriticPolicy,
)
from stable_baselines3.common.type_aliases import Schedule

from rlfloor.distributions import (
    SUPPORTED_ACTION_SPACES,
    action_space_sizes,
    check_min_prob,
    check_min_std,
    make_floored_proba_distribution,
)
from rlfloor.logits import LogitOptions, LogitTransform
from rlfloor.schedules import ScheduleLike, as_schedule, schedule_bounds


class FlooredPolicyMixin:
    """Floor, floor schedule and logit transforms shared by every floored policy.

    Mixed in before an SB3 actor-critic policy class; it replaces the action
    distribution before the networks are built and routes the policy head's logits
    through the configured transforms.
    """

    action_space: spaces.Space
    action_dist: Any
    training: bool
    floor_in_force: th.Tensor

    #: action-space types this policy family floors
    supported_action_spaces: tuple[type[spaces.Space], ...] = (
        spaces.Discrete,
        spaces.MultiDiscrete,
        spaces.Box,
    )

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        min_prob: ScheduleLike = 0.0,
        min_std: ScheduleLike = 0.0,
        temperature: float = 1.0,
        logit_clip: float | None = None,
        center_logits: bool = False,
        logit_penalty: float = 0.0,
        logit_penalty_bound: float = 5.0,
        **kwargs: Any,
    ):
        options = LogitOptions(
            temperature=temperature,
            logit_clip=logit_clip,
            center_logits=center_logits,
            logit_penalty=logit_penalty,
            logit_penalty_bound=logit_penalty_bound,
        )
        self._init_floor(action_space, min_prob, min_std, options)
        # The next class in the MRO is the SB3 policy; it calls our _build().
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)  # type: ignore[call-arg]

    def _init_floor(
        self,
        action_space: spaces.Space,
        min_prob: ScheduleLike,
        min_std: ScheduleLike,
        logit_options: LogitOptions,
    ) -> None:
        """Validate the exploration settings; runs before the SB3 constructor builds anything."""
        if not isinstance(action_space, self.supported_action_spaces):
            names = ", ".join(cls.__name__ for cls in self.supported_action_spaces)
            raise ValueError(f"unsupported action space {action_space}: {type(self).__name__} supports {names}")
        self._min_prob_arg, self._min_std_arg = min_prob, min_std
        self.logit_options = logit_options
        if isinstance(action_space, spaces.Box):
            if callable(min_prob) or min_prob != 0.0:
                raise ValueError(
                    f"min_prob={min_prob!r} applies to Discrete and MultiDiscrete actions; "
                    f"for {action_space} use min_std (the Gaussian standard-deviation floor)"
                )
            if not logit_options.is_identity:
                raise ValueError(f"logit options {logit_options} need discrete actions, got {action_space}")
            self.floor_name, floor = "min_std", min_std
            self._action_dims: list[int] = []
        else:
            if callable(min_std) or min_std != 0.0:
                raise ValueError(f"min_std={min_std!r} applies to Box actions; for {action_space} use min_prob")
            self.floor_name, floor = "min_prob", min_prob
            self._action_dims = action_space_sizes(action_space)
        if not callable(floor):
            self._check_floor(floor)
        self.floor_schedule = as_schedule(floor)
        bounds = schedule_bounds(self.floor_schedule)
        for value in bounds if bounds is not None else (self.floor_schedule(1.0), self.floor_schedule(0.0)):
            self._check_floor(value)
        self._floor_scheduled = bounds is None or bounds[0] != bounds[1]  # a floor that can change
        self._floor_driven = False
        self._warned_undriven = False
        self.logit_transform = LogitTransform(logit_options, self._action_dims)
        self._logits_as_is = logit_options.is_identity  # hot path: skip the transform call

    def _check_floor(self, value: float) -> float:
        """Validate a floor value for this policy's action space; returns it as a float."""
        if self.floor_name == "min_std":
            return check_min_std(value)
        return check_min_prob(value, max(self._action_dims))

    def _make_action_dist(self, floor: float) -> Distribution:
        return make_floored_proba_distribution(self.action_space, floor)

    def _build(self, lr_schedule: Schedule) -> None:
        initial = self._check_floor(self.floor_schedule(1.0))
        if getattr(self, "use_sde", False):
            if self.floor_name != "min_std" or initial != 0.0 or schedule_bounds(self.floor_schedule) != (0.0, 0.0):
                raise ValueError("use_sde=True (gSDE) has no floored distribution; use min_std with use_sde=False")
        else:
            self.action_dist = self._make_action_dist(initial)
        # A buffer, so the floor in force is part of the state dict that model.save() writes.
        self.register_buffer("floor_in_force", th.tensor(initial, dtype=th.float64))  # type: ignore[attr-defined]
        self.register_load_state_dict_post_hook(_sync_floor_after_load)  # type: ignore[attr-defined]
        super()._build(lr_schedule)  # type: ignore[misc]

    @property
    def floor(self) -> float:
        """The floor in force: ``min_prob`` for discrete actions, ``min_std`` for Box."""
        return float(self.floor_in_force)

    @property
    def min_prob(self) -> float:
        """The probability floor in force (0 for Box action spaces)."""
        return self.floor if self.floor_name == "min_prob" else 0.0

    @property
    def min_std(self) -> float:
        """The standard-deviation floor in force (0 for discrete action spaces)."""
        return self.floor if self.floor_name == "min_std" else 0.0

    def set_floor(self, value: float) -> None:
        """Put a floor value in force (validated against the action space)."""
        value = self._check_floor(value)
        if hasattr(self.action_dist, self.floor_name):
            setattr(self.action_dist, self.floor_name, value)
        self.floor_in_force.fill_(value)

    def update_floor(self, progress_remaining: float) -> float:
        """Put the scheduled floor for ``progress_remaining`` (1 at start, 0 at end) in force."""
        self._floor_driven = True
        value = float(self.floor_schedule(progress_remaining))
        self.set_floor(value)
        return value

    def set_training_mode(self, mode: bool) -> None:
        super().set_training_mode(mode)  # type: ignore[misc]
        if mode and self._floor_scheduled and not self._floor_driven and not self._warned_undriven:
            self._warned_undriven = True
            warnings.warn(
                f"{self.floor_name} follows a schedule but nothing updates it: pass "
                "rlfloor.callbacks.FloorScheduleCallback() to learn(); the floor stays at "
                f"{self.floor:.4g}",
                stacklevel=2,
            )

    def _get_action_dist_from_latent(self, latent_pi: th.Tensor) -> Any:
        if self.floor_name == "min_std":
            return super()._get_action_dist_from_latent(latent_pi)  # type: ignore[misc]
        logits = self.action_net(latent_pi)  # type: ignore[attr-defined]
        if not self._logits_as_is:
            logits = self.logit_transform(logits, training=self.training)
        return self.action_dist.proba_distribution(action_logits=logits)

    def pop_logit_penalty(self) -> float | None:
        """Mean logit-range penalty term (weighted) over the minibatches since the last call."""
        return self.logit_transform.pop_penalty()

    def _floor_constructor_parameters(self) -> dict[str, Any]:
        opts = self.logit_options
        return dict(
            min_prob=self._min_prob_arg,
            min_std=self._min_std_arg,
            temperature=opts.temperature,
            logit_clip=opts.logit_clip,
            center_logits=opts.center_logits,
            logit_penalty=opts.logit_penalty,
            logit_penalty_bound=opts.logit_penalty_bound,
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data: dict[str, Any] = super()._get_constructor_parameters()  # type: ignore[misc]
        data.update(self._floor_constructor_parameters())
        return data


def _sync_floor_after_load(module: Any, incompatible_keys: Any) -> None:
    """After ``load_state_dict``, hand the loaded floor to the distribution object."""
    if hasattr(module.action_dist, module.floor_name):
        setattr(module.action_dist, module.floor_name, float(module.floor_in_force))


_FLOOR_KWARGS_DOC = """
    :param min_prob: probability floor for Discrete/MultiDiscrete actions, in ``[0, 1/K)``
        (``K`` the largest sub-space), or a schedule of ``progress_remaining``.
    :param min_std: standard-deviation floor for Box actions, ``>= 0``, or a schedule.
    :param temperature: softmax temperature (``> 0``).
    :param logit_clip: straight-through clipping bound for the logits, or ``None``.
    :param center_logits: subtract each sub-space's mean logit.
    :param logit_penalty: weight of the logit-range penalty added to the loss (0: off).
    :param logit_penalty_bound: logits beyond ``+-bound`` are penalized.
    :param kwargs: every other argument of the SB3 parent policy.
"""


class FlooredActorCriticPolicy(FlooredPolicyMixin, ActorCriticPolicy):
    __doc__ = "SB3 ``ActorCriticPolicy`` (PPO, A2C) with a floored action distribution.\n" + _FLOOR_KWARGS_DOC


class FlooredActorCriticCnnPolicy(FlooredPolicyMixin, ActorCriticCnnPolicy):
    __doc__ = "SB3 ``ActorCriticCnnPolicy`` (image observations) with a floored action distribution.\n" + (
        _FLOOR_KWARGS_DOC
    )


class FlooredMultiInputActorCriticPolicy(FlooredPolicyMixin, MultiInputActorCriticPolicy):
    __doc__ = "SB3 ``MultiInputActorCriticPolicy`` (Dict observations) with a floored action distribution.\n" + (
        _FLOOR_KWARGS_DOC
    )


__all__ = [
    "SUPPORTED_ACTION_SPACES",
    "FlooredActorCriticCnnPolicy",
    "FlooredActorCriticPolicy",
    "FlooredMultiInputActorCriticPolicy",
    "FlooredPolicyMixin",
]

_MASKABLE = {
    "FlooredMaskableActorCriticPolicy",
    "FlooredMaskableActorCriticCnnPolicy",
    "FlooredMaskableMultiInputActorCriticPolicy",
}


def __getattr__(name: str) -> Any:
    """Import the maskable policies on first use: they need the optional sb3-contrib."""
    if name in _MASKABLE:
        from rlfloor import maskable

        return getattr(maskable, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
