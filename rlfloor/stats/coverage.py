"""Counting visited states: bounded memory, with the visitation entropy kept up to date."""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from rlfloor.checks import check_int


class StateVisitCounter:
    """Bounded-memory counts of visited states, with the visitation entropy kept up to date.

    States are rows of an array; each distinct row is stored as a 64-bit hash of its bytes
    (so memory does not grow with the observation size). Once ``max_states`` distinct states
    are stored, new states are no longer counted (``saturated`` turns true) while visits to
    stored ones still are; the entropy is then that of the stored states' counts. (Within one
    :meth:`update`, new states are admitted in the order of their byte keys, not of arrival.)

    :param max_states: most distinct states stored (``>= 1``).
    """

    def __init__(self, max_states: int = 100_000):
        self.max_states = check_int("max_states", max_states, 1)
        self.counts: dict[int, int] = {}
        self.visits = 0
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

    def update(self, states: np.ndarray) -> None:
        """Count one visit per row of ``states`` (shape ``(n, ...)``; any numeric dtype)."""
        rows = np.asarray(states)
        if rows.ndim == 0 or len(rows) == 0:
            return
        rows = rows.reshape(len(rows), -1)
        if rows.dtype.kind == "f":
            rows = rows + 0.0  # -0.0 and 0.0 are the same state
        rows = np.ascontiguousarray(rows)
        keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        unique, counts = np.unique(keys, return_counts=True)
        for row, count in zip(unique, counts.tolist(), strict=True):
            key = hash(row.tobytes())
            old = self.counts.get(key)
            if old is None:
                if len(self.counts) >= self.max_states:
                    self.saturated = True
                    continue
                old = 0
            new = old + count
            self.counts[key] = new
            self.visits += count
            self._sum_c_log_c += new * math.log(new) - (old * math.log(old) if old else 0.0)


def n_observation_states(space: spaces.Space) -> int | None:
    """Number of distinct observations of a finite space (Discrete, MultiDiscrete, MultiBinary), else None."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(np.prod(space.nvec.astype(object)))
    if isinstance(space, spaces.MultiBinary):
        return int(2 ** int(np.prod(space.shape)))
    return None


__all__ = ["StateVisitCounter", "n_observation_states"]
