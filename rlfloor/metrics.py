"""Exploration metrics for TensorBoard: one callback for any SB3 on-policy algorithm.

:class:`ExplorationMetricsCallback` plugs into ``learn()`` of PPO, A2C or MaskablePPO,
with a floored or a stock policy (so baselines are measured the same way). It takes
no extra environment steps: policy statistics come from one batched no-grad forward
pass over (a subsample of) the rollout buffer, the rest from data SB3 already has.

Tags (all under the namespaces of the design brief; SB3's ``train/`` and ``rollout/``
keys are left alone). "Interval" is the span between two logger dumps (``log_interval``
rollouts); values are aggregated over it (mean, min, max or share as stated), so A2C's
default ``log_interval=100`` loses nothing. Policy statistics are exact entropies and
probabilities over the rollout's states and *valid* actions, on at most ``max_samples``
evenly spaced states of a rollout; for short rollouts (A2C) they are taken on every n-th
rollout (``policy_every``) and always on the rollout that precedes a dump.

===================================  ==========================================================
``explore/entropy``                  mean policy entropy (nats) over the interval's states
``explore/entropy_min``              lowest entropy (nats) of any state in the interval
``explore/entropy_norm``             entropy / log K_valid: sum of H over sum of log K_valid
                                     (states with one valid action left out), in [0, 1];
                                     the quantity ``entropy/measured`` tracks
``explore/entropy_norm_min``         lowest per-state H / log K_valid in the interval
``explore/min_prob``                 lowest probability of any valid action in any state
``explore/min_prob_mean``            mean over states of the lowest valid-action probability
``explore/floor_mass``               mean over states of the probability on actions *pinned* at
                                     the floor (p <= (1 + floor_tol) * min_prob): the mass only
                                     the floor keeps alive (0 without a floor)
``explore/at_floor_frac``            share of the rollout's decisions whose sampled action was
                                     pinned at the floor (realized counterpart of floor_mass)
``explore/kl``                       mean KL(old || new) over the previous rollout's states
                                     between the policy that collected it and the policy after
                                     the update (exact; includes a floor-schedule step)
``explore/kl_max``                   largest per-state KL(old || new) in the interval
``explore/action_freq/{i}``          share of decisions that chose action i (K <= 16;
                                     ``{d}/{i}`` for MultiDiscrete sub-space d); sums to 1
``explore/actions``                  histogram of the actions chosen in the interval
                                     (``explore/actions/{d}`` per MultiDiscrete sub-space)
``explore/coverage``                 distinct states seen so far (bounded by ``max_states``)
``explore/coverage_frac``            coverage / number of states, when that number is known
``explore/coverage_saturated``       1 once ``max_states`` distinct states were stored (coverage
                                     is then a lower bound), else 0
``explore/visit_entropy``            entropy (nats) of the state-visitation counts so far
``explore/first_reward_step``        env steps (all envs, counted in env order within a vector
                                     step) up to and including the first positive reward
``explore/first_reward_episode``     1-based index of the episode holding the first positive reward
``explore/episode_score``            mean ``info["score"]`` of the episodes ended in the interval
``explore/grad_coherence``           ||mean_i g_i|| / mean_i ||g_i|| of per-sample policy gradients
                                     (``grad_coherence=True``), in [0, 1]
``explore/grad_sample_norm``         mean_i ||g_i|| of the same per-sample gradients
``floor/min_prob``                   the floor in force (0 for stock policies; ``floor/min_std``
                                     for Box actions)
``floor/mass``                       mean over states of K_valid * min_prob: the weight of the
                                     uniform component in p = K m * uniform + (1 - K m) * softmax
``entropy/coef``                     the entropy coefficient in force (``model.ent_coef``)
``loss/policy``                      policy-gradient loss (SB3's ``train/policy_gradient_loss`` or
                                     A2C's ``train/policy_loss``)
``loss/value``                       vf_coef * value loss
``loss/entropy``                     ent_coef * entropy loss (= -ent_coef * mean entropy)
``loss/logit_penalty``               the weighted logit-range penalty (policies with one)
``loss/{term}_share``                |term| / sum of |terms|, for policy, value, entropy,
                                     logit_penalty
===================================  ==========================================================

``entropy/target`` and ``entropy/measured`` come from
:class:`rlfloor.entropy.AdaptiveEntropyCallback` when it is used alongside.

Timing follows SB3: a dump after rollout ``t`` holds the policy statistics of rollout
``t`` and the ``loss/`` and ``explore/kl`` values of the update that preceded it (the
same update SB3's ``train/`` keys describe).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import obs_as_tensor

from rlfloor.distributions import action_space_sizes
from rlfloor.rollout import (
    RolloutPolicy,
    evaluate_states,
    rollout_masks,
    rollout_observations,
    rollout_size,
    sample_index,
    take_states,
)

Observations = np.ndarray | dict[str, np.ndarray]

#: With ``policy_every=None``, the policy is evaluated often enough to see at least this many states each time.
AUTO_EVAL_MIN_STATES = 64
#: Box observations with more elements than this get no automatic coverage (images).
AUTO_COVERAGE_MAX_SIZE = 4096
# A histogram goes to TensorBoard only.
_HISTOGRAM_ONLY = ("stdout", "log", "json", "csv")
_LOSS_KEYS = {
    "policy": ("train/policy_gradient_loss", "train/policy_loss"),
    "value": ("train/value_loss",),
    "entropy": ("train/entropy_loss",),
}


def policy_statistics(
    rollout: RolloutPolicy,
    min_prob: float = 0.0,
    floor_tol: float = 0.01,
    actions: np.ndarray | None = None,
) -> dict[str, float]:
    """Exploration statistics of a policy on a batch of states (valid actions only).

    :param rollout: the policy's distributions, from :func:`rlfloor.rollout.evaluate_states`.
    :param min_prob: the floor in force (0 for stock policies).
    :param floor_tol: an action is *at the floor* when ``p <= (1 + floor_tol) * min_prob``.
    :param actions: the actions chosen in these states, ``(n, n_subspaces)``, for ``at_floor_frac``.
    :return: ``entropy``, ``entropy_min``, ``entropy_norm``, ``entropy_norm_min`` (absent when
        every state has a single valid action), ``min_prob``, ``min_prob_mean``, ``floor_mass``,
        ``uniform_mass`` (mean ``K_valid * min_prob``) and, with ``actions``, ``at_floor_frac``.
    """
    probs = rollout.probs()
    entropy = rollout.entropy()
    stats = {"entropy": float(entropy.mean()), "entropy_min": float(entropy.min())}
    top = rollout.max_entropy()
    informative = top > 0
    if bool(informative.any()):
        stats["entropy_norm"] = float(entropy[informative].sum() / top[informative].sum())
        stats["entropy_norm_min"] = float((entropy[informative] / top[informative]).min())
    lowest = th.stack(
        [th.where(v, p, th.full_like(p, math.inf)).amin(dim=-1) for p, v in zip(probs, rollout.valid, strict=True)]
    ).amin(dim=0)
    stats["min_prob"] = float(lowest.min())
    stats["min_prob_mean"] = float(lowest.mean())
    n_valid = th.stack([v.sum(dim=-1) for v in rollout.valid]).to(th.float64)
    stats["uniform_mass"] = float((n_valid * min_prob).mean())
    if min_prob > 0.0:
        threshold = (1.0 + floor_tol) * min_prob
        pinned = [v & (p <= threshold) for p, v in zip(probs, rollout.valid, strict=True)]
        mass = th.stack([th.where(k, p, th.zeros_like(p)).sum(dim=-1) for p, k in zip(probs, pinned, strict=True)])
        stats["floor_mass"] = float(mass.to(th.float64).mean())
        if actions is not None:
            chosen = th.as_tensor(np.asarray(actions, dtype=np.int64).reshape(len(actions), -1))
            hits = [k.gather(1, chosen[:, d : d + 1]) for d, k in enumerate(pinned)]
            stats["at_floor_frac"] = float(th.cat(hits, dim=1).to(th.float64).mean())
    else:
        stats["floor_mass"] = 0.0
        if actions is not None:
            stats["at_floor_frac"] = 0.0
    return stats


def kl_divergence(old: RolloutPolicy, new: RolloutPolicy) -> th.Tensor:
    """Exact per-state ``KL(old || new)`` (nats), summed over sub-spaces, over ``old``'s valid actions."""
    total = th.zeros(old.n_samples, dtype=th.float64)
    for lp_old, lp_new, valid in zip(old.log_probs, new.log_probs, old.valid, strict=True):
        lp_old, lp_new = lp_old.to(th.float64), lp_new.to(th.float64)
        term = lp_old.exp() * (lp_old - lp_new)
        total += th.where(valid & (lp_old > -math.inf), term, th.zeros_like(term)).sum(dim=-1)
    return total.clamp_min(0.0)  # rounding can leave -1e-9 where the policies agree


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
        if isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 1:
            raise ValueError(f"max_states={max_states!r} must be an integer >= 1")
        self.max_states = max_states
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


class ExplorationMetricsCallback(BaseCallback):
    """Log how an on-policy agent explores (see the module docstring for every tag).

    Works with PPO, A2C and MaskablePPO, floored or stock policies, vectorized envs and
    any ``log_interval``. Policy statistics (entropy, probabilities, floor, KL) need
    Discrete or MultiDiscrete actions; the rest works for any action space.

    :param max_samples: states of a rollout evaluated for the policy statistics (evenly spaced
        subsample when the rollout is larger).
    :param policy_every: evaluate the policy statistics (and gradient coherence) on every n-th
        rollout. ``None`` picks the smallest n that sees :data:`AUTO_EVAL_MIN_STATES` states per
        evaluation: every rollout for PPO, every 13th for A2C's 5-step single-env rollouts. The
        rollout before each dump is always evaluated if its interval has none yet.
    :param floor_tol: relative tolerance for an action to count as pinned at the floor.
    :param max_action_scalars: sub-spaces with at most this many actions get one
        ``explore/action_freq`` scalar per action (all get the histogram).
    :param coverage: count visited states. Automatic for Discrete, MultiDiscrete and MultiBinary
        observations and for Box observations of at most :data:`AUTO_COVERAGE_MAX_SIZE` elements
        whose first rollout holds integer values only (one-hot, grids, counts); continuous
        observations need ``obs_key``.
    :param obs_key: maps a batch of observations ``(n, *obs_shape)`` (or a dict of such arrays)
        to an array with one row per observation that identifies its state, e.g. a discretizer
        ``lambda obs: np.round(obs * 10)``. Enables coverage for any observation space.
    :param max_states: most distinct states stored for coverage (bounded memory).
    :param n_states: number of states, for ``explore/coverage_frac``; ``None`` infers it for
        finite observation spaces.
    :param score_key: ``info`` key holding the episode score on the step that ends an episode.
    :param kl: log the exact per-update KL (one more forward pass over ``max_samples`` states).
    :param grad_coherence: log gradient coherence (per-sample gradients; costly, off by default).
    :param grad_samples: rollout samples used for gradient coherence (``>= 2``).
    """

    def __init__(
        self,
        max_samples: int = 2048,
        policy_every: int | None = None,
        floor_tol: float = 0.01,
        max_action_scalars: int = 16,
        coverage: bool = True,
        obs_key: Callable[[Observations], np.ndarray] | None = None,
        max_states: int = 100_000,
        n_states: int | None = None,
        score_key: str = "score",
        kl: bool = True,
        grad_coherence: bool = False,
        grad_samples: int = 32,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        _check_int("max_samples", max_samples, 1)
        if policy_every is not None:
            _check_int("policy_every", policy_every, 1)
        _check_int("max_action_scalars", max_action_scalars, 0)
        _check_int("max_states", max_states, 1)
        _check_int("grad_samples", grad_samples, 2)
        if n_states is not None:
            _check_int("n_states", n_states, 1)
        if isinstance(floor_tol, bool) or not isinstance(floor_tol, int | float) or not 0.0 <= floor_tol < math.inf:
            raise ValueError(f"floor_tol={floor_tol!r} is outside the allowed range [0, inf)")
        if obs_key is not None and not callable(obs_key):
            raise ValueError(f"obs_key must be a callable mapping a batch of observations to rows, got {obs_key!r}")
        self.max_samples = max_samples
        self.policy_every = policy_every
        self.floor_tol = float(floor_tol)
        self.max_action_scalars = max_action_scalars
        self.coverage = bool(coverage)
        self.obs_key = obs_key
        self.max_states = max_states
        self.n_states = n_states
        self.score_key = score_key
        self.kl = bool(kl)
        self.grad_coherence = bool(grad_coherence)
        self.grad_samples = grad_samples
        self.visits = StateVisitCounter(max_states)
        self.first_reward_step: int | None = None
        self.first_reward_episode: int | None = None
        self.steps = 0
        self.episodes = 0
        self._model_id: int | None = None
        self._action_sizes: list[int] | None = None
        self._coverage_mode: str | None = None  # None (off), "on", or "check" (decide on first rollout)
        self._n_states_known: int | None = None
        self._terminal_obs: list[Any] = []
        self._hist_counts: list[np.ndarray] = []
        self._snapshot: tuple[Observations, np.ndarray | None, RolloutPolicy] | None = None
        self._seen_updates = 0
        self._vmap_failed = False
        self._log_interval: int | None = None
        self._vec_normalize: Any = None
        self._iteration = 0
        self._since_eval = 0

    # ------------------------------------------------------------------ setup
    def _on_training_start(self) -> None:
        model = self.model
        fresh = self._model_id != id(model) or model.num_timesteps == 0
        if fresh:
            self._model_id = id(model)
            self.visits = StateVisitCounter(self.max_states)
            self.first_reward_step = self.first_reward_episode = None
            self.steps = self.episodes = 0
            self._snapshot = None
            self._seen_updates = int(getattr(model, "_n_updates", 0))
        self._terminal_obs = []
        # learn() passed its locals: its log_interval tells which rollouts a dump follows.
        log_interval = self.locals.get("log_interval")
        self._log_interval = log_interval if isinstance(log_interval, int) and log_interval > 0 else None
        self._iteration = 0  # learn() counts iterations from 0 in every call
        self._since_eval = 0
        self._vec_normalize = model.get_vec_normalize_env()
        action_space = model.action_space
        categorical = isinstance(action_space, spaces.Discrete | spaces.MultiDiscrete)
        self._action_sizes = action_space_sizes(action_space) if categorical else None
        self._hist_counts = [np.zeros(k, dtype=np.int64) for k in self._action_sizes or []]
        self._coverage_mode = self._choose_coverage(model.observation_space)
        if self.n_states is None and self._coverage_mode is not None and self.obs_key is None:
            self._n_states_known = n_observation_states(model.observation_space)
        else:
            self._n_states_known = self.n_states

    def _choose_coverage(self, space: spaces.Space) -> str | None:
        if not self.coverage:
            return None
        if self.obs_key is not None:
            return "on"
        if isinstance(space, spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
            return "on"
        if isinstance(space, spaces.Box) and int(np.prod(space.shape)) <= AUTO_COVERAGE_MAX_SIZE:
            return "on" if np.issubdtype(space.dtype, np.integer) else "check"
        if self.verbose >= 1:
            print(f"ExplorationMetricsCallback: no state coverage for {space} (pass obs_key to enable it)")
        return None

    # ------------------------------------------------------------------ per step
    def _on_step(self) -> bool:
        dones = self.locals["dones"]
        if self.first_reward_step is None:
            vec_normalize = self._vec_normalize  # positive *original* reward, also under VecNormalize
            rewards = vec_normalize.get_original_reward() if vec_normalize is not None else self.locals["rewards"]
            positive = np.flatnonzero(np.asarray(rewards) > 0)
            if positive.size:
                first = int(positive[0])
                self.first_reward_step = self.steps + first + 1
                self.first_reward_episode = self.episodes + int(np.count_nonzero(dones[:first])) + 1
        self.steps += len(dones)
        ended = np.flatnonzero(dones)
        if ended.size:
            self.episodes += int(ended.size)
            infos = self.locals["infos"]
            for index in ended.tolist():
                info = infos[index]
                score = info.get(self.score_key)
                if score is not None:
                    self.logger.record_mean("explore/episode_score", float(score))
                if self._coverage_mode is not None:
                    terminal = info.get("terminal_observation")
                    if terminal is not None:
                        self._terminal_obs.append(terminal)
        return True

    # ------------------------------------------------------------------ after each update
    def _on_rollout_start(self) -> None:
        """Read the loss terms of the update that just ran (SB3 recorded them in ``train()``)."""
        n_updates = int(getattr(self.model, "_n_updates", 0))
        if n_updates == self._seen_updates:
            return
        self._seen_updates = n_updates
        recorded = self.logger.name_to_value  # read with .get only: it is a defaultdict
        terms: dict[str, float] = {}
        for name, keys in _LOSS_KEYS.items():
            value = next((recorded.get(key) for key in keys if key in recorded), None)
            if value is not None:
                terms[name] = float(value)
        if "value" in terms:
            terms["value"] *= float(getattr(self.model, "vf_coef", 1.0))
        if "entropy" in terms:
            coef = getattr(self.model, "ent_coef", 0.0)
            terms["entropy"] *= float(coef) if isinstance(coef, int | float) else 0.0
        pop_penalty = getattr(self.model.policy, "pop_logit_penalty", None)
        penalty = pop_penalty() if pop_penalty is not None else None
        if penalty is not None:
            terms["logit_penalty"] = float(penalty)
        total = sum(abs(v) for v in terms.values())
        for name, value in terms.items():
            self.logger.record_mean(f"loss/{name}", value)
            if total > 0.0:
                self.logger.record_mean(f"loss/{name}_share", abs(value) / total)

    # ------------------------------------------------------------------ after each rollout
    def _on_rollout_end(self) -> None:
        model: Any = self.model
        buffer = model.rollout_buffer
        policy = model.policy
        self._iteration += 1
        dump_next = self._log_interval is not None and self._iteration % self._log_interval == 0
        floor_name = getattr(policy, "floor_name", "min_std" if self._action_sizes is None else "min_prob")
        floor = float(getattr(policy, "floor", 0.0))
        self.logger.record(f"floor/{floor_name}", floor)
        coef = getattr(model, "ent_coef", None)
        if isinstance(coef, int | float):
            self.logger.record("entropy/coef", float(coef))

        observations = rollout_observations(buffer)
        masks = rollout_masks(buffer)
        actions = buffer.actions.reshape(-1, buffer.actions.shape[-1])
        self._since_eval += 1
        evaluate = self._since_eval >= self._every(rollout_size(observations)) or (
            dump_next and "explore/entropy" not in self.logger.name_to_value
        )
        if evaluate:
            self._since_eval = 0
        if self._action_sizes is not None:
            self._record_actions(actions)
            min_prob = floor if floor_name == "min_prob" else 0.0
            self._record_policy(policy, observations, masks, actions, min_prob, evaluate)
        if self._coverage_mode is not None:
            self._record_coverage(observations)
        if self.first_reward_step is not None:
            self.logger.record("explore/first_reward_step", self.first_reward_step)
            self.logger.record("explore/first_reward_episode", self.first_reward_episode)
        if self.grad_coherence and evaluate:
            self._record_grad_coherence(policy, observations, masks, actions)

    def _every(self, rollout_states: int) -> int:
        """Evaluate the policy on every n-th rollout (see ``policy_every``)."""
        if self.policy_every is not None:
            return self.policy_every
        return max(1, math.ceil(AUTO_EVAL_MIN_STATES / max(rollout_states, 1)))

    def _record_min(self, key: str, value: float) -> None:
        """Record the smallest value since the last dump (a dump empties ``name_to_value``)."""
        recorded = self.logger.name_to_value
        if key in recorded:
            value = min(value, float(recorded[key]))
        self.logger.record(key, value)

    def _record_max(self, key: str, value: float) -> None:
        recorded = self.logger.name_to_value
        if key in recorded:
            value = max(value, float(recorded[key]))
        self.logger.record(key, value)

    def _record_actions(self, actions: np.ndarray) -> None:
        assert self._action_sizes is not None
        chosen = actions.astype(np.int64)
        multi = len(self._action_sizes) > 1
        hist_key = "explore/actions"
        if (hist_key if not multi else f"{hist_key}/0") not in self.logger.name_to_value:
            for counts in self._hist_counts:  # first rollout since the last dump
                counts[:] = 0
        for d, size in enumerate(self._action_sizes):
            counts = self._hist_counts[d]
            counts += np.bincount(chosen[:, d], minlength=size)
            prefix = f"explore/action_freq/{d}/" if multi else "explore/action_freq/"
            if size <= self.max_action_scalars:
                freq = (counts / max(int(counts.sum()), 1)).tolist()
                for i in range(size):
                    self.logger.record(f"{prefix}{i}", freq[i])
            values = np.repeat(np.arange(size), counts)
            self.logger.record(f"{hist_key}/{d}" if multi else hist_key, values, exclude=_HISTOGRAM_ONLY)

    def _record_policy(
        self,
        policy: Any,
        observations: Observations,
        masks: np.ndarray | None,
        actions: np.ndarray,
        min_prob: float,
        evaluate: bool,
    ) -> None:
        """Policy statistics on this rollout (when ``evaluate``) and the KL of the last update."""
        batches: list[tuple[Observations, np.ndarray | None]] = []
        old: RolloutPolicy | None = None
        if self._snapshot is not None:  # states of the previous rollout: KL of the update since
            old_states, old_masks, old = self._snapshot
            batches.append((old_states, old_masks))
            self._snapshot = None
        index = sample_index(rollout_size(observations), self.max_samples)
        states, state_masks = take_states(observations, masks, index)
        if evaluate:
            batches.append((states, state_masks))
        if not batches:
            return
        results = _evaluate_batches(policy, batches)
        if results is None:
            return
        if old is not None:
            kl = kl_divergence(old, results[0])
            self.logger.record_mean("explore/kl", float(kl.mean()))
            self._record_max("explore/kl_max", float(kl.max()))
        if not evaluate:
            return
        rollout = results[-1]
        if self.kl:
            # The buffer allocates new arrays on reset, but copy anyway: the snapshot must not change.
            snap_states = {k: v.copy() for k, v in states.items()} if isinstance(states, dict) else states.copy()
            self._snapshot = (snap_states, None if state_masks is None else state_masks.copy(), rollout)
        chosen = actions if index is None else actions[index]
        stats = policy_statistics(rollout, min_prob, self.floor_tol, chosen)
        for key in ("entropy", "entropy_norm", "min_prob_mean", "floor_mass", "at_floor_frac"):
            if key in stats:
                self.logger.record_mean(f"explore/{key}", stats[key])
        for key in ("entropy_min", "entropy_norm_min", "min_prob"):
            if key in stats:
                self._record_min(f"explore/{key}", stats[key])
        self.logger.record_mean("floor/mass", stats["uniform_mass"])

    def _record_coverage(self, observations: Observations) -> None:
        batch: Any = observations
        if self._terminal_obs:
            if isinstance(observations, dict):
                batch = {
                    key: _append_rows(obs, [t[key] for t in self._terminal_obs]) for key, obs in observations.items()
                }
            else:
                batch = _append_rows(observations, self._terminal_obs)
            self._terminal_obs = []
        rows = np.asarray(self.obs_key(batch) if self.obs_key is not None else batch)
        if self._coverage_mode == "check":
            if not np.array_equal(rows, np.round(rows)):
                self._coverage_mode = None
                if self.verbose >= 1:
                    print("ExplorationMetricsCallback: continuous observations, no state coverage (see obs_key)")
                return
            self._coverage_mode = "on"
        self.visits.update(rows)
        self.logger.record("explore/coverage", self.visits.distinct)
        if self._n_states_known is not None:
            self.logger.record("explore/coverage_frac", self.visits.distinct / self._n_states_known)
        self.logger.record("explore/coverage_saturated", float(self.visits.saturated))
        self.logger.record("explore/visit_entropy", self.visits.entropy())

    # ------------------------------------------------------------------ gradient coherence
    def _record_grad_coherence(
        self, policy: Any, observations: Observations, masks: np.ndarray | None, actions: np.ndarray
    ) -> None:
        model: Any = self.model
        advantages = model.rollout_buffer.advantages.reshape(-1).astype(np.float64)
        if getattr(model, "normalize_advantage", False) and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        index = sample_index(len(advantages), self.grad_samples)
        if index is None:
            index = np.arange(len(advantages))
        states, state_masks = take_states(observations, masks, index)
        act = th.as_tensor(actions[index], device=policy.device)
        if isinstance(model.action_space, spaces.Discrete):
            act = act.long().flatten()
        grads = self._per_sample_gradients(
            policy,
            obs_as_tensor(states, policy.device),
            act,
            th.as_tensor(advantages[index], dtype=th.float32, device=policy.device),
            None if state_masks is None else th.as_tensor(state_masks, device=policy.device),
        )
        coherence, norm = gradient_coherence(grads)
        if not math.isnan(coherence):
            self.logger.record_mean("explore/grad_coherence", coherence)
            self.logger.record_mean("explore/grad_sample_norm", norm)

    def _per_sample_gradients(
        self, policy: Any, obs: Any, actions: th.Tensor, advantages: th.Tensor, masks: th.Tensor | None
    ) -> list[th.Tensor]:
        """Gradients of ``A_i * log pi(a_i | s_i)`` w.r.t. the policy parameters, one per sample."""
        module = _LogProb(policy)
        params = {name: p.detach() for name, p in module.named_parameters() if p.requires_grad}
        if not self._vmap_failed:

            def surrogate(params: dict[str, th.Tensor], o: Any, a: th.Tensor, adv: th.Tensor, m: Any) -> th.Tensor:
                batch = (_unsqueeze(o), a.unsqueeze(0), None if m is None else m.unsqueeze(0))
                return adv * th.func.functional_call(module, params, batch).sum()

            try:
                grads = th.func.vmap(th.func.grad(surrogate), in_dims=(None, 0, 0, 0, None if masks is None else 0))(
                    params, obs, actions, advantages, masks
                )
                return list(grads.values())
            except (RuntimeError, ValueError):  # data-dependent code in a distribution: loop instead
                self._vmap_failed = True
        tensors = list(params.values())
        for tensor in tensors:
            tensor.requires_grad_(True)
        rows: list[list[th.Tensor]] = []
        for i in range(len(advantages)):
            sample = _index(obs, i)
            mask = None if masks is None else masks[i : i + 1]
            value = advantages[i] * th.func.functional_call(module, params, (sample, actions[i : i + 1], mask)).sum()
            grads_i = th.autograd.grad(value, tensors, allow_unused=True)
            rows.append([th.zeros_like(t) if g is None else g for g, t in zip(grads_i, tensors, strict=True)])
        return [th.stack(column) for column in zip(*rows, strict=True)]


def _evaluate_batches(policy: Any, batches: list[tuple[Observations, np.ndarray | None]]) -> list[RolloutPolicy] | None:
    """:func:`evaluate_states` on several batches of states in one forward pass."""
    if len(batches) == 1:
        single = evaluate_states(policy, *batches[0])
        return None if single is None else [single]
    sizes = [rollout_size(obs) for obs, _ in batches]
    first = batches[0][0]
    if isinstance(first, dict):
        observations: Observations = {key: np.concatenate([obs[key] for obs, _ in batches]) for key in first}
    else:
        observations = np.concatenate([obs for obs, _ in batches])
    masks = None if batches[0][1] is None else np.concatenate([m for _, m in batches])
    joint = evaluate_states(policy, observations, masks)
    if joint is None:
        return None
    parts = [th.split(t, sizes) for t in joint.log_probs], [th.split(v, sizes) for v in joint.valid]
    return [
        RolloutPolicy(log_probs=[lp[j] for lp in parts[0]], valid=[v[j] for v in parts[1]]) for j in range(len(sizes))
    ]


def _append_rows(rows: np.ndarray, extra: list[Any]) -> np.ndarray:
    """``rows`` (shape ``(n, *shape)``) followed by the observations in ``extra``, cast to match."""
    more = np.asarray(extra, dtype=rows.dtype).reshape(len(extra), *rows.shape[1:])
    return np.concatenate([rows, more])


def _unsqueeze(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: v.unsqueeze(0) for k, v in obs.items()}
    return obs.unsqueeze(0)


def _index(obs: Any, i: int) -> Any:
    if isinstance(obs, dict):
        return {k: v[i : i + 1] for k, v in obs.items()}
    return obs[i : i + 1]


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}={value!r} must be an integer >= {low}")


__all__ = [
    "AUTO_COVERAGE_MAX_SIZE",
    "ExplorationMetricsCallback",
    "StateVisitCounter",
    "gradient_coherence",
    "kl_divergence",
    "n_observation_states",
    "policy_statistics",
]
