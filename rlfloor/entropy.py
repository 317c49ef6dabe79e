"""Deprecated location of the entropy-control callbacks; kept so that old imports keep working.

They live in :mod:`rlfloor.callbacks.entropy` (and are exported by :mod:`rlfloor.callbacks`).
"""

from __future__ import annotations

from rlfloor.callbacks.entropy import (
    AdaptiveEntropyCallback,
    EntropyScheduleCallback,
    floor_entropy_fraction,
    max_entropy,
)

__all__ = ["AdaptiveEntropyCallback", "EntropyScheduleCallback", "floor_entropy_fraction", "max_entropy"]
