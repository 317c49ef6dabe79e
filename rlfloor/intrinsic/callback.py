"""Intrinsic rewards that enter the rewards *before* GAE, with the stock SB3 training loops.

SB3's ``collect_rollouts`` (PPO, A2C and sb3-contrib's MaskablePPO alike) fills the rollout
buffer, computes returns and advantages with ``RolloutBuffer.compute_returns_and_advantage``
and only then calls ``callback.on_rollout_end()``; ``train()`` runs after it. Adding a bonus to
``advantages``/``returns`` at that point (RLeXplore's SB3 integration) skips discounting and
bootstrapping: the bonus of step ``t`` never reaches the actions that led to it. Here
:class:`IntrinsicRewardCallback` instead

1. records, at every step, the next observation (the true terminal observation where an episode
   ended) and a copy of the extrinsic reward as the env returned it -- before SB3 adds
   ``gamma * V(terminal)`` to the rewards of truncated episodes. Under SB3's ``VecNormalize`` (rl-zoo3's
   ``normalize: true``) the novelty is that of the env's own observation, not of the normalized policy
   input, whose statistics drift during training (the same state would change its key or its RND input):
   ``get_original_obs()`` gives the raw next observations; a terminal observation, which ``VecNormalize``
   normalizes in ``infos``, is mapped back with ``unnormalize_obs`` (rounded for exact counts and
   integer dtypes; otherwise values within :data:`SNAP_TO_INTEGER` of an integer are snapped to it).
   That is exact except where ``VecNormalize`` clipped a value (beyond ``clip_obs`` standard
   deviations), which cannot be undone;
2. at the end of the rollout computes the bonus of each next observation, scales it, and writes
   ``ext_coef * r_ext + (SB3's timeout bootstrap, unchanged) + coef * r_int`` into
   ``rollout_buffer.rewards``;
3. recomputes returns and advantages with SB3's own ``compute_returns_and_advantage``, from the
   values of the policy on the last observation and the last ``dones``, exactly as
   ``collect_rollouts`` does.

Scales are separate and logged: ``ext_coef`` (fixed) and ``coef`` (fixed or any schedule of
``progress_remaining``, on the clock of rlfloor's other schedules, :class:`rlfloor.schedules.RunProgress`);
with ``normalize=True`` the bonus is divided by a running standard deviation of the discounted intrinsic
returns (Burda et al. 2018, section 2.4).

Episodic or not. With ``episodic=True`` (default) the bonus is part of one reward, cut at episode
ends like the extrinsic one, and the policy's single value head learns the sum. With
``episodic=False`` the intrinsic return runs on across episode ends (Burda et al.'s
non-episodic intrinsic return), which one value head cannot learn together with an episodic
extrinsic return: a second critic, owned by this callback and trained on the intrinsic
returns, provides the intrinsic values; the policy's value head learns the extrinsic returns
only; the advantages are the sum of the two GAEs (each computed by SB3's code).

State (count tables, RND networks and normalizers, the return normalizer, the intrinsic critic)
lives in an :class:`IntrinsicState` stored as the model attribute ``intrinsic_state``, which SB3
pickles with ``model.save()`` and restores with ``load()``; a new callback given a loaded model
continues with it.

TensorBoard tags (per rollout): ``intrinsic/reward_raw`` (mean bonus before normalization),
``intrinsic/reward`` (after normalization, before ``coef``), ``intrinsic/coef``,
``intrinsic/share`` (``sum|coef*r_int| / (sum|ext_coef*r_ext| + sum|coef*r_int|)``),
``intrinsic/predictor_loss`` (RND), ``intrinsic/distinct_states`` (count bonuses: table entries or
non-empty SimHash buckets), ``intrinsic/coverage`` (exact counts of a space of known size:
fraction of its states seen) and ``intrinsic/critic_loss`` (``episodic=False``). Episodic novelty
(:mod:`rlfloor.intrinsic.episodic`) adds ``intrinsic/episode_states`` (episodic counts: mean size of the env copies'
current episode tables), ``intrinsic/first_visit`` (episodic counts and NovelD: fraction of steps that reached a
state new to their episode), ``intrinsic/predictor_loss`` (NovelD's RND), ``intrinsic/inverse_dynamics_loss`` and
``intrinsic/inverse_dynamics_accuracy`` (E3B's embedding training).

The bonus of a step is that of its next observation ``s_{t+1}``; episodic methods also read ``s_t`` (recorded as
the env returned it, like ``s_{t+1}``), the action, and SB3's ``episode_starts``, which say where each env copy's
episode memory is cleared.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecNormalize

from rlfloor.checks import check_choice, check_int, check_number
from rlfloor.intrinsic.counts import SimHashCounter, check_exact_space, check_integer_values, exact_counter
from rlfloor.intrinsic.episodic import E3B, EpisodicCounts, NovelD, Rollout
from rlfloor.intrinsic.rnd import RND, check_rnd_space, embedding_network
from rlfloor.schedules import LinearSchedule, RunProgress, as_schedule, check_schedule
from rlfloor.stats.coverage import StateVisitCounter

METHODS = ("count", "simhash", "rnd", "episodic-count", "noveld", "e3b")
EPISODIC_METHODS = ("episodic-count", "noveld", "e3b")
"""Methods whose memory is one episode of one env copy (:mod:`rlfloor.intrinsic.episodic`)."""
NORMALIZE = (False, True, "returns", "rewards")
SNAP_TO_INTEGER = 1e-5
"""A terminal observation mapped back from ``VecNormalize`` takes integer values within this distance as exact."""

_RND_KWARGS = ("embedding_dim", "hidden", "learning_rate", "epochs", "batch_size", "update_proportion", "seed")
_METHOD_KWARGS = {
    "count": ("max_states", "n_states"),
    "simhash": ("bits", "seed"),
    "rnd": _RND_KWARGS,
    "episodic-count": ("max_states", "obs_key"),
    "noveld": ("alpha", "max_states", "obs_key", *_RND_KWARGS),
    "e3b": ("embedding_dim", "hidden", "ridge", "learning_rate", "epochs", "batch_size", "seed"),
}


def _positive(name: str, value: Any) -> Any:
    return check_number(name, value, 0.0, low_open=True)


def _callable_or_none(name: str, value: Any) -> Any:
    if value is not None and not callable(value):
        raise ValueError(f"{name}={value!r} must be None or a function from a batch of observations to rows")
    return value


_KWARG_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "max_states": lambda n, v: check_int(n, v, 1),
    "n_states": lambda n, v: v if v is None else check_int(n, v, 1),
    "bits": lambda n, v: check_int(n, v, 1, 24),
    "seed": lambda n, v: check_int(n, v, 0),
    "embedding_dim": lambda n, v: check_int(n, v, 1),
    "hidden": lambda n, v: check_int(n, v, 1),
    "learning_rate": _positive,
    "epochs": lambda n, v: check_int(n, v, 1),
    "batch_size": lambda n, v: v if v is None else check_int(n, v, 1),  # None: E3B's one step per rollout
    "update_proportion": lambda n, v: check_number(n, v, 0.0, 1.0, low_open=True),
    "alpha": lambda n, v: check_number(n, v, 0.0),
    "ridge": _positive,
    "obs_key": _callable_or_none,
}
"""The value check of every ``method_kwargs`` name, run when the callback is built (before any env exists)."""


def check_method_kwargs(method: str, method_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Raise a one-line ``ValueError`` for an unknown name or a bad value in ``method_kwargs``; return a copy."""
    check_choice("method", method, METHODS)
    kwargs = dict(method_kwargs or {})
    unknown = set(kwargs) - set(_METHOD_KWARGS[method])
    if unknown:
        raise ValueError(
            f"method_kwargs {sorted(unknown)} are not accepted by {method!r}; allowed: {list(_METHOD_KWARGS[method])}"
        )
    for name, value in kwargs.items():
        _KWARG_CHECKS[name](f"method_kwargs[{name!r}]", value)
    return kwargs


Novelty = SimHashCounter | StateVisitCounter | RND | EpisodicCounts | NovelD | E3B


def check_observation_space(method: str, space: spaces.Space, method_kwargs: Mapping[str, Any] | None = None) -> None:
    """Raise a one-line ``ValueError`` unless ``method`` supports the observation space."""
    check_choice("method", method, METHODS)
    if method == "count":
        check_exact_space(space)
    elif method == "simhash":
        if not isinstance(space, spaces.Box | spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
            raise ValueError(f"observation space {type(space).__name__} is not supported by SimHash")
    elif method == "episodic-count":
        if (method_kwargs or {}).get("obs_key") is None:
            check_exact_space(space)
    else:
        check_rnd_space(space)
        if method == "noveld" and (method_kwargs or {}).get("obs_key") is None:
            check_exact_space(space)


def make_novelty(
    method: str,
    space: spaces.Space,
    method_kwargs: Mapping[str, Any] | None = None,
    action_space: spaces.Space | None = None,
) -> Novelty:
    """The novelty estimator of ``method`` for an observation space (``e3b`` also needs the action space)."""
    kwargs = check_method_kwargs(method, method_kwargs)
    check_observation_space(method, space, kwargs)
    if method == "count":
        return exact_counter(space, **kwargs)
    if method == "simhash":
        return SimHashCounter(space, **kwargs)
    if method == "rnd":
        return RND(space, **kwargs)
    if method == "episodic-count":
        return EpisodicCounts(space, **kwargs)
    if method == "noveld":
        return NovelD(space, **kwargs)
    if action_space is None:
        raise ValueError("method 'e3b' needs the action space (its embedding is trained by inverse dynamics)")
    return E3B(space, action_space, **kwargs)


_BUILDERS: dict[str, Callable[..., Novelty]] = {
    "count": exact_counter,
    "simhash": SimHashCounter,
    "rnd": RND,
    "episodic-count": EpisodicCounts,
    "noveld": NovelD,
    "e3b": E3B,
}
"""The function or class that builds each method's estimator (its defaults are the settings not given)."""


def novelty_settings(method: str, method_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings an estimator of ``method`` is built with: ``method_kwargs`` over the builder's defaults
    (saved with the state, so that a model is continued only with the settings it was trained with)."""
    kwargs = check_method_kwargs(method, method_kwargs)
    parameters = inspect.signature(_BUILDERS[method]).parameters
    settings = {
        name: parameters[name].default
        for name in _METHOD_KWARGS[method]
        if name in parameters and parameters[name].default is not inspect.Parameter.empty
    }
    settings.update(kwargs)
    return settings


def _setting_text(value: Any) -> Any:
    """A setting as compared and shown: functions by their dotted name (they do not compare equal once pickled)."""
    return f"{value.__module__}.{value.__qualname__}" if callable(value) else value


def check_same_settings(method: str, saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """Raise a one-line ``ValueError`` if a saved estimator's settings differ from those asked for (continuing
    a 16-bit SimHash table with ``bits=8`` would silently keep the 16-bit table)."""
    differ = sorted(k for k in saved.keys() & wanted.keys() if _setting_text(saved[k]) != _setting_text(wanted[k]))
    if differ:
        was = ", ".join(f"{k}={_setting_text(saved[k])!r}" for k in differ)
        asked = ", ".join(f"{k}={_setting_text(wanted[k])!r}" for k in differ)
        raise ValueError(
            f"the model's saved {method!r} state was built with {was}; this callback asks for {asked}: continue "
            "with the saved settings, or train a fresh model for new ones"
        )


def _saved_settings(state: IntrinsicState, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a saved state; for one saved before they were recorded, the estimator's attributes of
    the same names (numbers only, and only for settings asked for explicitly, not ``None``)."""
    recorded = getattr(state, "settings", None)
    if isinstance(recorded, dict):
        return recorded
    return {
        key: getattr(state.novelty, key)
        for key, value in wanted.items()
        if value is not None
        and isinstance(getattr(state.novelty, key, None), int | float)
        and not isinstance(getattr(state.novelty, key), bool)
    }


class IntrinsicCritic:
    """A value network for the non-episodic intrinsic return (the "second head" of Burda et al.).

    :param observation_space: the environment's observation space.
    :param hidden: hidden width (same architecture family as RND: MLP or small CNN).
    :param learning_rate: Adam learning rate.
    :param epochs: passes over each rollout.
    :param batch_size: minibatch size.
    :param seed: seed of the initialisation.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        hidden: int = 64,
        learning_rate: float = 1e-3,
        epochs: int = 4,
        batch_size: int = 64,
        seed: int = 0,
    ) -> None:
        self.observation_space = observation_space
        state = th.random.get_rng_state()
        th.manual_seed(check_int("seed", seed, 0))
        self.net = embedding_network(observation_space, 1, check_int("hidden", hidden, 1))
        th.random.set_rng_state(state)
        self.optimizer = th.optim.Adam(
            self.net.parameters(), lr=check_number("learning_rate", learning_rate, 0.0, low_open=True)
        )
        self.epochs = check_int("epochs", epochs, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self._rng = np.random.default_rng(seed)

    def _inputs(self, obs: NDArray[np.generic]) -> th.Tensor:
        tensor = preprocess_obs(th.as_tensor(np.asarray(obs)), self.observation_space)
        assert isinstance(tensor, th.Tensor)
        return tensor

    def values(self, obs: NDArray[np.generic]) -> NDArray[np.float32]:
        """Predicted intrinsic value of each observation."""
        with th.no_grad():
            return self.net(self._inputs(obs)).reshape(-1).numpy().astype(np.float32)

    def train(self, obs: NDArray[np.generic], returns: NDArray[np.floating]) -> float:
        """Regress the values on the intrinsic returns; return the mean loss of the last epoch."""
        x = self._inputs(obs)
        y = th.as_tensor(np.asarray(returns, dtype=np.float32).reshape(-1))
        losses: list[float] = []
        for _ in range(self.epochs):
            losses = []
            order = self._rng.permutation(len(x))
            for start in range(0, len(x), self.batch_size):
                index = th.as_tensor(order[start : start + self.batch_size])
                loss = (self.net(x[index]).reshape(-1) - y[index]).pow(2).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
        return float(np.mean(losses))


class IntrinsicState:
    """Everything an intrinsic bonus learns during training; saved with the model as ``model.intrinsic_state``.

    :param method: one of :data:`METHODS`.
    :param novelty: the count table, RND networks, or episodic estimator (with its per-env episodic memory).
    :param critic: the intrinsic critic (non-episodic returns only).
    """

    def __init__(self, method: str, novelty: Novelty, critic: IntrinsicCritic | None = None) -> None:
        self.method = method
        self.novelty = novelty
        self.critic = critic
        self.return_rms = RunningMeanStd(shape=())
        """Running variance of the discounted intrinsic returns (reward normalization)."""
        self.forward_returns: NDArray[np.float64] | None = None
        """Per-env discounted sum of past intrinsic rewards (Burda et al.'s ``RewardForwardFilter``)."""
        self.reward_rms = RunningMeanStd(shape=())
        """Running variance of the raw intrinsic rewards (``normalize="rewards"``)."""
        self.settings: dict[str, Any] | None = None
        """The estimator's settings (:func:`novelty_settings`), checked when the model is continued."""

    def bonus(self, rollout: Rollout) -> tuple[NDArray[np.float64], dict[str, float]]:
        """Raw bonus of each step, shape ``(n_steps, n_envs)``, updating counts, networks and memories; and metrics."""
        novelty = self.novelty
        if isinstance(novelty, EpisodicCounts | NovelD | E3B):
            return novelty.bonus(rollout)
        n_steps, n_envs = rollout.shape
        next_obs = rollout.next_obs.reshape(n_steps * n_envs, *rollout.next_obs.shape[2:])
        if isinstance(novelty, RND):
            novelty.update_normalizer(next_obs)
            raw = novelty.novelty(next_obs)
            return raw.reshape(n_steps, n_envs), {"predictor_loss": novelty.train(next_obs)}
        if isinstance(novelty, StateVisitCounter):
            check_integer_values(next_obs)
        counts = novelty.update(next_obs)
        metrics: dict[str, float] = {"distinct_states": float(novelty.distinct)}
        if isinstance(novelty, StateVisitCounter):
            coverage = novelty.coverage()
            if coverage is not None:
                metrics["coverage"] = coverage
        return (1.0 / np.sqrt(counts)).reshape(n_steps, n_envs), metrics

    def normalize(self, raw: NDArray[np.float64], gamma: float) -> NDArray[np.float64]:
        """Divide ``raw`` (shape ``(n_steps, n_envs)``) by the running std of the discounted intrinsic returns."""
        n_envs = raw.shape[1]
        if self.forward_returns is None or len(self.forward_returns) != n_envs:
            self.forward_returns = np.zeros(n_envs)
        returns = np.empty_like(raw)
        for t in range(len(raw)):
            self.forward_returns = self.forward_returns * gamma + raw[t]
            returns[t] = self.forward_returns
        self.return_rms.update(returns.reshape(-1))
        return raw / np.sqrt(self.return_rms.var + 1e-8)

    def normalize_rewards(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Divide ``raw`` by the running std of the raw intrinsic rewards (E3B's ``--reward_norm int``)."""
        if getattr(self, "reward_rms", None) is None:  # a state saved before this normalizer existed
            self.reward_rms = RunningMeanStd(shape=())
        self.reward_rms.update(raw.reshape(-1))
        return raw / np.sqrt(self.reward_rms.var + 1e-8)


def _as_coef(value: Any) -> Callable[[float], float]:
    if isinstance(value, list | tuple):
        if len(value) not in (2, 3):
            raise ValueError(f"coef={value!r} must be a number, a schedule or (start, end[, end_fraction])")
        value = LinearSchedule(*(check_number("coef", v) for v in value))
    if not callable(value):
        check_number("coef", value, 0.0)
    schedule = as_schedule(value)
    check_schedule("coef", schedule, 0.0)  # over the whole run, before training
    return schedule


class IntrinsicRewardCallback(BaseCallback):
    """Add an intrinsic bonus to the rollout's rewards and recompute SB3's GAE (see the module docstring).

    :param method: lifelong novelty: ``"count"`` (exact counts, ``coef / sqrt(N(s))``), ``"simhash"`` (SimHash
        pseudo-counts) or ``"rnd"`` (Random Network Distillation); episodic novelty
        (:mod:`rlfloor.intrinsic.episodic`): ``"episodic-count"`` (``coef / sqrt(N_episode(s'))``),
        ``"noveld"`` or ``"e3b"``.
    :param coef: the intrinsic coefficient (``beta`` of the count bonus): a number >= 0, a schedule
        of ``progress_remaining`` (:mod:`rlfloor.schedules`), or ``(start, end[, end_fraction])``: annealed
        linearly from ``start`` to ``end`` over the first ``end_fraction`` of training (default 1).
    :param ext_coef: the extrinsic coefficient (>= 0).
    :param normalize: ``True`` or ``"returns"``: divide the bonus by a running std of discounted intrinsic
        returns (Burda et al. 2018); ``"rewards"``: by a running std of the raw bonus (E3B's ``--reward_norm
        int``); ``False``: raw. Default: ``True`` for RND, ``"rewards"`` for E3B, ``False`` for counts (whose
        ``1/sqrt(N)`` already has a meaningful scale) and NovelD (which scales its raw bonus by ``coef``).
    :param episodic: cut the intrinsic return at episode ends (one value head); ``False`` runs it on
        across episodes with a second critic owned by this callback.
    :param method_kwargs: arguments of the novelty estimator (``max_states``, ``n_states``; ``bits``, ``seed``;
        RND's ``embedding_dim``, ``hidden``, ``learning_rate``, ``epochs``, ``batch_size``,
        ``update_proportion``, ``seed``; those of :class:`~rlfloor.intrinsic.episodic.EpisodicCounts`,
        :class:`~rlfloor.intrinsic.episodic.NovelD` and :class:`~rlfloor.intrinsic.episodic.E3B`).
    :param critic_kwargs: arguments of :class:`IntrinsicCritic` (``episodic=False`` only).
    :param verbose: SB3 verbosity.
    """

    def __init__(
        self,
        method: str = "count",
        coef: Any = 0.1,
        ext_coef: float = 1.0,
        normalize: bool | str | None = None,
        episodic: bool = True,
        method_kwargs: Mapping[str, Any] | None = None,
        critic_kwargs: Mapping[str, Any] | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        self.method = check_choice("method", method, METHODS)
        self.coef = _as_coef(coef)
        self.ext_coef = check_number("ext_coef", ext_coef, 0.0)
        if not (normalize is None or isinstance(normalize, bool) or normalize in ("returns", "rewards")):
            raise ValueError(f"normalize={normalize!r} must be None or one of {list(NORMALIZE)}")
        if normalize is None:
            normalize = {"rnd": "returns", "e3b": "rewards"}.get(method, False)
        self.normalize: str | bool = "returns" if normalize is True else normalize
        if not isinstance(episodic, bool):
            raise ValueError(f"episodic={episodic!r} must be True or False")
        self.episodic = episodic
        self.method_kwargs = check_method_kwargs(method, method_kwargs)
        self.critic_kwargs = dict(critic_kwargs or {})
        allowed_critic = {"hidden", "learning_rate", "epochs", "batch_size", "seed"}
        if set(self.critic_kwargs) - allowed_critic:
            raise ValueError(
                f"critic_kwargs {sorted(set(self.critic_kwargs) - allowed_critic)} not in {sorted(allowed_critic)}"
            )
        self.state: IntrinsicState | None = None
        self.progress = RunProgress()
        self._progress = 1.0  # of the rollout being collected
        self._next_obs: NDArray[np.generic] | None = None
        self._obs: NDArray[np.generic] | None = None
        """``s_t`` of every step and the observation after the last one: ``(n_steps + 1, n_envs, ...)``."""
        self._first_obs: NDArray[np.generic] | None = None
        self._ext: NDArray[np.float32] | None = None
        self._step = 0
        self._obs_normalizer: VecNormalize | None = None
        """The training env's ``VecNormalize`` when it normalizes observations (they are mapped back)."""

    # -- set-up --------------------------------------------------------------------------------
    def check_space(self, observation_space: spaces.Space) -> None:
        """Raise ``ValueError`` now (before any training) if the method cannot handle the space."""
        check_observation_space(self.method, observation_space, self.method_kwargs)

    def _init_callback(self) -> None:
        model = self.model
        if not isinstance(model, OnPolicyAlgorithm):
            raise ValueError(
                f"IntrinsicRewardCallback needs an on-policy algorithm (PPO, A2C, MaskablePPO), got "
                f"{type(model).__name__}"
            )
        space = model.observation_space
        self.check_space(space)
        state = getattr(model, "intrinsic_state", None)
        seed = 0 if model.seed is None else int(model.seed)
        kwargs = dict(self.method_kwargs)
        if "seed" in _METHOD_KWARGS[self.method]:
            kwargs.setdefault("seed", seed)
        wanted = novelty_settings(self.method, kwargs)
        if (
            isinstance(state, IntrinsicState)
            and state.method == self.method
            and (state.critic is None) == self.episodic
        ):
            check_same_settings(self.method, _saved_settings(state, wanted), wanted)  # continued as saved, or refused
        else:
            critic = None if self.episodic else IntrinsicCritic(space, **{"seed": seed, **self.critic_kwargs})
            novelty = make_novelty(self.method, space, kwargs, model.action_space)
            state = IntrinsicState(self.method, novelty, critic)
            state.settings = wanted
            model.intrinsic_state = state  # type: ignore[attr-defined]  # pickled by model.save()
        self.state = state
        normalizer = model.get_vec_normalize_env()
        self._obs_normalizer = normalizer if normalizer is not None and normalizer.norm_obs else None

    def _raw_terminal(self, terminal: Any, dtype: np.dtype[Any]) -> Any:
        """The env's own terminal observation, from the one ``VecNormalize`` put in ``infos``."""
        assert self._obs_normalizer is not None
        raw = np.asarray(self._obs_normalizer.unnormalize_obs(terminal), dtype=np.float64)
        nearest = np.rint(raw)
        exact = self.method in ("count", "episodic-count", "noveld")
        if exact or np.issubdtype(dtype, np.integer) or dtype == np.bool_:
            return nearest  # exact counts key integer values (their space is checked)
        # Undo the float32 round trip's error on integer values (a zero vector must stay on SimHash's
        # hyperplanes); any other value keeps its reconstruction.
        return np.where(np.abs(raw - nearest) <= SNAP_TO_INTEGER, nearest, raw)

    # -- per step ------------------------------------------------------------------------------
    def _on_training_start(self) -> None:
        self.progress.begin(self.model, self.locals)

    def _on_rollout_start(self) -> None:
        self._step = 0
        model = cast(OnPolicyAlgorithm, self.model)
        normalizer = self._obs_normalizer
        self._first_obs = np.array(model._last_obs if normalizer is None else normalizer.get_original_obs(), copy=True)
        self._progress = self.progress.at(self.model.num_timesteps)

    def _on_step(self) -> bool:
        normalizer = self._obs_normalizer
        new_obs = np.asarray(self.locals["new_obs"] if normalizer is None else normalizer.get_original_obs())
        if self._next_obs is None or self._next_obs.shape[1:] != new_obs.shape or self._next_obs.dtype != new_obs.dtype:
            n_steps = cast(OnPolicyAlgorithm, self.model).rollout_buffer.buffer_size
            self._next_obs = np.empty((n_steps, *new_obs.shape), dtype=new_obs.dtype)
            self._obs = np.empty((n_steps + 1, *new_obs.shape), dtype=new_obs.dtype)
            self._ext = np.empty((n_steps, len(new_obs)), dtype=np.float32)
        assert self._ext is not None and self._obs is not None
        if self._step == 0:
            assert self._first_obs is not None
            self._obs[0] = self._first_obs
        self._obs[self._step + 1] = new_obs  # after a done: the first observation of the next episode
        row = self._next_obs[self._step]
        row[:] = new_obs
        for index, done in enumerate(self.locals["dones"]):
            if done:
                terminal = self.locals["infos"][index].get("terminal_observation")
                if terminal is not None:
                    row[index] = terminal if normalizer is None else self._raw_terminal(terminal, row.dtype)
        # Copied before SB3 adds gamma * V(terminal) to the rewards of truncated episodes (in place).
        self._ext[self._step] = self.locals["rewards"]
        self._step += 1
        return True

    # -- end of rollout ------------------------------------------------------------------------
    def _on_rollout_end(self) -> None:
        assert self.state is not None and self._next_obs is not None and self._ext is not None
        assert self._obs is not None
        model = cast(OnPolicyAlgorithm, self.model)
        buffer: RolloutBuffer = model.rollout_buffer
        n_steps = buffer.buffer_size
        if self._step != n_steps:
            raise RuntimeError(f"IntrinsicRewardCallback saw {self._step} steps of a {n_steps}-step rollout")
        rollout = Rollout(
            obs=self._obs[:-1],
            next_obs=self._next_obs,
            actions=buffer.actions,
            episode_starts=np.asarray(buffer.episode_starts, dtype=bool),
        )
        raw, metrics = self.state.bonus(rollout)
        if self.normalize == "returns":
            scaled = self.state.normalize(raw, buffer.gamma)
        elif self.normalize == "rewards":
            scaled = self.state.normalize_rewards(raw)
        else:
            scaled = raw
        coef = float(self.coef(self._progress))
        if coef < 0 or not np.isfinite(coef):
            raise ValueError(f"the intrinsic coefficient schedule gave coef={coef!r}; it must be a finite number >= 0")
        intrinsic = (coef * scaled).astype(np.float32)
        extrinsic = self._ext
        bootstrap = buffer.rewards - extrinsic  # SB3's gamma * V(terminal) on truncated steps, 0 elsewhere
        ext_rewards = (self.ext_coef * extrinsic + bootstrap).astype(np.float32)
        last_obs = model._last_obs
        dones = np.asarray(model._last_episode_starts)
        with th.no_grad():
            last_values = model.policy.predict_values(obs_as_tensor(last_obs, model.device))  # type: ignore[arg-type]
        if self.episodic:
            buffer.rewards = ext_rewards + intrinsic
            buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
        else:
            self._two_critics(buffer, ext_rewards, intrinsic, last_values, dones, metrics)

        total_ext = float(np.abs(self.ext_coef * extrinsic).sum())
        total_int = float(np.abs(intrinsic).sum())
        self.logger.record("intrinsic/reward_raw", float(raw.mean()))
        self.logger.record("intrinsic/reward", float(scaled.mean()))
        self.logger.record("intrinsic/coef", coef)
        self.logger.record("intrinsic/share", total_int / (total_ext + total_int) if total_ext + total_int > 0 else 0.0)
        for key, value in metrics.items():
            self.logger.record(f"intrinsic/{key}", value)

    def _two_critics(
        self,
        buffer: RolloutBuffer,
        ext_rewards: NDArray[np.float32],
        intrinsic: NDArray[np.float32],
        last_values: th.Tensor,
        dones: NDArray[Any],
        metrics: dict[str, float],
    ) -> None:
        """Extrinsic GAE with the policy's values and episode ends, intrinsic GAE with the intrinsic critic
        and no episode ends; advantages add, the policy's value head keeps the extrinsic returns."""
        critic = self.state.critic if self.state is not None else None
        assert critic is not None
        n_steps, n_envs = buffer.buffer_size, buffer.n_envs
        buffer.rewards = ext_rewards
        buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
        ext_advantages, ext_returns = buffer.advantages.copy(), buffer.returns.copy()

        obs = buffer.observations.reshape(n_steps * n_envs, *buffer.observations.shape[2:])
        int_values = critic.values(obs).reshape(n_steps, n_envs)
        last_int = th.as_tensor(critic.values(np.asarray(self.model._last_obs)))
        saved_values, saved_starts = buffer.values, buffer.episode_starts
        buffer.rewards, buffer.values = intrinsic, int_values
        buffer.episode_starts = np.zeros_like(saved_starts)
        try:
            buffer.compute_returns_and_advantage(last_values=last_int, dones=np.zeros(n_envs, dtype=bool))
            int_advantages, int_returns = buffer.advantages.copy(), buffer.returns.copy()
        finally:
            buffer.values, buffer.episode_starts = saved_values, saved_starts
        buffer.rewards = ext_rewards + intrinsic
        buffer.advantages = ext_advantages + int_advantages
        buffer.returns = ext_returns
        metrics["critic_loss"] = critic.train(obs, int_returns.reshape(-1))


__all__ = [
    "EPISODIC_METHODS",
    "METHODS",
    "NORMALIZE",
    "IntrinsicCritic",
    "IntrinsicRewardCallback",
    "IntrinsicState",
    "Novelty",
    "check_method_kwargs",
    "check_observation_space",
    "make_novelty",
]
