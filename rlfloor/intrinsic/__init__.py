"""Intrinsic-reward exploration: count-based (exact and SimHash) and RND bonuses that enter SB3's
rewards before GAE. See :mod:`rlfloor.intrinsic.callback` for how, and the README for the metrics."""

from rlfloor.intrinsic.callback import (
    METHODS,
    IntrinsicCritic,
    IntrinsicRewardCallback,
    IntrinsicState,
    check_observation_space,
    make_novelty,
)
from rlfloor.intrinsic.counts import ExactCounter, SimHashCounter, check_exact_space, exact_state_count
from rlfloor.intrinsic.rnd import RND, check_rnd_space

__all__ = [
    "METHODS",
    "RND",
    "ExactCounter",
    "IntrinsicCritic",
    "IntrinsicRewardCallback",
    "IntrinsicState",
    "SimHashCounter",
    "check_exact_space",
    "check_observation_space",
    "check_rnd_space",
    "exact_state_count",
    "make_novelty",
]
