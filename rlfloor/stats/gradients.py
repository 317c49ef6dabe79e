"""Gradient coherence: do the per-sample policy gradients point the same way or cancel?"""

from __future__ import annotations

import math

import torch as th


def gradient_coherence(per_sample_grads: list[th.Tensor]) -> tuple[float, float]:
    """Coherence of per-sample gradients: ``||mean_i g_i|| / mean_i ||g_i||`` and ``mean_i ||g_i||``.

    :param per_sample_grads: one tensor per parameter, each with the sample index first.
    :return: ``(coherence, mean per-sample norm)``; coherence is 1 when all gradients point the
        same way, near 0 when large gradients cancel, and NaN when every gradient is zero.
    """
    n = int(per_sample_grads[0].shape[0])
    flat = th.cat([g.reshape(n, -1).to(th.float64) for g in per_sample_grads], dim=1)
    mean_norm = float(flat.norm(dim=1).mean())
    if mean_norm == 0.0:
        return math.nan, 0.0
    return min(float(flat.mean(dim=0).norm()) / mean_norm, 1.0), mean_norm


__all__ = ["gradient_coherence"]
