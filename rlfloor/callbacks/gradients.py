"""Gradient coherence: whether the per-sample policy gradients of a rollout agree or cancel."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.utils import obs_as_tensor

from rlfloor.callbacks._base import EvaluatorCallback
from rlfloor.callbacks.rollout import RolloutEvaluator, sample_index, take_states
from rlfloor.checks import check_int
from rlfloor.stats.gradients import gradient_coherence


class _LogProb(th.nn.Module):
    """``log pi(a | s)`` of a policy as a module call, so ``torch.func`` can take per-sample gradients."""

    def __init__(self, policy: th.nn.Module):
        super().__init__()
        self.policy = policy

    def forward(self, obs: Any, actions: th.Tensor, masks: th.Tensor | None = None) -> th.Tensor:
        policy: Any = self.policy
        if masks is None:
            distribution = policy.get_distribution(obs)
        else:
            distribution = policy.get_distribution(obs, action_masks=masks)
        return distribution.log_prob(actions)


def _unsqueeze(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: v.unsqueeze(0) for k, v in obs.items()}
    return obs.unsqueeze(0)


def _index(obs: Any, i: int) -> Any:
    if isinstance(obs, dict):
        return {k: v[i : i + 1] for k, v in obs.items()}
    return obs[i : i + 1]


def vmap_per_sample_gradients(
    policy: Any, obs: Any, actions: th.Tensor, advantages: th.Tensor, masks: th.Tensor | None
) -> list[th.Tensor]:
    """Gradients of ``A_i * log pi(a_i | s_i)`` w.r.t. the policy's trainable parameters, one per sample,
    with ``torch.func.vmap``. Raises ``RuntimeError``/``ValueError`` for distributions with
    data-dependent code (use :func:`loop_per_sample_gradients` then).

    :return: one tensor per trainable parameter (in ``named_parameters`` order), sample index first.
    """
    module = _LogProb(policy)
    params = {name: p.detach() for name, p in module.named_parameters() if p.requires_grad}

    def surrogate(params: dict[str, th.Tensor], o: Any, a: th.Tensor, adv: th.Tensor, m: Any) -> th.Tensor:
        batch = (_unsqueeze(o), a.unsqueeze(0), None if m is None else m.unsqueeze(0))
        return adv * th.func.functional_call(module, params, batch).sum()

    grads = th.func.vmap(th.func.grad(surrogate), in_dims=(None, 0, 0, 0, None if masks is None else 0))(
        params, obs, actions, advantages, masks
    )
    return list(grads.values())


def loop_per_sample_gradients(
    policy: Any, obs: Any, actions: th.Tensor, advantages: th.Tensor, masks: th.Tensor | None
) -> list[th.Tensor]:
    """The same gradients as :func:`vmap_per_sample_gradients`, one backward pass per sample."""
    module = _LogProb(policy)
    params = {name: p.detach().requires_grad_(True) for name, p in module.named_parameters() if p.requires_grad}
    tensors = list(params.values())
    rows: list[list[th.Tensor]] = []
    for i in range(len(advantages)):
        sample = _index(obs, i)
        mask = None if masks is None else masks[i : i + 1]
        value = advantages[i] * th.func.functional_call(module, params, (sample, actions[i : i + 1], mask)).sum()
        grads_i = th.autograd.grad(value, tensors, allow_unused=True)
        rows.append([th.zeros_like(t) if g is None else g for g, t in zip(grads_i, tensors, strict=True)])
    return [th.stack(column) for column in zip(*rows, strict=True)]


class GradientCoherenceCallback(EvaluatorCallback):
    """Log ``explore/grad_coherence`` (``||mean_i g_i|| / mean_i ||g_i||``) and ``explore/grad_sample_norm``.

    ``g_i`` is the gradient of ``A_i * log pi(a_i | s_i)`` for ``grad_samples`` evenly spaced samples of
    the rollout (advantages normalized as the algorithm does), on the rollouts the evaluator marks as due.
    Costly (per-sample gradients); off in ``ExplorationMetricsCallback`` by default.

    :param grad_samples: rollout samples used (``>= 2``).
    :param evaluator: a shared :class:`RolloutEvaluator` (for its schedule of due rollouts); ``None`` makes one.
    """

    def __init__(self, grad_samples: int = 32, evaluator: RolloutEvaluator | None = None, verbose: int = 0):
        super().__init__(evaluator, verbose, keep_previous=False)
        self.grad_samples = check_int("grad_samples", grad_samples, 2)
        self._vmap_failed = False

    def _on_rollout_end(self) -> None:
        if not self.evaluator.due:
            return
        model: Any = self.model
        policy = model.policy
        advantages = model.rollout_buffer.advantages.reshape(-1).astype(np.float64)
        if getattr(model, "normalize_advantage", False) and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        index = sample_index(len(advantages), self.grad_samples)
        if index is None:
            index = np.arange(len(advantages))
        states, state_masks = take_states(self.evaluator.observations, self.evaluator.masks, index)
        act = th.as_tensor(self.evaluator.actions[index], device=policy.device)
        if isinstance(model.action_space, spaces.Discrete):
            act = act.long().flatten()
        args = (
            policy,
            obs_as_tensor(states, policy.device),
            act,
            th.as_tensor(advantages[index], dtype=th.float32, device=policy.device),
            None if state_masks is None else th.as_tensor(state_masks, device=policy.device),
        )
        grads: list[th.Tensor] | None = None
        if not self._vmap_failed:
            try:
                grads = vmap_per_sample_gradients(*args)
            except (RuntimeError, ValueError):  # data-dependent code in a distribution: loop from now on
                self._vmap_failed = True
        if grads is None:
            grads = loop_per_sample_gradients(*args)
        coherence, norm = gradient_coherence(grads)
        if not math.isnan(coherence):
            self.logger.record_mean("explore/grad_coherence", coherence)
            self.logger.record_mean("explore/grad_sample_norm", norm)


__all__ = ["GradientCoherenceCallback", "loop_per_sample_gradients", "vmap_per_sample_gradients"]
