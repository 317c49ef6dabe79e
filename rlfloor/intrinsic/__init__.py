"""Intrinsic-reward exploration that enters SB3's rewards before GAE: lifelong novelty (exact counts, SimHash,
RND) for one fixed world, episodic novelty (episodic counts, NovelD, E3B) for procedurally generated worlds.
See :mod:`rlfloor.intrinsic.callback` for how, and the docs for the metrics."""

from rlfloor.intrinsic.callback import (
    EPISODIC_METHODS,
    METHODS,
    IntrinsicCritic,
    IntrinsicRewardCallback,
    IntrinsicState,
    check_observation_space,
    make_novelty,
)
from rlfloor.intrinsic.counts import SimHashCounter, check_exact_space, exact_counter
from rlfloor.intrinsic.episodic import E3B, EpisodicCounts, NovelD, Rollout, sherman_morrison
from rlfloor.intrinsic.rnd import RND, check_rnd_space, embedding_network

__all__ = [
    "E3B",
    "EPISODIC_METHODS",
    "METHODS",
    "RND",
    "EpisodicCounts",
    "IntrinsicCritic",
    "IntrinsicRewardCallback",
    "IntrinsicState",
    "NovelD",
    "Rollout",
    "SimHashCounter",
    "check_exact_space",
    "check_observation_space",
    "check_rnd_space",
    "embedding_network",
    "exact_counter",
    "make_novelty",
    "sherman_morrison",
]
