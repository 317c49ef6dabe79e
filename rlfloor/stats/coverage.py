"""Counting visited states: the one state counter of the package, with bounded memory and the visitation entropy.

:class:`StateVisitCounter` serves the coverage metrics (:class:`rlfloor.callbacks.visits.VisitsCallback`), the
lifelong count bonus and the episodic count tables of :mod:`rlfloor.intrinsic`; :func:`n_observation_states` is
the one size function of an observation space.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from rlfloor.checks import check_int


def _unique_rows(states: NDArray[np.generic]) -> tuple[NDArray[Any], NDArray[np.intp], NDArray[np.intp]]:
    """Distinct rows of ``states`` (``-0.0`` taken as ``0.0``), the index of each row's distinct row, and counts."""
    rows = np.asarray(states)
    rows = rows.reshape(len(rows), -1)
    if rows.dtype.kind == "f":
        rows = rows + 0.0  # -0.0 and 0.0 are the same state
    rows = np.ascontiguousarray(rows)
    packed = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse, times = np.unique(packed, return_index=True, return_inverse=True, return_counts=True)
    return rows[first], inverse.reshape(-1), times


def _digests(rows: NDArray[Any]) -> list[int]:
    flat = np.ascontiguousarray(rows, dtype=np.float64) + 0.0
    return [int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little") for row in flat]


def state_keys(states: NDArray[np.generic]) -> list[int]:
    """One 64-bit key per row of ``states`` (shape ``(n, ...)``; any numeric dtype).

    The key is a BLAKE2b digest of the row's values as ``float64``: equal values give equal keys whatever the
    dtype (``0`` and ``-0.0`` too), and keys are the same in every process (unlike Python's salted ``hash``),
    so a table pickled with a model keeps its meaning. Distinct rows collide with probability below
    ``n**2 / 2**65`` for ``n`` distinct states. Each distinct row of the batch is hashed once.
    """
    rows = np.asarray(states)
    if rows.ndim == 0:
        raise ValueError(f"states must have a leading batch dimension, got a scalar {rows!r}")
    if len(rows) == 0:
        return []
    unique, inverse, _ = _unique_rows(rows)
    keys = _digests(unique)
    return [keys[i] for i in inverse.tolist()]


class StateVisitCounter:
    """Bounded-memory counts of visited states, with the visitation entropy kept up to date.

    States are rows of an array, each stored as a 64-bit key (:func:`state_keys`), so memory does not grow with
    the observation size. Once ``max_states`` distinct states are stored, new states are no longer stored
    (``saturated`` turns true, ``overflow`` counts their visits, and :meth:`update` reports them as seen once)
    while visits to stored ones still count; the entropy is then that of the stored states' counts. (Within one
    :meth:`update`, new states are admitted in the order of their keys, not of arrival.)

    :param max_states: most distinct states stored (``>= 1``).
    :param n_states: number of reachable states, for :meth:`coverage` (``None``: unknown).
    :param warn_when_full: warn once when the table fills up (the count bonus does; coverage metrics do not).
    """

    def __init__(self, max_states: int = 100_000, n_states: int | None = None, warn_when_full: bool = False):
        self.max_states = check_int("max_states", max_states, 1)
        self.n_states = None if n_states is None else check_int("n_states", n_states, 1)
        self.warn_when_full = bool(warn_when_full)
        self.counts: dict[int, int] = {}
        self.visits = 0
        """Visits of stored states."""
        self.overflow = 0
        """Visits of states that found the table full."""
        self.saturated = False
        self._sum_c_log_c = 0.0

    @property
    def distinct(self) -> int:
        """Number of distinct states counted."""
        return len(self.counts)

    def entropy(self) -> float:
        """Entropy (nats) of the empirical visitation distribution ``counts / visits``."""
        if self.visits == 0:
            return 0.0
        return max(math.log(self.visits) - self._sum_c_log_c / self.visits, 0.0)

    def coverage(self) -> float | None:
        """Fraction of the ``n_states`` reachable states seen, when that number is known and fits the table."""
        if self.n_states is None or self.n_states > self.max_states:
            return None
        return self.distinct / self.n_states

    def clear(self) -> None:
        """Forget every state (an episodic table at an episode start)."""
        self.counts.clear()
        self.visits = self.overflow = 0
        self.saturated = False
        self._sum_c_log_c = 0.0

    def add_key(self, key: int, times: int = 1) -> int:
        """Count ``times`` visits of the state with this key; return its count after them (1 if not stored)."""
        old = self.counts.get(key)
        if old is None:
            if len(self.counts) >= self.max_states:
                self._saturate()
                self.overflow += times
                return 1
            old = 0
        new = old + times
        self.counts[key] = new
        self.visits += times
        self._sum_c_log_c += new * math.log(new) - (old * math.log(old) if old else 0.0)
        return new

    def _saturate(self) -> None:
        if not self.saturated and self.warn_when_full:
            warnings.warn(
                f"state count table full ({self.max_states} states): new states now count as seen once; "
                "raise max_states or use method='simhash'",
                stacklevel=3,
            )
        self.saturated = True

    def update(self, states: NDArray[np.generic]) -> NDArray[np.float64]:
        """Count one visit per row of ``states`` (shape ``(n, ...)``); return each row's count after the batch."""
        rows = np.asarray(states)
        if rows.ndim == 0 or len(rows) == 0:
            return np.zeros(0)
        unique, inverse, times = _unique_rows(rows)
        keys = _digests(unique)
        for key, count in zip(keys, times.tolist(), strict=True):
            self.add_key(key, count)
        # A state that found the table full counts as seen once.
        after = np.array([self.counts.get(key, 1) for key in keys], dtype=np.float64)
        return after[inverse]


def n_observation_states(space: spaces.Space) -> int | None:
    """Number of distinct observations of a finite space, if known and at most ``2**62``; else ``None``.

    ``Discrete``, ``MultiDiscrete``, ``MultiBinary``, and ``Box`` spaces of an integer dtype with finite bounds.
    A float ``Box`` gets ``None`` even when it only ever holds one-hot vectors (its reachable states are not
    its grid of integer points): give the number of states explicitly there, e.g. ``N * N + 1`` for DeepSea.
    """
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        total = math.prod(int(n) for n in np.asarray(space.nvec).ravel())
    elif isinstance(space, spaces.MultiBinary):
        total = 2 ** int(np.prod(space.shape))
    elif isinstance(space, spaces.Box) and np.issubdtype(space.dtype, np.integer):
        low, high = space.low.ravel(), space.high.ravel()
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            return None
        total = 1
        for lo, hi in zip(low.tolist(), high.tolist(), strict=True):
            total *= int(hi) - int(lo) + 1
            if total > 2**62:
                return None
    else:
        return None
    return total if total <= 2**62 else None


__all__ = ["StateVisitCounter", "n_observation_states", "state_keys"]
