"""Floored distributions for sb3-contrib's ``MaskablePPO``.

With an action mask, the floor is shared by the *valid* actions of each state only:
invalid actions get probability exactly 0, each valid action at least ``min_prob``,
and the entropy sums over valid actions. A state with no valid action is an error.
The log-probabilities come from :func:`rlfloor.distributions.floored_logits`, the same
function as the unmasked distributions use.
"""

from __future__ import annotations

from typing import TypeVar

import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.distributions import (
    MaskableCategorical,
    MaskableCategoricalDistribution,
    MaskableDistribution,
    MaskableMultiCategoricalDistribution,
    MaybeMasks,
)
from torch.distributions import Categorical

from rlfloor.distributions import MinProbMixin, action_space_sizes, floored_logits

SelfFlooredMaskableCategorical = TypeVar(
    "SelfFlooredMaskableCategorical", bound="FlooredMaskableCategoricalDistribution"
)
SelfFlooredMaskableMultiCategorical = TypeVar(
    "SelfFlooredMaskableMultiCategorical", bound="FlooredMaskableMultiCategoricalDistribution"
)


class FlooredMaskableCategorical(MaskableCategorical):
    """sb3-contrib's ``MaskableCategorical`` with the floor applied over valid actions.

    :param logits: unnormalized logits, shape ``(batch, K)``.
    :param min_prob: the floor for each valid action.
    :param masks: optional boolean mask (``True`` = valid), broadcastable to ``logits``.
    :param validate_args: passed to torch's ``Categorical``.
    """

    def __init__(
        self,
        logits: th.Tensor,
        min_prob: float = 0.0,
        masks: MaybeMasks = None,
        validate_args: bool | None = None,
    ):
        self.min_prob = min_prob
        super().__init__(logits=logits, validate_args=validate_args, masks=masks)

    def apply_masking(self, masks: MaybeMasks) -> None:
        """Recompute the floored probabilities for a new mask (``None`` removes the mask)."""
        logits = self._original_logits
        if masks is None:
            self.masks = None
        else:
            self.masks = th.as_tensor(masks, dtype=th.bool, device=logits.device).reshape(logits.shape)
            empty = ~self.masks.any(dim=-1)
            if bool(empty.any()):
                rows = th.nonzero(empty).flatten().tolist()
                raise ValueError(
                    f"action mask has no valid action in batch rows {rows[:10]}: "
                    "every state needs at least one valid action"
                )
        # Reinitialise the underlying Categorical; the cached probs belong to the old mask.
        self.__dict__.pop("probs", None)
        Categorical.__init__(
            self,
            logits=floored_logits(logits, self.min_prob, self.masks),
            validate_args=self._validate_args,
        )

    def entropy(self) -> th.Tensor:
        """Exact entropy over valid actions (invalid ones have probability 0 and add nothing)."""
        # Categorical.entropy clamps -inf log-probabilities, so 0 * log 0 contributes 0
        # with a finite gradient, unlike the masked product in MaskableCategorical.
        return Categorical.entropy(self)


class FlooredMaskableCategoricalDistribution(MinProbMixin, MaskableCategoricalDistribution):
    """Masked categorical for ``Discrete`` actions with a floor over the valid actions.

    :param action_dim: number of actions ``K``.
    :param min_prob: floor in ``[0, 1/K)``; with fewer valid actions the bound still holds.
    """

    def __init__(self, action_dim: int, min_prob: float = 0.0):
        super().__init__(action_dim)
        self.min_prob = min_prob

    def _subspace_sizes(self) -> list[int]:
        return [int(self.action_dim)]

    def proba_distribution(
        self: SelfFlooredMaskableCategorical, action_logits: th.Tensor
    ) -> SelfFlooredMaskableCategorical:
        logits = action_logits.view(-1, self.action_dim)
        self.distribution = FlooredMaskableCategorical(logits=logits, min_prob=self._min_prob)
        return self


class FlooredMaskableMultiCategoricalDistribution(MinProbMixin, MaskableMultiCategoricalDistribution):
    """Masked ``MultiDiscrete`` counterpart: a floored masked categorical per sub-space.

    :param action_dims: number of actions in each sub-space.
    :param min_prob: floor in every sub-space, below ``1 / max(action_dims)``.
    """

    def __init__(self, action_dims: list[int], min_prob: float = 0.0):
        super().__init__(action_dims)
        self.min_prob = min_prob

    def _subspace_sizes(self) -> list[int]:
        return [int(k) for k in self.action_dims]

    def proba_distribution(
        self: SelfFlooredMaskableMultiCategorical, action_logits: th.Tensor
    ) -> SelfFlooredMaskableMultiCategorical:
        logits = action_logits.view(-1, sum(self.action_dims))
        self.distributions = [
            FlooredMaskableCategorical(logits=z, min_prob=self._min_prob)
            for z in th.split(logits, list(self.action_dims), dim=1)
        ]
        return self


def make_floored_masked_proba_distribution(action_space: spaces.Space, min_prob: float) -> MaskableDistribution:
    """The floored masked distribution for a ``Discrete`` or ``MultiDiscrete`` action space."""
    sizes = action_space_sizes(action_space)
    if isinstance(action_space, spaces.Discrete):
        return FlooredMaskableCategoricalDistribution(sizes[0], min_prob=min_prob)
    return FlooredMaskableMultiCategoricalDistribution(sizes, min_prob=min_prob)


__all__ = [
    "FlooredMaskableCategorical",
    "FlooredMaskableCategoricalDistribution",
    "FlooredMaskableMultiCategoricalDistribution",
    "make_floored_masked_proba_distribution",
]
