"""Actor-critic policies whose action distribution keeps a floor.

Use them wherever SB3 takes a policy class::

    from stable_baselines3 import PPO
    from rlfloor.policies import FlooredActorCriticPolicy

    model = PPO(FlooredActorCriticPolicy, env, policy_kwargs={"min_prob": 0.02})

``Discrete``, ``MultiDiscrete`` and ``MultiBinary`` actions get a probability floor
(``min_prob``, or equivalently the mixing weight ``uniform_mix = K * min_prob``), ``Box``
actions a standard-deviation floor (``min_std``). The logit transforms of
:mod:`rlfloor.logits` (temperature, straight-through clipping, range penalty, centering) are
options of the same policies. With every option at its default the policy behaves exactly
like SB3's.

A floor given as a schedule (for example ``LinearSchedule(0.05, 0.0)``) follows
training progress when :class:`rlfloor.callbacks.FloorScheduleCallback` is passed to
``learn()``. The floor in force is a buffer of the policy, so ``model.save()`` keeps it.

:func:`floored_from_stock` turns a trained stock model (``"MlpPolicy"`` and friends) into a
floored one in place, keeping its weights and optimizer state; :func:`stock_from_floored` does the reverse, for
a model that must load where rlfloor is not installed.

The maskable policies (for sb3-contrib's ``MaskablePPO``) live in
:mod:`rlfloor.contrib.policies` and are re-exported here when sb3-contrib is installed.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, TypeVar

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    MultiInputActorCriticPolicy,
)

from rlfloor.distributions import SUPPORTED_ACTION_SPACES
from rlfloor.policy_base import FlooredPolicyMixin
from rlfloor.settings import FLOOR_KWARGS, FLOOR_KWARGS_DOC

# sb3-contrib is optional. Its policies import rlfloor.policy_base, never this module, so
# importing them here makes no cycle (and costs ~10 ms once sb3-contrib is installed).
if find_spec("sb3_contrib") is not None:
    from rlfloor.contrib.policies import (
        FlooredMaskableActorCriticCnnPolicy,
        FlooredMaskableActorCriticPolicy,
        FlooredMaskableMultiInputActorCriticPolicy,
        stock_to_floored_maskable,
    )
else:  # pragma: no cover - exercised only without sb3-contrib
    stock_to_floored_maskable = {}

SelfAlgorithm = TypeVar("SelfAlgorithm", bound=BaseAlgorithm)


class FlooredActorCriticPolicy(FlooredPolicyMixin, ActorCriticPolicy):
    __doc__ = "SB3 ``ActorCriticPolicy`` (PPO, A2C) with a floored action distribution.\n" + FLOOR_KWARGS_DOC


class FlooredActorCriticCnnPolicy(FlooredPolicyMixin, ActorCriticCnnPolicy):
    __doc__ = "SB3 ``ActorCriticCnnPolicy`` (image observations) with a floored action distribution.\n" + (
        FLOOR_KWARGS_DOC
    )


class FlooredMultiInputActorCriticPolicy(FlooredPolicyMixin, MultiInputActorCriticPolicy):
    __doc__ = "SB3 ``MultiInputActorCriticPolicy`` (Dict observations) with a floored action distribution.\n" + (
        FLOOR_KWARGS_DOC
    )


#: The floored class that replaces each stock SB3 policy class in :func:`floored_from_stock`.
STOCK_TO_FLOORED: dict[type, type] = {
    ActorCriticCnnPolicy: FlooredActorCriticCnnPolicy,
    MultiInputActorCriticPolicy: FlooredMultiInputActorCriticPolicy,
    ActorCriticPolicy: FlooredActorCriticPolicy,
    **stock_to_floored_maskable,
}


def floored_from_stock(model: SelfAlgorithm, **floor_kwargs: Any) -> SelfAlgorithm:
    """Give a stock SB3 model (PPO, A2C, MaskablePPO) a floored policy, in place, and return it.

    The new policy is the floored counterpart of the model's policy class (for example
    ``MlpPolicy`` -> :class:`FlooredActorCriticPolicy`) built with the model's own
    ``policy_kwargs``; it takes the stock policy's weights and optimizer state, so the
    greedy actions are unchanged (the floor keeps the argmax, ``min_std`` keeps the mean) and
    training continues where it stopped. ``model.save()`` then writes a floored model.
    Observation normalization lives in the env wrapper (``VecNormalize``), not in the model:
    keep using the same wrapper, or ``VecNormalize.load`` the saved statistics as usual.

    Example::

        model = PPO.load("collapsed.zip", env=env)
        floored_from_stock(model, min_prob=0.02)
        model.learn(100_000, reset_num_timesteps=False)

    :param model: a model whose policy is a stock actor-critic policy.
    :param floor_kwargs: the floor settings, any of :data:`rlfloor.settings.FLOOR_KWARGS`.
    :return: ``model``, now with the floored policy.
    :raises ValueError: for an already-floored or unknown policy class, an unknown keyword, or a
        bad floor (before the model is changed).
    """
    stock = model.policy
    unknown = sorted(set(floor_kwargs) - set(FLOOR_KWARGS))
    if unknown:
        raise ValueError(f"unknown floor settings {unknown}: floored_from_stock accepts {', '.join(FLOOR_KWARGS)}")
    if isinstance(stock, FlooredPolicyMixin):
        raise ValueError(
            f"the model's policy is already floored ({type(stock).__name__}): change its floor with set_floor()"
        )
    floored_class = next((STOCK_TO_FLOORED[cls] for cls in type(stock).__mro__ if cls in STOCK_TO_FLOORED), None)
    if floored_class is None:
        raise ValueError(
            f"no floored counterpart for {type(stock).__name__}: floored_from_stock supports "
            f"{', '.join(sorted(cls.__name__ for cls in STOCK_TO_FLOORED))}"
        )
    policy_kwargs = {**model.policy_kwargs, **floor_kwargs}
    return _swap_policy(model, floored_class, policy_kwargs)


def stock_from_floored(model: SelfAlgorithm) -> SelfAlgorithm:
    """Give a floored model (PPO, A2C, MaskablePPO) SB3's stock policy, in place, and return it.

    The reverse of :func:`floored_from_stock`: the stock counterpart of the policy class (for example
    :class:`FlooredActorCriticPolicy` -> ``ActorCriticPolicy``) built with the model's ``policy_kwargs`` minus the
    floor settings takes the weights and the optimizer state. The policy then samples from the network's own
    logits (or Gaussian): the floor and every logit transform (temperature, clipping, centering) are gone, so
    greedy actions stay unless a temperature or clip changed the argmax. ``model.save()`` then writes a model
    that plain SB3 loads without rlfloor installed.

    A floored zip's weights go into an existing stock model without this, through SB3 alone:
    ``stock.set_parameters("floored.zip", exact_match=False)`` (the only extra weight is the ``floor_in_force``
    buffer; SB3's default ``exact_match=True`` ends in torch's ``Unexpected key(s)`` error).

    :param model: a model whose policy is a floored actor-critic policy.
    :return: ``model``, now with the stock policy.
    :raises ValueError: for a policy that is not floored (before the model is changed).
    """
    floored = model.policy
    floored_to_stock = {floored_class: stock for stock, floored_class in STOCK_TO_FLOORED.items()}
    stock_class = next((floored_to_stock[cls] for cls in type(floored).__mro__ if cls in floored_to_stock), None)
    if stock_class is None:
        raise ValueError(
            f"the model's policy {type(floored).__name__} is not one of rlfloor's floored classes "
            f"({', '.join(sorted(cls.__name__ for cls in STOCK_TO_FLOORED.values()))}): nothing to convert"
        )
    policy_kwargs = {k: v for k, v in model.policy_kwargs.items() if k not in FLOOR_KWARGS}
    return _swap_policy(model, stock_class, policy_kwargs)


def _swap_policy(model: SelfAlgorithm, cls: type, policy_kwargs: dict[str, Any]) -> Any:
    """Replace ``model.policy`` with a ``cls`` built from ``policy_kwargs`` that takes the old policy's weights and
    optimizer state; the ``floor_in_force`` buffer is the new policy's own if it is floored, else dropped."""
    old = model.policy
    sde = {"use_sde": True} if getattr(model, "use_sde", False) else {}
    policy = cls(model.observation_space, model.action_space, model.lr_schedule, **sde, **policy_kwargs)
    policy = policy.to(old.device)
    state = {key: value for key, value in old.state_dict().items() if key != "floor_in_force"}
    if isinstance(policy, FlooredPolicyMixin):
        state["floor_in_force"] = policy.floor_in_force
    policy.load_state_dict(state)
    policy.optimizer.load_state_dict(old.optimizer.state_dict())
    policy.train(old.training)
    model.policy, model.policy_class, model.policy_kwargs = policy, cls, policy_kwargs
    return model


__all__ = [
    "STOCK_TO_FLOORED",
    "SUPPORTED_ACTION_SPACES",
    "FlooredActorCriticCnnPolicy",
    "FlooredActorCriticPolicy",
    "FlooredMultiInputActorCriticPolicy",
    "FlooredPolicyMixin",
    "floored_from_stock",
    "stock_from_floored",
]
if stock_to_floored_maskable:
    __all__ += [
        "FlooredMaskableActorCriticCnnPolicy",
        "FlooredMaskableActorCriticPolicy",
        "FlooredMaskableMultiInputActorCriticPolicy",
    ]
