"""The floor machinery shared by every floored policy (SB3's and sb3-contrib's maskable ones).

:class:`FlooredPolicyMixin` is mixed in before an SB3 actor-critic policy class. The policy
classes themselves are in :mod:`rlfloor.policies` (PPO, A2C) and :mod:`rlfloor.contrib.policies`
(MaskablePPO); both import this module, and this module imports neither.

The floor can be given two ways, which are the same distribution:

* ``min_prob=m``: every valid action keeps at least ``m``;
* ``uniform_mix=g``: the policy is ``(1 - g) * softmax(z) + g * uniform``, Exp3's uniform
  mixing (``gamma``) and DreamerV3's "unimix" (``g = 0.01``); it is ``min_prob = g / K``
  with ``K`` the number of actions (the largest sub-space for MultiDiscrete, 2 for each bit of
  MultiBinary).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.type_aliases import Schedule

from rlfloor.checks import check_number
from rlfloor.distributions import (
    action_space_sizes,
    check_min_prob,
    check_min_std,
    make_floored_proba_distribution,
    multibinary_size,
)
from rlfloor.logits import LogitTransform
from rlfloor.schedules import ScheduleLike, as_schedule, schedule_bounds, schedule_values
from rlfloor.settings import FloorSettings, floor_parameters


@dataclass(frozen=True)
class MixingWeightSchedule:
    """A schedule of the mixing weight ``g``, read as ``min_prob = g(progress) / n_actions``.

    :param uniform_mix: a schedule of ``progress_remaining`` giving ``g`` in ``[0, 1)``.
    :param n_actions: the number of actions ``K`` the uniform part is spread over.
    """

    uniform_mix: Callable[[float], float]
    n_actions: int

    def __call__(self, progress_remaining: float) -> float:
        return check_number("uniform_mix", self.uniform_mix(progress_remaining), 0.0, 1.0, high_open=True) / (
            self.n_actions
        )


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
        spaces.MultiBinary,
        spaces.Box,
    )

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Schedule, **kwargs: Any
    ):
        # The floor settings (rlfloor.settings.FloorSettings, see __signature__ below) are taken out of
        # kwargs; the rest go to the next class in the MRO, the SB3 policy, which calls our _build().
        settings = FloorSettings.pop_from(kwargs)
        self._init_floor(action_space, settings)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)  # type: ignore[call-arg]

    def _init_floor(self, action_space: spaces.Space, settings: FloorSettings) -> None:
        """Validate the exploration settings; runs before the SB3 constructor builds anything."""
        if not isinstance(action_space, self.supported_action_spaces):
            names = ", ".join(cls.__name__ for cls in self.supported_action_spaces)
            raise ValueError(f"unsupported action space {action_space}: {type(self).__name__} supports {names}")
        self.floor_settings = settings
        min_prob, min_std, uniform_mix = settings.min_prob, settings.min_std, settings.uniform_mix
        if isinstance(action_space, spaces.Box):
            if callable(min_prob) or min_prob != 0.0 or uniform_mix is not None:
                name, value = ("min_prob", min_prob) if uniform_mix is None else ("uniform_mix", uniform_mix)
                raise ValueError(
                    f"{name}={value!r} applies to Discrete, MultiDiscrete and MultiBinary actions; "
                    f"for {action_space} use min_std (the Gaussian standard-deviation floor)"
                )
            if not settings.logits_as_is:
                raise ValueError(f"logit options {settings.logit_options()} need discrete actions, got {action_space}")
            self.floor_name, floor = "min_std", min_std
            self._action_dims: list[int] = []
            self._n_actions: int | None = None
        else:
            if callable(min_std) or min_std != 0.0:
                raise ValueError(f"min_std={min_std!r} applies to Box actions; for {action_space} use min_prob")
            if isinstance(action_space, spaces.MultiBinary):
                if not settings.logits_as_is:
                    raise ValueError(
                        f"logit options {settings.logit_options()} need Discrete or MultiDiscrete actions, "
                        f"got {action_space}"
                    )
                self._action_dims = [1] * multibinary_size(action_space)  # one logit per bit
                self._n_actions = 2
            else:
                self._action_dims = action_space_sizes(action_space)
                self._n_actions = max(self._action_dims)
            self.floor_name, floor = "min_prob", min_prob
            if uniform_mix is not None:
                floor = self._floor_from_mixing_weight(min_prob, uniform_mix)
        if not callable(floor):
            self._check_floor(floor)
        self.floor_schedule = as_schedule(floor)
        bounds = schedule_bounds(self.floor_schedule)
        for value in schedule_values(self.floor_schedule):  # over the whole run, before training
            self._check_floor(value)
        self._floor_scheduled = bounds is None or bounds[0] != bounds[1]  # a floor that can change
        self._floor_driven = False
        self._warned_undriven = False
        self.logit_transform = LogitTransform(settings, self._action_dims)
        self._logits_as_is = settings.logits_as_is  # hot path: skip the transform call

    def _floor_from_mixing_weight(self, min_prob: ScheduleLike, uniform_mix: ScheduleLike) -> ScheduleLike:
        """``min_prob = uniform_mix / K``, for a number or a schedule; ``min_prob`` must be left at 0."""
        if callable(min_prob) or min_prob != 0.0:
            raise ValueError(
                f"min_prob={min_prob!r} and uniform_mix={uniform_mix!r} are two ways to give the same floor: "
                "pass one of them"
            )
        k = int(self._n_actions or 1)
        if callable(uniform_mix):
            return MixingWeightSchedule(uniform_mix, k)
        return check_number("uniform_mix", uniform_mix, 0.0, 1.0, high_open=True) / k

    def _check_floor(self, value: float) -> float:
        """Validate a floor value for this policy's action space; returns it as a float."""
        if self.floor_name == "min_std":
            return check_min_std(value)
        return check_min_prob(value, int(self._n_actions or 1))

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
    def n_actions(self) -> int | None:
        """``K``, the number of actions the probability floor is shared by (the largest sub-space for
        MultiDiscrete, 2 for each bit of MultiBinary); ``None`` for Box actions."""
        return self._n_actions

    @property
    def max_floor(self) -> float:
        """The exclusive upper bound of the floor: ``1/K`` for ``min_prob`` (every valid floor is below
        it), ``inf`` for ``min_std``."""
        return float("inf") if self._n_actions is None else 1.0 / self._n_actions

    @property
    def uniform_mix(self) -> float:
        """The floor in force as a mixing weight, ``K * min_prob`` (0 for Box actions)."""
        return 0.0 if self._n_actions is None else self._n_actions * self.min_prob

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

    def head_logits(self, obs: th.Tensor) -> th.Tensor:
        """The policy head's raw logits for a batch of observations (before any logit transform and the floor)."""
        features = self.extract_features(obs, self.pi_features_extractor)  # type: ignore[attr-defined]
        latent_pi = self.mlp_extractor.forward_actor(features)  # type: ignore[attr-defined]
        return self.action_net(latent_pi)  # type: ignore[attr-defined]

    @th.no_grad()
    def scale_head(self, factors: list[float]) -> None:
        """Multiply the policy head's weights and bias by one factor per categorical sub-space.

        The head is linear, so this multiplies that sub-space's logits by its factor in every state:
        the gap between any two of its actions' logits shrinks by the same factor.
        """
        head = self.action_net  # type: ignore[attr-defined]
        sizes = action_space_sizes(self.action_space)
        if len(factors) != len(sizes):
            raise ValueError(f"got {len(factors)} factors for {len(sizes)} sub-spaces {sizes}")
        start = 0
        for size, factor in zip(sizes, factors, strict=True):
            head.weight[start : start + size] *= factor
            head.bias[start : start + size] *= factor
            start += size

    def pop_logit_penalty(self) -> float | None:
        """Mean logit-range penalty term (weighted) over the minibatches since the last call."""
        return self.logit_transform.pop_penalty()

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """``torch.nn.Module.load_state_dict``; a stock policy's weights (no ``floor_in_force``) are refused in one
        line pointing to :func:`rlfloor.policies.floored_from_stock`, which converts a stock model."""
        if strict and "floor_in_force" not in state_dict:
            raise ValueError(
                f"these weights are a stock policy's (no 'floor_in_force'), not a {type(self).__name__}'s: load the "
                "model with its stock policy, then convert it with rlfloor.policies.floored_from_stock(model, "
                "min_prob=...)"
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)  # type: ignore[misc]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data: dict[str, Any] = super()._get_constructor_parameters()  # type: ignore[misc]
        data.update(self.floor_settings.as_kwargs())
        return data


# The mixin's signature as inspect (and agents' preset checks) see it: SB3's three positional arguments, the
# floor settings as keywords with their defaults and types, then **kwargs for the SB3 policy.
_INIT = FlooredPolicyMixin.__init__
_INIT.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        *list(inspect.signature(_INIT).parameters.values())[:4],
        *floor_parameters(),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation=Any),
    ]
)
_INIT.__annotations__ = {**_INIT.__annotations__, **{p.name: p.annotation for p in floor_parameters()}}


def _sync_floor_after_load(module: Any, incompatible_keys: Any) -> None:
    """After ``load_state_dict``, hand the loaded floor to the distribution object."""
    if hasattr(module.action_dist, module.floor_name):
        setattr(module.action_dist, module.floor_name, float(module.floor_in_force))


__all__ = ["FlooredPolicyMixin", "MixingWeightSchedule"]
