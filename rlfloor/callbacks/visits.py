"""Visits and coverage: distinct states seen, visitation entropy, first reward, episode scores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback

from rlfloor.callbacks.rollout import Observations, rollout_observations
from rlfloor.checks import check_int
from rlfloor.stats.coverage import StateVisitCounter, n_observation_states

#: Box observations with more elements than this get no automatic coverage (images).
AUTO_COVERAGE_MAX_SIZE = 4096


def _append_rows(rows: np.ndarray, extra: list[Any]) -> np.ndarray:
    """``rows`` (shape ``(n, *shape)``) followed by the observations in ``extra``, cast to match."""
    more = np.asarray(extra, dtype=rows.dtype).reshape(len(extra), *rows.shape[1:])
    return np.concatenate([rows, more])


class VisitsCallback(BaseCallback):
    """Log state coverage, the first positive reward and episode scores (no extra env steps).

    Tags: ``explore/coverage``, ``explore/coverage_frac``, ``explore/coverage_saturated``,
    ``explore/visit_entropy``, ``explore/first_reward_step``, ``explore/first_reward_episode``,
    ``explore/episode_score``.

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
    """

    def __init__(
        self,
        coverage: bool = True,
        obs_key: Callable[[Observations], np.ndarray] | None = None,
        max_states: int = 100_000,
        n_states: int | None = None,
        score_key: str = "score",
        verbose: int = 0,
    ):
        super().__init__(verbose)
        self.max_states = check_int("max_states", max_states, 1)
        self.n_states = None if n_states is None else check_int("n_states", n_states, 1)
        if obs_key is not None and not callable(obs_key):
            raise ValueError(f"obs_key={obs_key!r} must be a callable mapping a batch of observations to rows")
        self.coverage = bool(coverage)
        self.obs_key = obs_key
        self.score_key = score_key
        self.visits = StateVisitCounter(max_states)
        self.first_reward_step: int | None = None
        self.first_reward_episode: int | None = None
        self.steps = 0
        self.episodes = 0
        self._model_id: int | None = None
        self._coverage_mode: str | None = None  # None (off), "on", or "check" (decide on first rollout)
        self._n_states_known: int | None = None
        self._terminal_obs: list[Any] = []
        self._vec_normalize: Any = None

    def _on_training_start(self) -> None:
        model = self.model
        if self._model_id != id(model) or model.num_timesteps == 0:
            self._model_id = id(model)
            self.visits = StateVisitCounter(self.max_states)
            self.first_reward_step = self.first_reward_episode = None
            self.steps = self.episodes = 0
        self._terminal_obs = []
        self._vec_normalize = model.get_vec_normalize_env()
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
            print(f"{type(self).__name__}: no state coverage for {space} (pass obs_key to enable it)")
        return None

    def update_locals(self, locals_: dict[str, Any]) -> None:
        """Keep ``collect_rollouts``' locals by reference (read in ``_on_step``): no copy per step."""
        self.locals = locals_

    def _on_step(self) -> bool:
        locals_ = self.locals
        dones = locals_["dones"]
        if self.first_reward_step is None:
            self._find_first_reward(dones)
        self.steps += len(dones)
        if np.count_nonzero(dones):  # a third of ``dones.any()``'s cost: this runs on every env step
            self._episodes_ended(np.flatnonzero(dones), locals_["infos"])
        return True

    def _find_first_reward(self, dones: np.ndarray) -> None:
        vec_normalize = self._vec_normalize  # positive *original* reward, also under VecNormalize
        rewards = vec_normalize.get_original_reward() if vec_normalize is not None else self.locals["rewards"]
        positive = np.flatnonzero(np.asarray(rewards) > 0)
        if positive.size:
            first = int(positive[0])
            self.first_reward_step = self.steps + first + 1
            self.first_reward_episode = self.episodes + int(np.count_nonzero(dones[:first])) + 1

    def _episodes_ended(self, ended: np.ndarray, infos: list[dict[str, Any]]) -> None:
        self.episodes += int(ended.size)
        for index in ended.tolist():
            info = infos[index]
            score = info.get(self.score_key)
            if score is not None:
                self.logger.record_mean("explore/episode_score", float(score))
            if self._coverage_mode is not None:
                terminal = info.get("terminal_observation")
                if terminal is not None:
                    self._terminal_obs.append(terminal)

    def _on_rollout_end(self) -> None:
        if self._coverage_mode is not None:
            self._record_coverage(rollout_observations(self.model.rollout_buffer))  # type: ignore[attr-defined]
        if self.first_reward_step is not None:
            self.logger.record("explore/first_reward_step", self.first_reward_step)
            self.logger.record("explore/first_reward_episode", self.first_reward_episode)

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
                    print(f"{type(self).__name__}: continuous observations, no state coverage (see obs_key)")
                return
            self._coverage_mode = "on"
        self.visits.update(rows)
        self.logger.record("explore/coverage", self.visits.distinct)
        if self._n_states_known is not None:
            self.logger.record("explore/coverage_frac", self.visits.distinct / self._n_states_known)
        self.logger.record("explore/coverage_saturated", float(self.visits.saturated))
        self.logger.record("explore/visit_entropy", self.visits.entropy())


__all__ = ["AUTO_COVERAGE_MAX_SIZE", "VisitsCallback"]
