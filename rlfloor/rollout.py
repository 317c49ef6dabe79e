"""Read the policy's action distribution back on the states of the last rollout.

Entropy control and the exploration metrics both need the policy's probabilities on
the states it just visited. They are recomputed here from the rollout buffer in one
batched forward pass (no extra environment steps), for stock and floored policies,
with the rollout's action masks when the algorithm stored them (MaskablePPO).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.distributions import (
    CategoricalDistribution,
    Distribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.utils import obs_as_tensor


def progress_remaining(model: BaseAlgorithm) -> float:
    """SB3's training progress: 1 at the start of ``learn()``, 0 at the end."""
    total = getattr(model, "_total_timesteps", 0)
    if total <= 0:
        return 1.0
    return float(np.clip(1.0 - model.num_timesteps / total, 0.0, 1.0))


@dataclass
class RolloutPolicy:
    """The policy's categorical distributions on every state of the last rollout.

    :param log_probs: one ``(n_samples, K_i)`` tensor of log-probabilities per sub-space
        (a single one for Discrete); invalid actions hold ``-inf`` or a huge negative value.
    :param valid: matching boolean tensors, ``True`` where the action was valid.
    """

    log_probs: list[th.Tensor]
    valid: list[th.Tensor]

    @property
    def n_samples(self) -> int:
        """Number of (state, env) pairs in the rollout."""
        return int(self.log_probs[0].shape[0])

    def probs(self) -> list[th.Tensor]:
        """Probabilities per sub-space; exactly 0 on invalid actions."""
        return [th.where(v, lp.exp(), th.zeros_like(lp)) for lp, v in zip(self.log_probs, self.valid, strict=True)]

    def entropy(self) -> th.Tensor:
        """Exact entropy (nats) per sample, summed over sub-spaces, valid actions only."""
        total = th.zeros(self.n_samples, dtype=self.log_probs[0].dtype)
        for lp, p, v in zip(self.log_probs, self.probs(), self.valid, strict=True):
            total -= th.where(v, p * th.where(v, lp, th.zeros_like(lp)), th.zeros_like(lp)).sum(dim=-1)
        return total

    def max_entropy(self) -> th.Tensor:
        """Largest possible entropy per sample: sum over sub-spaces of ``log(number of valid actions)``."""
        total = th.zeros(self.n_samples, dtype=self.log_probs[0].dtype)
        for v in self.valid:
            total += v.sum(dim=-1).to(total.dtype).log()
        return total


def rollout_observations(buffer: RolloutBuffer) -> np.ndarray | dict[str, np.ndarray]:
    """The rollout's observations flattened to ``(n_steps * n_envs, *obs_shape)``."""
    observations = buffer.observations
    if isinstance(observations, dict):
        return {key: obs.reshape(-1, *obs.shape[2:]) for key, obs in observations.items()}
    return observations.reshape(-1, *observations.shape[2:])


def rollout_masks(buffer: RolloutBuffer) -> np.ndarray | None:
    """The rollout's action masks flattened to ``(n_samples, sum K_i)``, when it has any."""
    masks = getattr(buffer, "action_masks", None)
    if masks is None:
        return None
    return np.asarray(masks).reshape(-1, masks.shape[-1]).astype(bool)


def categorical_log_probs(distribution: Distribution) -> list[th.Tensor] | None:
    """Per-sub-space normalized log-probabilities of an SB3 (or sb3-contrib) categorical.

    Returns ``None`` for distributions without categorical sub-spaces (Gaussian, gSDE).
    """
    if isinstance(distribution, CategoricalDistribution):
        return [distribution.distribution.logits]
    if isinstance(distribution, MultiCategoricalDistribution):
        return [d.logits for d in distribution.distribution]
    inner = getattr(distribution, "distributions", None)  # sb3-contrib MaskableMultiCategorical
    if isinstance(inner, list) and inner:
        return [d.logits for d in inner]
    single = getattr(distribution, "distribution", None)  # sb3-contrib MaskableCategorical
    if isinstance(single, th.distributions.Categorical):
        return [single.logits]
    return None


def rollout_size(observations: np.ndarray | dict[str, np.ndarray]) -> int:
    """Number of states in flattened observations (an array or a dict of arrays)."""
    return len(next(iter(observations.values())) if isinstance(observations, dict) else observations)


def sample_index(n: int, max_samples: int | None) -> np.ndarray | None:
    """Indices of at most ``max_samples`` evenly spaced items out of ``n``; ``None`` keeps all."""
    if max_samples is None or n <= max_samples:
        return None
    return np.linspace(0, n - 1, max_samples).astype(np.int64)


def take_states(
    observations: np.ndarray | dict[str, np.ndarray], masks: np.ndarray | None, index: np.ndarray | None
) -> tuple[np.ndarray | dict[str, np.ndarray], np.ndarray | None]:
    """The observations (and masks) at ``index`` (``None``: all of them, unchanged)."""
    if index is None:
        return observations, masks
    if isinstance(observations, dict):
        observations = {key: obs[index] for key, obs in observations.items()}
    else:
        observations = observations[index]
    return observations, (masks[index] if masks is not None else None)


def evaluate_states(
    policy: Any, observations: np.ndarray | dict[str, np.ndarray], masks: np.ndarray | None = None
) -> RolloutPolicy | None:
    """The policy's categorical distributions on given states, in one batched no-grad forward pass.

    :param policy: an SB3 ``ActorCriticPolicy`` or sb3-contrib's maskable one.
    :param observations: flattened observations, ``(n, *obs_shape)`` (or a dict of such arrays).
    :param masks: boolean action masks ``(n, sum K_i)`` (maskable policies), or ``None``.
    :return: ``None`` for non-categorical action distributions (Gaussian, gSDE).
    """
    with th.no_grad():
        obs_tensor = obs_as_tensor(observations, policy.device)
        if masks is not None:
            distribution = policy.get_distribution(obs_tensor, action_masks=masks)
        else:
            distribution = policy.get_distribution(obs_tensor)
        log_probs = categorical_log_probs(distribution)
    if log_probs is None:
        return None
    log_probs = [lp.reshape(-1, lp.shape[-1]).cpu() for lp in log_probs]
    if masks is not None:
        mask_tensor = th.as_tensor(masks)
        valid = list(th.split(mask_tensor, [lp.shape[-1] for lp in log_probs], dim=-1))
    else:
        valid = [th.ones_like(lp, dtype=th.bool) for lp in log_probs]
    return RolloutPolicy(log_probs=log_probs, valid=valid)


def evaluate_rollout(model: BaseAlgorithm, max_samples: int | None = None) -> RolloutPolicy | None:
    """The policy's distributions on the last rollout's states, or ``None`` for non-categorical actions.

    :param model: an on-policy SB3 algorithm right after ``collect_rollouts`` (e.g. in
        ``_on_rollout_end``).
    :param max_samples: evaluate at most this many states (evenly spaced), to bound the cost.
    """
    buffer: RolloutBuffer = model.rollout_buffer  # type: ignore[attr-defined]
    observations = rollout_observations(buffer)
    index = sample_index(rollout_size(observations), max_samples)
    observations, masks = take_states(observations, rollout_masks(buffer), index)
    return evaluate_states(model.policy, observations, masks)
