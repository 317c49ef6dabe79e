"""The policy's distributions on the last rollout's states, evaluated once and shared.

The exploration metrics and entropy control need the policy's distributions on the states it
just visited. They are recomputed from the rollout buffer in one batched no-grad forward pass
(no extra environment steps), for stock and floored policies, with the rollout's action masks
when the algorithm stored them (MaskablePPO). :class:`RolloutEvaluator` does this at most once
per rollout for every callback that shares it (the states of the previous rollout, needed for
the per-update KL, go through the same forward pass).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.utils import obs_as_tensor

from rlfloor.checks import check_int
from rlfloor.stats.policy import CategoricalBatch, GaussianBatch, PolicyBatch

Observations = np.ndarray | dict[str, np.ndarray]

#: With ``policy_every=None``, the policy is evaluated often enough to see at least this many states each time.
AUTO_EVAL_MIN_STATES = 64


def rollout_observations(buffer: RolloutBuffer) -> Observations:
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


def rollout_actions(buffer: RolloutBuffer) -> np.ndarray:
    """The rollout's actions flattened to ``(n_samples, action_dim)``."""
    return buffer.actions.reshape(-1, buffer.actions.shape[-1])


def categorical_log_probs(distribution: Distribution) -> list[th.Tensor] | None:
    """Per-sub-space normalized log-probabilities of an SB3 (or sb3-contrib) categorical.

    A Bernoulli (MultiBinary actions, stock or floored) is one two-action categorical per bit: ``[log(1 - p),
    log p]``, so its statistics are those of ``MultiDiscrete([2] * n_bits)``. Returns ``None`` for distributions
    without categorical sub-spaces (Gaussian, gSDE).
    """
    if isinstance(distribution, CategoricalDistribution):
        return [distribution.distribution.logits]
    if isinstance(distribution, BernoulliDistribution):
        logits = distribution.distribution.logits
        pair = th.stack([th.nn.functional.logsigmoid(-logits), th.nn.functional.logsigmoid(logits)], dim=-1)
        return list(pair.reshape(-1, logits.shape[-1], 2).unbind(dim=1))
    if isinstance(distribution, MultiCategoricalDistribution):
        return [d.logits for d in distribution.distribution]
    inner = getattr(distribution, "distributions", None)  # sb3-contrib MaskableMultiCategorical
    if isinstance(inner, list) and inner:
        return [d.logits for d in inner]
    single = getattr(distribution, "distribution", None)  # sb3-contrib MaskableCategorical
    if isinstance(single, th.distributions.Categorical):
        return [single.logits]
    return None


def rollout_size(observations: Observations) -> int:
    """Number of states in flattened observations (an array or a dict of arrays)."""
    return len(next(iter(observations.values())) if isinstance(observations, dict) else observations)


def sample_index(n: int, max_samples: int | None) -> np.ndarray | None:
    """Indices of at most ``max_samples`` evenly spaced items out of ``n``; ``None`` keeps all."""
    if max_samples is None or n <= max_samples:
        return None
    return np.linspace(0, n - 1, max_samples).astype(np.int64)


def take_states(
    observations: Observations, masks: np.ndarray | None, index: np.ndarray | None
) -> tuple[Observations, np.ndarray | None]:
    """The observations (and masks) at ``index`` (``None``: all of them, unchanged)."""
    if index is None:
        return observations, masks
    if isinstance(observations, dict):
        observations = {key: obs[index] for key, obs in observations.items()}
    else:
        observations = observations[index]
    return observations, (masks[index] if masks is not None else None)


def evaluate_states(
    policy: Any, observations: Observations, masks: np.ndarray | None = None, device: th.device | None = None
) -> PolicyBatch | None:
    """The policy's action distributions on given states, in one batched no-grad forward pass.

    :param policy: an SB3 ``ActorCriticPolicy`` or sb3-contrib's maskable one.
    :param observations: flattened observations, ``(n, *obs_shape)`` (or a dict of such arrays).
    :param masks: boolean action masks ``(n, sum K_i)`` (maskable policies), or ``None``.
    :param device: the policy's device, when the caller knows it (``policy.device`` walks its parameters).
    :return: a :class:`CategoricalBatch` (Discrete, MultiDiscrete, MultiBinary as two actions per bit), a
        :class:`GaussianBatch` (Box, floored or not), or ``None`` for other distributions (gSDE).
    """
    with th.no_grad():
        obs_tensor = obs_as_tensor(observations, policy.device if device is None else device)
        if masks is not None:
            distribution = policy.get_distribution(obs_tensor, action_masks=masks)
        else:
            distribution = policy.get_distribution(obs_tensor)
        log_probs = categorical_log_probs(distribution)
        if log_probs is None:
            normal = getattr(distribution, "distribution", None)
            if isinstance(distribution, DiagGaussianDistribution) and isinstance(normal, th.distributions.Normal):
                n = rollout_size(observations)
                return GaussianBatch(
                    mean=normal.mean.reshape(n, -1).cpu(), std=normal.stddev.expand_as(normal.mean).reshape(n, -1).cpu()
                )
            return None
    log_probs = [lp.reshape(-1, lp.shape[-1]).cpu() for lp in log_probs]
    if masks is not None:
        mask_tensor = th.as_tensor(masks)
        valid = list(th.split(mask_tensor, [lp.shape[-1] for lp in log_probs], dim=-1))
    else:
        valid = [th.ones_like(lp, dtype=th.bool) for lp in log_probs]
    return CategoricalBatch(log_probs=log_probs, valid=valid)


def _split(batch: PolicyBatch, sizes: list[int]) -> list[PolicyBatch]:
    if isinstance(batch, GaussianBatch):
        return [
            GaussianBatch(m, s) for m, s in zip(th.split(batch.mean, sizes), th.split(batch.std, sizes), strict=True)
        ]
    parts = [th.split(t, sizes) for t in batch.log_probs], [th.split(v, sizes) for v in batch.valid]
    return [CategoricalBatch([lp[j] for lp in parts[0]], [v[j] for v in parts[1]]) for j in range(len(sizes))]


def _copy(observations: Observations) -> Observations:
    if isinstance(observations, dict):
        return {k: v.copy() for k, v in observations.items()}
    return observations.copy()


class RolloutEvaluator(BaseCallback):
    """Evaluates the policy on the rollout's states at most once per rollout, for every callback sharing it.

    Put it before the callbacks that read it (``ExplorationMetricsCallback`` does); a callback
    given none makes and drives its own. After each rollout, :attr:`due` tells whether this
    rollout's statistics are due (every ``policy_every``-th rollout, and always the rollout before
    a logger dump whose interval has none yet); :meth:`current` returns the policy's distributions
    on (at most ``max_samples`` evenly spaced of) its states and :meth:`update_pair` the previous
    evaluated rollout's distributions before and after the update in between. Both come from one
    forward pass, computed on first use.

    :param max_samples: states of a rollout evaluated (evenly spaced subsample when larger).
    :param policy_every: evaluate every n-th rollout; ``None`` picks the smallest n that sees
        :data:`AUTO_EVAL_MIN_STATES` states per evaluation (every rollout for PPO, every 13th for
        A2C's 5-step single-env rollouts).
    :param keep_previous: keep each evaluated rollout's states for :meth:`update_pair` (the KL).
    """

    def __init__(
        self, max_samples: int = 2048, policy_every: int | None = None, keep_previous: bool = True, verbose: int = 0
    ):
        super().__init__(verbose)
        self.max_samples = check_int("max_samples", max_samples, 1)
        self.policy_every = None if policy_every is None else check_int("policy_every", policy_every, 1)
        self.keep_previous = bool(keep_previous)
        self.due = False
        self.dump_next = False
        self.index: np.ndarray | None = None
        self.actions: np.ndarray = np.empty((0, 1))
        self._observations: Observations | None = None
        self._masks: np.ndarray | None = None
        self._states: tuple[Observations, np.ndarray | None] | None = None
        self._snapshot: tuple[Observations, np.ndarray | None, PolicyBatch] | None = None
        self._results: tuple[PolicyBatch | None, tuple[PolicyBatch, PolicyBatch] | None] | None = None
        self._model_id: int | None = None
        self._device: th.device | None = None
        self._log_interval: int | None = None
        self._iteration = 0
        self._since_eval = 0
        self._evaluated_in_interval = False

    def _on_training_start(self) -> None:
        if self._model_id != id(self.model) or self.model.num_timesteps == 0:
            self._model_id = id(self.model)
            self._snapshot = None
        # learn() hands its locals to on_training_start: log_interval tells which rollouts precede a dump.
        log_interval = self.locals.get("log_interval")
        self._log_interval = log_interval if isinstance(log_interval, int) and log_interval > 0 else None
        self._device = None  # looked up on first use in each learn() call
        self._iteration = 0  # learn() counts iterations from 0 in every call
        self._since_eval = 0
        self._evaluated_in_interval = False

    @property
    def log_interval(self) -> int | None:
        """``learn()``'s ``log_interval`` (rollouts per logger dump), ``None`` when unknown."""
        return self._log_interval

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer  # type: ignore[attr-defined]
        self._iteration += 1
        self.dump_next = self._log_interval is not None and self._iteration % self._log_interval == 0
        self.actions = rollout_actions(buffer)
        n = len(self.actions)
        self._since_eval += 1
        every = self.policy_every or max(1, math.ceil(AUTO_EVAL_MIN_STATES / max(n, 1)))
        self.due = self._since_eval >= every or (self.dump_next and not self._evaluated_in_interval)
        if self.due:
            self._since_eval = 0
            self._evaluated_in_interval = True
        if self.dump_next:
            self._evaluated_in_interval = False
        self.index = sample_index(n, self.max_samples)
        self._observations = None  # flattened on first use: most A2C rollouts never need them
        self._states = None
        self._results = None

    @property
    def observations(self) -> Observations:
        """The rollout's observations, flattened to ``(n_samples, *obs_shape)``."""
        if self._observations is None:
            buffer = self.model.rollout_buffer  # type: ignore[attr-defined]
            self._observations = rollout_observations(buffer)
            self._masks = rollout_masks(buffer)
        return self._observations

    @property
    def masks(self) -> np.ndarray | None:
        """The rollout's action masks ``(n_samples, sum K_i)`` (MaskablePPO), else ``None``."""
        self.observations  # noqa: B018  (flattens both)
        return self._masks

    def sampled(self, array: np.ndarray) -> np.ndarray:
        """Rows of a per-sample rollout array (actions, advantages) at the evaluated states."""
        return array if self.index is None else array[self.index]

    def _evaluate(self) -> tuple[PolicyBatch | None, tuple[PolicyBatch, PolicyBatch] | None]:
        if self._results is not None:
            return self._results
        if not self.due and self._snapshot is None:  # most A2C rollouts: nothing to evaluate
            self._results = (None, None)
            return self._results
        batches: list[tuple[Observations, np.ndarray | None]] = []
        if self.due and self._states is None:
            self._states = take_states(self.observations, self.masks, self.index)
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            batches.append(snapshot[:2])
        if self._states is not None:
            batches.append(self._states)
        current: PolicyBatch | None = None
        pair: tuple[PolicyBatch, PolicyBatch] | None = None
        if batches:
            sizes = [rollout_size(obs) for obs, _ in batches]
            first = batches[0][0]
            if len(batches) == 1:
                observations, masks = batches[0]
            elif isinstance(first, dict):
                observations = {key: np.concatenate([obs[key] for obs, _ in batches]) for key in first}
                masks = None if batches[0][1] is None else np.concatenate([m for _, m in batches])
            else:
                observations = np.concatenate([obs for obs, _ in batches])
                masks = None if batches[0][1] is None else np.concatenate([m for _, m in batches])
            policy = self.model.policy
            if self._device is None:
                self._device = policy.device
            joint = evaluate_states(policy, observations, masks, self._device)
            if joint is not None:
                parts = _split(joint, sizes) if len(batches) > 1 else [joint]
                if snapshot is not None:
                    pair = (snapshot[2], parts[0])
                if self._states is not None:
                    current = parts[-1]
                    if self.keep_previous:  # the buffer reallocates on reset, but copy: a snapshot must not change
                        states, masks_now = self._states
                        self._snapshot = (_copy(states), None if masks_now is None else masks_now.copy(), current)
        self._results = (current, pair)
        return self._results

    def current(self) -> PolicyBatch | None:
        """The policy's distributions on this rollout's evaluated states (``None`` when not :attr:`due`)."""
        return self._evaluate()[0]

    def update_pair(self) -> tuple[PolicyBatch, PolicyBatch] | None:
        """``(before, after)``: the last evaluated rollout's distributions under the policy that
        collected it and under the policy after the update(s) since; ``None`` when there is none."""
        return self._evaluate()[1]


__all__ = [
    "AUTO_EVAL_MIN_STATES",
    "Observations",
    "RolloutEvaluator",
    "categorical_log_probs",
    "evaluate_states",
    "rollout_actions",
    "rollout_masks",
    "rollout_observations",
    "rollout_size",
    "sample_index",
    "take_states",
]
