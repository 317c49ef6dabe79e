"""Count-based novelty: exact visit counts and SimHash pseudo-counts.

The bonus of a state is ``1 / sqrt(N(s))`` (Strehl & Littman 2008; Tang et al. 2017,
"#Exploration: A Study of Count-Based Exploration for Deep Reinforcement Learning"); the
callback multiplies it by its coefficient ``beta``. Counts are updated with a whole batch
first and the bonus is then read from the updated table, as in Tang et al. (Algorithm 1), so
a state seen for the first time in this batch gets ``1 / sqrt(times seen in the batch)``.

Memory is bounded and stated:

* exact counts (:func:`exact_counter`) use the package's one state counter,
  :class:`rlfloor.stats.coverage.StateVisitCounter`: each observation keyed by a 64-bit BLAKE2b digest
  of its values (exact up to a collision probability below ``n**2 / 2**65`` for ``n`` distinct states),
  at most ``max_states`` keys (default ``2**18``, about 25 MB as a Python dict). A state first seen
  once the table is full is not stored and counts as seen once (bonus 1); a warning says so.
* :class:`SimHashCounter` hashes ``sign(A g(s))`` with a fixed Gaussian ``A`` of shape
  ``(k, D)`` into ``2**k`` buckets held in one ``int64`` array (``8 * 2**k`` bytes:
  512 KB for the default ``k=16``; ``k`` is at most 24, 128 MB).
"""

from __future__ import annotations

import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3.common.preprocessing import preprocess_obs

from rlfloor.checks import check_int
from rlfloor.stats.coverage import StateVisitCounter, n_observation_states

MAX_EXACT_DIM = 4096
"""Largest flattened observation (number of values) that exact counts accept."""


def _integer_box(space: spaces.Box) -> bool:
    low, high = space.low, space.high
    return bool(
        np.isfinite(low).all()
        and np.isfinite(high).all()
        and (low == np.round(low)).all()
        and (high == np.round(high)).all()
    )


def check_exact_space(space: spaces.Space) -> None:
    """Raise ``ValueError`` unless exact counts can key this observation space.

    Accepted: ``Discrete``, ``MultiDiscrete``, ``MultiBinary``, and ``Box`` spaces with finite integer
    bounds (one-hot vectors, small integer grids, uint8 images) of at most :data:`MAX_EXACT_DIM` values.
    """
    if isinstance(space, spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
        return
    if isinstance(space, spaces.Box):
        size = int(np.prod(space.shape))
        if not _integer_box(space):
            raise ValueError(
                f"observation space {space} is continuous (non-integer or infinite bounds): exact counts cannot "
                "key it; use method='simhash' (pseudo-counts) or method='rnd'"
            )
        if size > MAX_EXACT_DIM:
            raise ValueError(
                f"observation space {space} has {size} values, more than exact counts accept ({MAX_EXACT_DIM}); "
                "use method='simhash' or method='rnd'"
            )
        return
    raise ValueError(
        f"observation space {type(space).__name__} is not supported by count bonuses; "
        "allowed: Discrete, MultiDiscrete, MultiBinary, Box"
    )


def check_integer_values(obs: NDArray[np.generic]) -> None:
    """Raise ``ValueError`` unless every value of ``obs`` is an integer (exact counts key integer-valued states)."""
    values = np.asarray(obs)
    if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
        return
    if not np.array_equal(values, np.round(values)):
        raise ValueError(
            "exact counts got non-integer observation values; use method='simhash' or method='rnd' "
            "for continuous observations"
        )


def exact_counter(
    observation_space: spaces.Space, max_states: int = 2**18, n_states: int | None = None
) -> StateVisitCounter:
    """The lifelong count table of an observation space: the package's one state counter
    (:class:`rlfloor.stats.coverage.StateVisitCounter`), warning once when it fills up.

    :param observation_space: the environment's observation space (see :func:`check_exact_space`).
    :param max_states: the table's capacity (number of distinct states stored).
    :param n_states: number of reachable states, for ``coverage()`` (default: the size of the space when
        :func:`rlfloor.stats.coverage.n_observation_states` knows it; a float one-hot ``Box`` needs it given,
        e.g. ``N * N + 1`` for DeepSea).
    """
    check_exact_space(observation_space)
    size = n_observation_states(observation_space) if n_states is None else check_int("n_states", n_states, 1)
    return StateVisitCounter(max_states, n_states=size, warn_when_full=True)


class SimHashCounter:
    """SimHash pseudo-counts (Tang et al. 2017): ``phi(s) = sign(A g(s))`` into ``2**k`` buckets.

    ``g`` is SB3's preprocessing (one-hot for discrete, ``/255`` for uint8 images) followed by
    flattening; ``A`` has i.i.d. standard normal entries drawn once from ``seed``.

    :param observation_space: a ``Box``, ``Discrete``, ``MultiDiscrete`` or ``MultiBinary`` space.
    :param bits: ``k``, the code length; the table has ``2**k`` counters.
    :param seed: seed of the projection (fixed for the run, saved with the model).
    """

    def __init__(self, observation_space: spaces.Space, bits: int = 16, seed: int = 0) -> None:
        if not isinstance(observation_space, spaces.Box | spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
            raise ValueError(
                f"observation space {type(observation_space).__name__} is not supported by SimHash; "
                "allowed: Box, Discrete, MultiDiscrete, MultiBinary"
            )
        self.bits = check_int("bits", bits, 1, 24)
        self.observation_space = observation_space
        dim = int(np.prod(self._features(observation_space.sample()[None]).shape[1:]))
        rng = np.random.default_rng(check_int("seed", seed, 0))
        self.projection = rng.standard_normal((dim, self.bits)).astype(np.float32)
        self.table = np.zeros(2**self.bits, dtype=np.int64)
        self._powers = (2 ** np.arange(self.bits, dtype=np.int64)).astype(np.int64)

    def _features(self, obs: NDArray[np.generic]) -> NDArray[np.float32]:
        tensor = preprocess_obs(th.as_tensor(np.asarray(obs)), self.observation_space)
        assert isinstance(tensor, th.Tensor)
        return tensor.reshape(len(obs), -1).numpy().astype(np.float32, copy=False)

    def codes(self, obs: NDArray[np.generic]) -> NDArray[np.int64]:
        """The bucket index in ``[0, 2**k)`` of each observation (``obs`` has a leading batch dimension)."""
        bits = (self._features(obs) @ self.projection) > 0
        return bits.astype(np.int64) @ self._powers

    def update(self, obs: NDArray[np.generic]) -> NDArray[np.float64]:
        """Count a batch of observations; return each one's pseudo-count after the update."""
        codes = self.codes(obs)
        np.add.at(self.table, codes, 1)
        return self.table[codes].astype(np.float64)

    @property
    def distinct(self) -> int:
        """Number of non-empty buckets."""
        return int(np.count_nonzero(self.table))


__all__ = ["MAX_EXACT_DIM", "SimHashCounter", "check_exact_space", "check_integer_values", "exact_counter"]
