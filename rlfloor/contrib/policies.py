"""Floored policies for sb3-contrib's ``MaskablePPO``: the floor over each state's valid actions.

Use them as ``MaskablePPO(FlooredMaskableActorCriticPolicy, env, policy_kwargs={"min_prob": 0.02})``.
"""

from __future__ import annotations

from gymnasium import spaces
from sb3_contrib.common.maskable.distributions import MaskableDistribution
from sb3_contrib.common.maskable.policies import (
    MaskableActorCriticCnnPolicy,
    MaskableActorCriticPolicy,
    MaskableMultiInputActorCriticPolicy,
)

from rlfloor.contrib.distributions import make_floored_masked_proba_distribution
from rlfloor.policy_base import FlooredPolicyMixin
from rlfloor.settings import FLOOR_KWARGS_DOC


class FlooredMaskablePolicyMixin(FlooredPolicyMixin):
    """The floored mixin adapted to sb3-contrib's maskable policies (discrete actions only)."""

    supported_action_spaces = (spaces.Discrete, spaces.MultiDiscrete)

    def _make_action_dist(self, floor: float) -> MaskableDistribution:
        return make_floored_masked_proba_distribution(self.action_space, floor)


class FlooredMaskableActorCriticPolicy(FlooredMaskablePolicyMixin, MaskableActorCriticPolicy):
    __doc__ = "sb3-contrib ``MaskableActorCriticPolicy`` (MaskablePPO) with a floor over valid actions.\n" + (
        FLOOR_KWARGS_DOC
    )


class FlooredMaskableActorCriticCnnPolicy(FlooredMaskablePolicyMixin, MaskableActorCriticCnnPolicy):
    __doc__ = "Image-observation variant of :class:`FlooredMaskableActorCriticPolicy`.\n" + FLOOR_KWARGS_DOC


class FlooredMaskableMultiInputActorCriticPolicy(FlooredMaskablePolicyMixin, MaskableMultiInputActorCriticPolicy):
    __doc__ = "Dict-observation variant of :class:`FlooredMaskableActorCriticPolicy`.\n" + FLOOR_KWARGS_DOC


#: The floored class for each stock maskable policy class (used by ``rlfloor.policies.floored_from_stock``).
stock_to_floored_maskable: dict[type, type] = {
    MaskableActorCriticCnnPolicy: FlooredMaskableActorCriticCnnPolicy,
    MaskableMultiInputActorCriticPolicy: FlooredMaskableMultiInputActorCriticPolicy,
    MaskableActorCriticPolicy: FlooredMaskableActorCriticPolicy,
}

__all__ = [
    "FlooredMaskableActorCriticCnnPolicy",
    "FlooredMaskableActorCriticPolicy",
    "FlooredMaskableMultiInputActorCriticPolicy",
    "FlooredMaskablePolicyMixin",
    "stock_to_floored_maskable",
]
