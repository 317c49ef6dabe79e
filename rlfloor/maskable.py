"""Old import path of the masked distributions and policies, kept so that existing code and
saved models (which name ``rlfloor.maskable.FlooredMaskableActorCriticPolicy``) keep working.

They now live in :mod:`rlfloor.contrib.distributions` and :mod:`rlfloor.contrib.policies`.
"""

from __future__ import annotations

from rlfloor.contrib.distributions import (
    FlooredMaskableCategorical,
    FlooredMaskableCategoricalDistribution,
    FlooredMaskableMultiCategoricalDistribution,
    make_floored_masked_proba_distribution,
)
from rlfloor.contrib.policies import (
    FlooredMaskableActorCriticCnnPolicy,
    FlooredMaskableActorCriticPolicy,
    FlooredMaskableMultiInputActorCriticPolicy,
    FlooredMaskablePolicyMixin,
)

__all__ = [
    "FlooredMaskableActorCriticCnnPolicy",
    "FlooredMaskableActorCriticPolicy",
    "FlooredMaskableCategorical",
    "FlooredMaskableCategoricalDistribution",
    "FlooredMaskableMultiCategoricalDistribution",
    "FlooredMaskableMultiInputActorCriticPolicy",
    "FlooredMaskablePolicyMixin",
    "make_floored_masked_proba_distribution",
]
