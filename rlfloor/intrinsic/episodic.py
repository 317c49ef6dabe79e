"""Episodic novelty: bonuses whose memory is one episode of one env copy (episodic counts, NovelD, E3B).

In procedurally generated worlds (MiniGrid, MiniHack, Procgen) every episode is a new layout, and what makes a
bonus work is its episodic part: Henaff et al. (2022, "Exploration via Elliptical Episodic Bonuses",
arXiv:2210.05805) find that RIDE, AGAC and NovelD work on such tasks because of their episodic count term.

All three estimators read one rollout, a :class:`Rollout`: for every step ``t`` and env copy ``e`` the observation
``s_t`` the action was taken in, the next observation ``s_{t+1}`` (the true terminal observation where the
episode ended), the action, and SB3's ``episode_starts`` flag (``s_t`` is the first observation of its episode).
Each env copy has its own episodic memory. It is cleared exactly where that env copy's episode starts, and the
episode's first observation ``s_0`` enters it first (the initial state counts, as in the count code of
facebookresearch/e3b, ``minihack/torchbeast/src/utils.py``); then, step by step, the bonus of ``s_{t+1}`` is read
against the memory of ``s_0 .. s_t`` and ``s_{t+1}`` is added. The memory runs on across rollouts (an episode
may span several) and is saved with the model.

* :class:`EpisodicCounts`: ``1 / sqrt(N_episode(s_{t+1}))``, ``N_episode`` counting ``s_0 .. s_{t+1}``; the
  callback multiplies it by ``beta``.
* :class:`NovelD` (Zhang et al. 2021, "NovelD: A Simple yet Effective Exploration Criterion", arXiv:2012.02780;
  code tianjunz/NovelD, ``src/algos/bebold.py``): ``max(N(s_{t+1}) - alpha * N(s_t), 0) *
  1[N_episode(s_{t+1}) == 1]`` with ``N`` the RND novelty as NovelD computes it, the L2 norm of the predictor's
  error, and ``alpha = 0.5`` (``--scale_fac`` 0.5, ``src/arguments.py``).
* :class:`E3B` (Henaff et al. 2022; code facebookresearch/e3b, ``minihack/torchbeast/src/utils.py``):
  ``phi(s_{t+1})^T C_t^{-1} phi(s_{t+1})`` with ``C_t = lambda I + sum phi phi^T`` over the episode's embeddings so
  far, ``C^{-1}`` kept per env copy by Sherman-Morrison rank-one updates (:func:`sherman_morrison`), ``lambda``
  (``--ridge``) 0.1; ``phi`` is an encoder trained with an inverse-dynamics head (predict ``a_t`` from
  ``phi(s_t), phi(s_{t+1})``) on every rollout.

Counts key the observation itself by default; ``obs_key`` (a function from a batch of observations to one row per
observation) keys them on part of it, e.g. the agent's position; it is saved with the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3.common.preprocessing import preprocess_obs
from torch import nn

from rlfloor.checks import check_int, check_number
from rlfloor.intrinsic.counts import check_exact_space
from rlfloor.intrinsic.rnd import RND, check_rnd_space, embedding_network
from rlfloor.stats.coverage import StateVisitCounter, state_keys

ObsKey = Callable[[NDArray[Any]], NDArray[Any]]
"""Maps a batch of observations ``(n, *obs_shape)`` to ``n`` rows that identify the counted state."""


@dataclass
class Rollout:
    """One rollout as the episodic estimators read it (leading axes ``(n_steps, n_envs)``).

    :param obs: ``s_t``, the observation each action was taken in (the env's own, not ``VecNormalize``'s).
    :param next_obs: ``s_{t+1}``, the true terminal observation where the episode ended.
    :param actions: ``a_t`` as SB3's rollout buffer holds them.
    :param episode_starts: ``s_t`` is the first observation of its episode (SB3's ``episode_starts``).
    """

    obs: NDArray[Any]
    next_obs: NDArray[Any]
    actions: NDArray[Any]
    episode_starts: NDArray[np.bool_]

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_steps, n_envs)``."""
        return int(self.episode_starts.shape[0]), int(self.episode_starts.shape[1])


def _check_obs_key(obs_key: Any) -> ObsKey | None:
    if obs_key is not None and not callable(obs_key):
        raise ValueError(f"obs_key={obs_key!r} must be None or a function from a batch of observations to rows")
    return obs_key


class EpisodicCounts:
    """Per-env episodic visit counts, cleared at each env copy's episode start; bonus ``1 / sqrt(N_episode(s'))``.

    Each env copy's table is a :class:`rlfloor.stats.coverage.StateVisitCounter` (the package's one state counter).

    :param observation_space: the environment's observation space (integer-valued, see
        :func:`rlfloor.intrinsic.counts.check_exact_space`, unless ``obs_key`` is given).
    :param max_states: capacity of one episode's table (states beyond it count as seen once).
    :param obs_key: keys the counts on part of the observation (see the module docstring); ``None``: all of it.
    """

    def __init__(self, observation_space: spaces.Space, max_states: int = 4096, obs_key: ObsKey | None = None):
        self.obs_key = _check_obs_key(obs_key)
        if self.obs_key is None:
            check_exact_space(observation_space)
        self.observation_space = observation_space
        self.max_states = check_int("max_states", max_states, 1)
        self.tables: list[StateVisitCounter] = []

    def _keys(self, obs: NDArray[Any]) -> list[int]:
        rows = obs if self.obs_key is None else np.asarray(self.obs_key(obs))
        if len(rows) != len(obs):
            raise ValueError(f"obs_key returned {len(rows)} rows for {len(obs)} observations")
        return state_keys(rows)

    def counts(self, rollout: Rollout) -> NDArray[np.float64]:
        """``N_episode(s_{t+1})`` of every step, counting ``s_0 .. s_{t+1}`` of its episode; updates the tables."""
        n_steps, n_envs = rollout.shape
        if len(self.tables) != n_envs:
            self.tables = [StateVisitCounter(self.max_states) for _ in range(n_envs)]
            starts = rollout.episode_starts.copy()
            starts[0] = True  # a new set of env copies: their episodes start now
        else:
            starts = rollout.episode_starts
        flat = rollout.next_obs.reshape(n_steps * n_envs, *rollout.next_obs.shape[2:])
        next_keys = self._keys(flat)
        start_rows = np.argwhere(starts)
        start_keys = dict(
            zip(
                map(tuple, start_rows.tolist()),
                self._keys(rollout.obs[start_rows[:, 0], start_rows[:, 1]]) if len(start_rows) else [],
                strict=True,
            )
        )
        counts = np.empty((n_steps, n_envs))
        tables = self.tables
        for t in range(n_steps):
            row = starts[t]
            for e in range(n_envs):
                table = tables[e]
                if row[e]:
                    table.clear()
                    table.add_key(start_keys[(t, e)])
                counts[t, e] = table.add_key(next_keys[t * n_envs + e])
        return counts

    def bonus(self, rollout: Rollout) -> tuple[NDArray[np.float64], dict[str, float]]:
        """``1 / sqrt(N_episode(s_{t+1}))`` of every step, and metrics."""
        counts = self.counts(rollout)
        return 1.0 / np.sqrt(counts), {
            "episode_states": float(np.mean([table.distinct for table in self.tables])),
            "first_visit": float(np.mean(counts == 1)),
        }


class NovelD:
    """NovelD: RND novelty difference, clipped at 0, given only on a state's first visit in the episode.

    :param observation_space: the environment's observation space (RND's, :func:`check_rnd_space`; integer-valued
        for the episodic counts unless ``obs_key`` is given).
    :param alpha: NovelD's scaling factor of the current state's novelty (paper and ``--scale_fac``: 0.5).
    :param max_states: capacity of one episode's count table.
    :param obs_key: keys the first-visit counts on part of the observation (module docstring).
    :param embedding_dim: RND output size (NovelD's MiniGrid RND nets end in 128 units, ``src/models.py``).
    :param hidden: hidden width of the RND networks.
    :param learning_rate: RND predictor's Adam learning rate (NovelD ``--predictor_learning_rate`` 1e-4).
    :param epochs: passes of predictor training over each rollout.
    :param batch_size: minibatch size of predictor training; ``None`` (default): one step on the whole rollout,
        as NovelD takes one predictor step per learner batch (``rnd_loss`` in ``bebold.py``'s ``learn()``).
    :param update_proportion: fraction of each minibatch the predictor trains on.
    :param seed: seed of the RND networks.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        alpha: float = 0.5,
        max_states: int = 4096,
        obs_key: ObsKey | None = None,
        embedding_dim: int = 128,
        hidden: int = 64,
        learning_rate: float = 1e-4,
        epochs: int = 1,
        batch_size: int | None = None,
        update_proportion: float = 1.0,
        seed: int = 0,
    ) -> None:
        check_rnd_space(observation_space)
        self.alpha = check_number("alpha", alpha, 0.0)
        self.episodic = EpisodicCounts(observation_space, max_states, obs_key)
        self.rnd = RND(
            observation_space,
            embedding_dim=embedding_dim,
            hidden=hidden,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            update_proportion=update_proportion,
            seed=seed,
        )

    def novelty(self, obs: NDArray[Any]) -> NDArray[np.float64]:
        """NovelD's ``N(s)``: the L2 norm of RND's prediction error (``bebold.py``: ``torch.norm(..., p=2)``)."""
        return np.sqrt(self.rnd.novelty(obs) * self.rnd.embedding_dim)

    def bonus(self, rollout: Rollout) -> tuple[NDArray[np.float64], dict[str, float]]:
        """``max(N(s') - alpha N(s), 0) * 1[first visit of s' in the episode]`` of every step; trains the predictor."""
        n_steps, n_envs = rollout.shape
        flat_next = rollout.next_obs.reshape(n_steps * n_envs, *rollout.next_obs.shape[2:])
        first = self.episodic.counts(rollout) == 1
        self.rnd.update_normalizer(flat_next)
        novelty_next = self.novelty(flat_next).reshape(n_steps, n_envs)
        # N(s_t) is N(s_t) of the previous step's next observation, except at episode starts and at t = 0.
        novelty_obs = np.empty_like(novelty_next)
        novelty_obs[1:] = novelty_next[:-1]
        fresh = rollout.episode_starts.copy()
        fresh[0] = True
        rows = np.argwhere(fresh)
        novelty_obs[rows[:, 0], rows[:, 1]] = self.novelty(rollout.obs[rows[:, 0], rows[:, 1]])
        raw = np.maximum(novelty_next - self.alpha * novelty_obs, 0.0) * first
        loss = self.rnd.train(flat_next)
        return raw, {"predictor_loss": loss, "first_visit": float(first.mean())}


def sherman_morrison(inverse: NDArray[np.float64], phi: NDArray[np.float64]) -> NDArray[np.float64]:
    """Add ``phi phi^T`` to each matrix ``C`` whose inverse is in ``inverse`` (in place); return ``phi^T C^{-1} phi``.

    The returned bonus uses ``C`` before the update. ``inverse`` has shape ``(n, d, d)`` (symmetric), ``phi``
    ``(n, d)``. With ``u = C^{-1} phi`` and ``b = phi^T u``: ``(C + phi phi^T)^{-1} = C^{-1} - u u^T / (1 + b)``
    (Sherman & Morrison 1950), written as ``v v^T`` with ``v = u / sqrt(1 + b)``.
    """
    u = np.matmul(inverse, phi[:, :, None])[:, :, 0]
    b = np.einsum("nd,nd->n", phi, u)
    v = u / np.sqrt(1.0 + b)[:, None]
    inverse -= v[:, :, None] * v[:, None, :]
    return b


class E3B:
    """E3B: elliptical episodic bonus ``phi(s')^T C^{-1} phi(s')`` with an inverse-dynamics embedding ``phi``.

    :param observation_space: the environment's observation space (:func:`check_rnd_space`).
    :param action_space: a ``Discrete`` action space (the inverse-dynamics head classifies actions).
    :param embedding_dim: size of ``phi``. The paper's MiniHack runs use 1024 (``--hidden_dim``); 128 here, the
        embedding size of RIDE/NovelD's MiniGrid inverse-dynamics model (``MinigridInverseDynamicsNet``, input
        ``2 * 128``): the per-env ``d x d`` inverse costs ``O(d^2)`` per step, and 1024 breaks the 1.3x budget.
    :param hidden: hidden width of the encoder.
    :param ridge: ``lambda``, ``C_0 = lambda I`` (paper and ``--ridge``: 0.1).
    :param learning_rate: Adam learning rate of encoder and inverse-dynamics head (``--predictor_learning_rate``
        1e-4).
    :param epochs: gradient passes over each rollout.
    :param batch_size: minibatch size of those passes; ``None`` (default): one step on the whole rollout per
        pass, as E3B takes one inverse-dynamics step per learner batch (``learn()`` in ``src/algos/e3b.py``).
    :param seed: seed of the networks.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        embedding_dim: int = 128,
        hidden: int = 64,
        ridge: float = 0.1,
        learning_rate: float = 1e-4,
        epochs: int = 1,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> None:
        check_rnd_space(observation_space)
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"E3B's inverse-dynamics model needs a Discrete action space, got {action_space}")
        self.observation_space = observation_space
        self.n_actions = int(action_space.n)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, 1)
        self.ridge = check_number("ridge", ridge, 0.0, low_open=True)
        self.epochs = check_int("epochs", epochs, 1)
        self.batch_size = None if batch_size is None else check_int("batch_size", batch_size, 1)
        state = th.random.get_rng_state()
        th.manual_seed(check_int("seed", seed, 0))
        self.encoder = embedding_network(observation_space, self.embedding_dim, check_int("hidden", hidden, 1))
        # MinigridInverseDynamicsNet (RIDE / NovelD src/models.py): Linear(2 d, 256) - ReLU - Linear(n_actions).
        self.inverse_dynamics = nn.Sequential(
            nn.Linear(2 * self.embedding_dim, 256), nn.ReLU(), nn.Linear(256, self.n_actions)
        )
        th.random.set_rng_state(state)
        parameters = [*self.encoder.parameters(), *self.inverse_dynamics.parameters()]
        self.optimizer = th.optim.Adam(parameters, lr=check_number("learning_rate", learning_rate, 0.0, low_open=True))
        self.inverse: NDArray[np.float64] | None = None
        """Per-env ``C^{-1}`` of the current episode, shape ``(n_envs, d, d)``, float64."""
        self._rng = np.random.default_rng(seed)

    def _inputs(self, obs: NDArray[Any]) -> th.Tensor:
        # Grids unscaled, as the grid CNN's policies see them (GRID_POLICY_KWARGS: normalize_images=False).
        tensor = preprocess_obs(th.as_tensor(np.asarray(obs)), self.observation_space, normalize_images=False)
        assert isinstance(tensor, th.Tensor)
        return tensor.float()

    def embed(self, obs: NDArray[Any]) -> NDArray[np.float64]:
        """``phi`` of a batch of observations (float64)."""
        with th.no_grad():
            return self.encoder(self._inputs(obs)).numpy().astype(np.float64)

    def start_episodes(self, envs: NDArray[np.intp], phi: NDArray[np.float64]) -> None:
        """A new episode in env copies ``envs``, whose first observations embed to ``phi``:
        ``C^{-1} = (lambda I + phi phi^T)^{-1}``."""
        assert self.inverse is not None
        fresh = np.broadcast_to(np.eye(self.embedding_dim) / self.ridge, (len(envs), *self.inverse.shape[1:])).copy()
        sherman_morrison(fresh, phi)
        self.inverse[envs] = fresh

    def bonus(self, rollout: Rollout) -> tuple[NDArray[np.float64], dict[str, float]]:
        """The elliptical bonus of every step (per-env episodic inverses updated); then trains ``phi``."""
        n_steps, n_envs = rollout.shape
        starts = rollout.episode_starts
        if self.inverse is None or len(self.inverse) != n_envs:
            self.inverse = np.empty((n_envs, self.embedding_dim, self.embedding_dim))
            starts = starts.copy()
            starts[0] = True
        # Each observation is embedded once: s_{t+1} of every step, and s_t where it is not the previous step's
        # s_{t+1} (episode starts, and t = 0). The same forward pass gives the bonus and the first training step.
        fresh = starts.copy()
        fresh[0] = True
        rows = np.argwhere(fresh)
        x_next = self._inputs(rollout.next_obs.reshape(n_steps * n_envs, *rollout.next_obs.shape[2:]))
        x_fresh = self._inputs(rollout.obs[rows[:, 0], rows[:, 1]])
        phi_all = self.encoder(th.cat([x_next, x_fresh]))
        values = phi_all.detach().numpy().astype(np.float64)
        phi_next = values[: n_steps * n_envs].reshape(n_steps, n_envs, -1)
        phi_fresh = values[n_steps * n_envs :]
        raw = np.empty((n_steps, n_envs))
        for t in range(n_steps):
            envs = np.flatnonzero(starts[t])
            if len(envs):  # the episode's first observation enters C first
                chosen = (rows[:, 0] == t) & np.isin(rows[:, 1], envs)
                self.start_episodes(envs, phi_fresh[chosen])
            raw[t] = sherman_morrison(self.inverse, phi_next[t])
        actions = th.as_tensor(np.asarray(rollout.actions).reshape(n_steps * n_envs).astype(np.int64))
        loss, accuracy = self._train(phi_all, x_next, x_fresh, rows, actions, (n_steps, n_envs))
        return raw, {"inverse_dynamics_loss": loss, "inverse_dynamics_accuracy": accuracy}

    @staticmethod
    def _pairs(rows_all: th.Tensor, rows: NDArray[np.intp], shape: tuple[int, int]) -> tuple[th.Tensor, th.Tensor]:
        """``(s_t, s_{t+1})`` of every step, flat, from per-observation rows (inputs or embeddings) of the next
        observations followed by the fresh ones."""
        n_steps, n_envs = shape
        rest = rows_all.shape[1:]
        following = rows_all[: n_steps * n_envs].reshape(n_steps, n_envs, *rest)
        current = th.cat([following[:1], following[:-1]])  # s_t = s_{t-1}' except where fresh (replaced below)
        index = (th.as_tensor(rows[:, 0]), th.as_tensor(rows[:, 1]))
        current = current.index_put(index, rows_all[n_steps * n_envs :])
        return current.reshape(n_steps * n_envs, *rest), following.reshape(n_steps * n_envs, *rest)

    def _train(
        self,
        phi_all: th.Tensor,
        x_next: th.Tensor,
        x_fresh: th.Tensor,
        rows: NDArray[np.intp],
        actions: th.Tensor,
        shape: tuple[int, int],
    ) -> tuple[float, float]:
        """Inverse-dynamics training; mean loss and accuracy of the last pass."""
        n = len(actions)
        if self.batch_size is not None and self.batch_size < n:
            x_obs, x_following = self._pairs(th.cat([x_next, x_fresh]), rows, shape)
        losses: list[float] = []
        hits = 0
        for epoch in range(self.epochs):
            losses, hits = [], 0
            if self.batch_size is None or self.batch_size >= n:  # one step on the whole rollout
                if epoch > 0:
                    phi_all = self.encoder(th.cat([x_next, x_fresh]))
                phi_obs, phi_next = self._pairs(phi_all, rows, shape)
                batches = [(phi_obs, phi_next, actions)]
            else:
                order = th.as_tensor(self._rng.permutation(n))
                batches = []
                for start in range(0, n, self.batch_size):
                    index = order[start : start + self.batch_size]
                    batches.append((x_obs[index], x_following[index], actions[index]))
            for first, second, target in batches:
                if self.batch_size is not None and self.batch_size < n:
                    first, second = self.encoder(first), self.encoder(second)
                logits = self.inverse_dynamics(th.cat([first, second], dim=1))
                loss = nn.functional.cross_entropy(logits, target)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
                hits += int((logits.argmax(dim=1) == target).sum())
        return float(np.mean(losses)), hits / n


__all__ = ["E3B", "EpisodicCounts", "NovelD", "ObsKey", "Rollout", "sherman_morrison"]
