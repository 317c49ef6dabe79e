"""The unit of work: train one agent preset on one environment, score it, write the run folder.

rlfloor knows no environment or preset: the caller passes two resolvers, plain functions (or
``functools.partial`` objects over them, which process pools and Ray pickle by reference)::

    env_resolver(name: str) -> EnvLike        # e.g. envs.resolve.resolve
    agent_resolver(name: str) -> AgentLike    # e.g. agents.get_agent with the user's presets

The run folder gets ``config.json`` (resolved settings, hyperparameters applied), ``tb/`` (TensorBoard),
``model.zip`` and optional ``checkpoints/``; the results are returned (the sweep driver, or
``scripts/train.py``, writes them to ``result.json``).

Hyperparameters: an env may carry per-algorithm-family hyperparameters (``hyperparams["ppo"]``, which also
serves ``maskable-ppo``, and ``hyperparams["a2c"]``; rl-zoo3 style, with the special keys ``n_envs`` and
``normalize``); they are applied first, and the preset's own ``algo_kwargs`` override them.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from rlfloor.callbacks.episodes import has_episode_monitor
from rlfloor.checks import check_int, check_number
from rlfloor.experiment.provenance import provenance
from rlfloor.experiment.solve import solve_fields
from rlfloor.experiment.store import RunSpec, atomic_path, write_json_atomic
from rlfloor.schedules import check_schedule

DEFAULT_TIMESTEPS = 50_000
FINAL_FRACTION = 0.25  # "final" metrics average the training episodes of the last quarter of the budget
SPECIAL_HYPERPARAMS = ("n_envs", "normalize", "policy_kwargs")
EVAL_SEED_OFFSET = 10_000
MAX_SEED = 2**32 - 1 - EVAL_SEED_OFFSET  # numpy and SB3 seed with 32-bit integers; evaluation adds the offset
MAX_ENVS = 1024  # parallel envs of one run (DummyVecEnv steps them in one process)
MAX_EPISODES = 100_000  # evaluation or random-reference episodes of one run or task; 10**9 would never end
MAX_CURVE_POINTS = 100_000  # learning-curve points (in result.json); 10**9 would ask for 8 GB per array after training
ALGO_RANGES: dict[str, tuple[float, float | None, bool]] = {
    "gamma": (0.0, 1.0, False),  # a discount factor
    "gae_lambda": (0.0, 1.0, False),  # GAE's bias/variance weight (Schulman et al. 2016)
    "clip_range": (0.0, None, True),  # PPO's ratio clip: <= 0 inverts or freezes the clip, silently
    "clip_range_vf": (0.0, None, True),
    "ent_coef": (0.0, None, False),  # as rlfloor's entropy schedules: a bonus, not a penalty
    "vf_coef": (0.0, None, False),
    "max_grad_norm": (0.0, None, True),
    "target_kl": (0.0, None, True),
}
"""Ranges of the SB3 PPO/A2C arguments that SB3 takes without a check and then trains on silently wrong
(``(low, high, low_open)``; ``None`` values, where SB3 allows them, are left alone; schedules are checked over
the whole run)."""

ALGO_COUNTS: dict[str, int] = {
    "n_epochs": 1,  # 0 passes SB3's constructor and fails inside PPO.train() after the first rollout
    "n_steps": 1,  # 0 passes A2C's constructor and fails inside collect_rollouts()
    "batch_size": 2,  # PPO asserts > 1; a float fails inside train()
}
"""Integer SB3 arguments and their least allowed value: SB3 builds a model with a value below it (or a float)
and fails only once training starts."""


class EnvLike(Protocol):
    """What the run needs to know of an environment (see ``envs.resolve.ResolvedEnv``)."""

    @property
    def name(self) -> str:
        """The env's name as given."""

    @property
    def budget(self) -> int | None:
        """Default training budget in env steps (``None``: none)."""

    @property
    def action_masks(self) -> bool:
        """True if the env exposes ``action_masks()``."""

    @property
    def random_return(self) -> float | None:
        """Return of the uniform-random policy (score 0), if known."""

    @property
    def optimal_return(self) -> float | None:
        """Return of an optimal or reference policy (score 1), if known."""

    @property
    def first_change(self) -> int | None:
        """Env step (over all env copies) at which a non-stationary task first changes; ``None``: stationary."""

    @property
    def reference_steps(self) -> int | None:
        """Run length the references hold for, if only one (a drifting task's optimum is averaged over the run);
        ``None``: any length."""

    @property
    def hyperparams(self) -> Mapping[str, Mapping[str, Any]]:
        """Algorithm hyperparameters per family (``"ppo"``, ``"a2c"``), rl-zoo3 style."""

    def make(self, n_envs: int = 1) -> Any:
        """A fresh environment (``n_envs`` copies will run side by side)."""

    def score(self, mean_return: float) -> float:
        """Normalized score of a mean return, in [0, 1]; NaN without both references or without episodes."""

    def record(self) -> dict[str, Any]:
        """JSON description of the task and its references (part of the run's key)."""


class AgentLike(Protocol):
    """What the run needs to know of an agent preset (see ``agents.AgentSpec``)."""

    @property
    def name(self) -> str:
        """The preset's name."""

    @property
    def algo(self) -> str:
        """``"ppo"``, ``"a2c"`` or ``"maskable-ppo"``."""

    @property
    def uses_masks(self) -> bool:
        """True for agents that read ``action_masks()``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON description of the preset."""

    def check_kwargs(self, algo_kwargs: Mapping[str, Any] | None = None) -> None:
        """Raise a one-line ``ValueError`` for settings the algorithm or the policy does not accept."""

    def check_build(
        self,
        env: Any,
        seed: int,
        overrides: Mapping[str, Any],
        timesteps: int,
        policy_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model and its callbacks on ``env`` and start them as ``learn(timesteps)`` would, without
        training; a one-line ``ValueError`` for anything the run would refuse."""

    def build(
        self,
        env: Any,
        seed: int,
        tensorboard_log: str | None,
        verbose: int,
        overrides: Mapping[str, Any],
        policy_defaults: Mapping[str, Any] | None = None,
    ) -> tuple[Any, list[BaseCallback]]:
        """The SB3 model and the callbacks of its exploration settings (``policy_defaults``: the env's
        policy keyword arguments, under the preset's own)."""


EnvResolver = Callable[[str], EnvLike]
AgentResolver = Callable[[str], AgentLike]


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Everything one run is made of, apart from the env and the agent themselves."""

    env: str
    """Env name: suite name, Gymnasium id or ``module:EnvId``."""
    agent: str
    """Agent preset name."""
    seed: int = 0
    """Seed of the network, the sampling and the env resets."""
    timesteps: int | None = None
    """Training budget in env steps (None: the env's suite budget, else 50000)."""
    n_envs: int | None = None
    """Parallel envs in the DummyVecEnv (None: the env's hyperparameters, else 1)."""
    eval_episodes: int = 0
    """Deterministic evaluation episodes at the end (0: off)."""
    checkpoint_freq: int = 0
    """Save a checkpoint every N env steps (0: off)."""
    save_model: bool = True
    """Save the trained model as model.zip."""
    metrics: bool = True
    """Log exploration metrics to TensorBoard."""
    tensorboard: bool = True
    """Write TensorBoard logs under tb/."""
    progress_bar: bool = False
    """Show a progress bar while training."""
    curve_points: int = 20
    """Points of the learning curve in the results."""
    verbose: int = 0
    """SB3 verbosity (0, 1 or 2)."""
    allow_no_change: bool = False
    """Accept a non-stationary task whose budget ends before its first change (the run sees one phase only)."""

    KEY_FIELDS = ("seed", "timesteps", "n_envs", "eval_episodes", "curve_points")
    """Settings that change the results, hence part of a run's key (with the env, the agent and the
    hyperparameters); the others (metrics, TensorBoard, checkpoints, saving, progress, verbosity, the
    permission to stop before a change) do not."""

    def check(self) -> None:
        """Raise a one-line ``ValueError`` naming the first bad setting (:func:`plan` calls it; not done at
        construction, so that a command-line parser can build the settings and the plan refuse them)."""
        check_int("seed", self.seed, 0, MAX_SEED)
        if self.timesteps is not None:
            check_int("timesteps", self.timesteps, 1)
        if self.n_envs is not None:
            check_int("n_envs", self.n_envs, 1, MAX_ENVS)
        check_int("eval_episodes", self.eval_episodes, 0, MAX_EPISODES)
        check_int("checkpoint_freq", self.checkpoint_freq, 0)
        check_int("curve_points", self.curve_points, 1, MAX_CURVE_POINTS)
        check_int("verbose", self.verbose, 0, 2)
        if self.metrics and not self.tensorboard:  # they would be computed and dropped
            raise ValueError(
                "metrics=True needs tensorboard=True (the exploration metrics are TensorBoard scalars); "
                "turn both off (--no-metrics --no-tensorboard) or keep TensorBoard on"
            )


@dataclasses.dataclass(frozen=True)
class Plan:
    """A run's settings resolved against its env and agent (computed before any work)."""

    settings: RunSettings
    env: EnvLike
    agent: AgentLike
    timesteps: int
    n_envs: int
    normalize: bool
    algo_kwargs: dict[str, Any]
    policy_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The env's policy keyword arguments (e.g. a grid CNN), resolved; the preset's own go over them."""

    def hyperparams(self) -> dict[str, Any]:
        """The hyperparameters applied (env's, then the preset's over them)."""
        applied: dict[str, Any] = {"algo_kwargs": self.algo_kwargs, "n_envs": self.n_envs, "normalize": self.normalize}
        if self.policy_kwargs:  # absent when empty, so runs planned before the key existed keep their keys
            applied["policy_kwargs"] = {key: _describe(value) for key, value in self.policy_kwargs.items()}
        return applied

    def key_settings(self) -> dict[str, Any]:
        """Everything the results depend on: the content a run is keyed by."""
        run = {name: getattr(self.settings, name) for name in RunSettings.KEY_FIELDS}
        run.update(timesteps=self.timesteps, n_envs=self.n_envs)
        # n_envs is keyed as resolved (in run and hyperparams), whoever set it
        unkeyed = ("name", "description", "baseline", "n_envs")
        agent = {k: v for k, v in self.agent.to_dict().items() if k not in unkeyed}
        return {"env": self.env.record(), "agent": agent, "run": run, "hyperparams": self.hyperparams()}


def _describe(value: Any) -> Any:
    """JSON form of a policy keyword value: classes and functions by their dotted path."""
    if isinstance(value, type) or callable(value):
        return f"{value.__module__}.{value.__qualname__}"
    return value


def resolve_policy_kwargs(value: Any, env_name: str = "") -> dict[str, Any]:
    """An env's ``policy_kwargs`` hyperparameter: a mapping, or the dotted path of one.

    Environments name classes by path (``"rlfloor.networks.GRID_POLICY_KWARGS"``): the ``envs`` package does not
    import torch. ``None`` is no policy keyword argument.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        module, _, attribute = value.rpartition(".")
        try:
            value = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError, ValueError) as error:
            raise ValueError(f"policy_kwargs={value!r} of env {env_name!r} cannot be imported: {error}") from None
    if not isinstance(value, Mapping):
        raise ValueError(f"policy_kwargs of env {env_name!r} must be a mapping or its dotted path, got {value!r}")
    return dict(value)


def family(algo: str) -> str:
    """Hyperparameter family of an algorithm: ``maskable-ppo`` uses the ``ppo`` entries."""
    return "ppo" if algo == "maskable-ppo" else algo


def check_compatible(agent: AgentLike, env: EnvLike) -> None:
    """Masked envs need a mask-aware agent and vice versa; a one-line ``ValueError`` otherwise."""
    if env.action_masks and not agent.uses_masks:
        raise ValueError(f"env {env.name!r} has invalid actions; agent {agent.name!r} ignores masks (use ppo-mask*)")
    if agent.uses_masks and not env.action_masks:
        raise ValueError(f"agent {agent.name!r} needs an env with action_masks(); {env.name!r} has none")


def plan(settings: RunSettings, env_resolver: EnvResolver, agent_resolver: AgentResolver, build: bool = True) -> Plan:
    """Resolve and check a run before any work: its settings, names, compatibility, budget, keyword
    arguments and (``build=True``) everything it will build (:func:`check_build`)."""
    settings.check()
    env = env_resolver(settings.env)
    agent = agent_resolver(settings.agent)
    check_compatible(agent, env)
    low, high = env.random_return, env.optimal_return
    if low is not None and high is not None and not high > low:  # every score would be 0 or NaN
        raise ValueError(f"env {env.name!r}: optimal reference {high!r} must exceed the random one {low!r}")
    env_params = dict(getattr(env, "hyperparams", {}) or {}).get(family(agent.algo), {})
    algo_kwargs = {k: v for k, v in dict(env_params).items() if k not in SPECIAL_HYPERPARAMS}
    algo_kwargs.update(agent.to_dict().get("algo_kwargs") or {})
    agent.check_kwargs(algo_kwargs)
    check_algo_ranges(algo_kwargs, f"{agent.name!r} on {env.name!r}: ")
    agent_n_envs = agent.to_dict().get("n_envs")  # a preset's own n_envs goes over the env's
    n_envs = next(n for n in (settings.n_envs, agent_n_envs, env_params.get("n_envs"), 1) if n is not None)
    owner = f"agent {agent.name!r}: " if agent_n_envs is not None else f"hyperparams of env {env.name!r}: "
    check_int(("" if settings.n_envs is not None else owner) + "n_envs", n_envs, 1, MAX_ENVS)
    normalize = env_params.get("normalize", False)
    if not isinstance(normalize, bool):
        raise ValueError(f"hyperparams normalize={normalize!r} of {env.name!r} must be true or false")
    policy_kwargs = resolve_policy_kwargs(env_params.get("policy_kwargs"), env.name)
    timesteps = settings.timesteps or env.budget or DEFAULT_TIMESTEPS
    check_sees_change(env, timesteps, settings.allow_no_change)
    check_reference_window(env, timesteps)
    run = Plan(settings, env, agent, timesteps, n_envs, normalize, algo_kwargs, policy_kwargs)
    if build:
        check_build(run)
    return run


def check_algo_ranges(algo_kwargs: Mapping[str, Any], where: str = "") -> None:
    """One-line ``ValueError`` (prefixed by ``where``) for an algorithm argument outside :data:`ALGO_RANGES` or
    :data:`ALGO_COUNTS`."""
    try:
        for name, (low, high, low_open) in ALGO_RANGES.items():
            value = algo_kwargs.get(name)
            if value is None or isinstance(value, str):  # None where SB3 allows it; "auto" (SAC's) is not ours
                continue
            if callable(value):
                check_schedule(name, value, low, high, low_open=low_open)
            else:
                check_number(name, value, low, high, low_open=low_open)
        for name, least in ALGO_COUNTS.items():
            if name in algo_kwargs:
                check_int(name, algo_kwargs[name], least)
    except ValueError as error:
        raise ValueError(f"{where}{error}") from None


def check_sees_change(env: EnvLike, timesteps: int, allowed: bool = False) -> None:
    """A non-stationary task trained for no more steps than its first change never changes: a one-line
    ``ValueError`` naming the task, the budget and the change (``allowed``: the user accepts one phase)."""
    first = env.first_change
    if first is not None and timesteps <= first and not allowed:
        raise ValueError(
            f"env {env.name!r} first changes at step {first}: a budget of {timesteps} steps never sees a change "
            f"(give more than {first} steps, or allow_no_change=True / --allow-no-change to train one phase)"
        )


def check_reference_window(env: EnvLike, timesteps: int) -> None:
    """A task whose references hold for one run length only (``env.reference_steps``), trained for another, would
    be scored against another window's optimum: a one-line ``ValueError`` naming both lengths."""
    steps = env.reference_steps
    if steps is not None and timesteps != steps:
        raise ValueError(
            f"env {env.name!r}: its references hold for runs of exactly {steps} steps, not {timesteps} (train "
            f"{steps} steps, e.g. --budget-scale 1, or give your own references)"
        )


def check_build(run: Plan) -> None:
    """Build what the run will use, once, without training: the env, the model with its hyperparameters
    (SB3's own checks and the policy's), every callback started as ``learn()`` starts it, and every schedule
    over the whole run. One-line ``ValueError`` naming the env and agent otherwise."""
    env: VecEnv = make_vec_env(lambda: run.env.make(run.n_envs), n_envs=1, seed=run.settings.seed)
    try:
        if run.normalize:
            env = VecNormalize(env)
        with warnings.catch_warnings():  # a dry build on one env copy: SB3's batch-size advice would not apply
            warnings.simplefilter("ignore")
            run.agent.check_build(env, run.settings.seed, run.algo_kwargs, run.timesteps, run.policy_kwargs)
    except (ValueError, TypeError, AssertionError, RuntimeError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"{run.agent.name!r} on {run.env.name!r}: {first}") from error
    finally:
        env.close()


class Planner:
    """Plans runs once each, for a whole grid: every env and agent name resolved once, every distinct
    (env, agent, hyperparameters) pair built once (:func:`check_build`), each run keyed once.

    :param env_resolver: name -> env (called once per name).
    :param agent_resolver: name -> agent (called once per name; read a presets file before, not in it).
    """

    def __init__(self, env_resolver: EnvResolver, agent_resolver: AgentResolver) -> None:
        self.envs: dict[str, EnvLike] = {}
        self.agents: dict[str, AgentLike] = {}
        self._env_resolver, self._agent_resolver = env_resolver, agent_resolver
        self._built: set[str] = set()

    def env(self, name: str) -> EnvLike:
        """The env called ``name``, resolved on first use."""
        if name not in self.envs:
            self.envs[name] = self._env_resolver(name)
        return self.envs[name]

    def agent(self, name: str) -> AgentLike:
        """The agent called ``name``, resolved on first use."""
        if name not in self.agents:
            self.agents[name] = self._agent_resolver(name)
        return self.agents[name]

    def plan(self, settings: RunSettings) -> Plan:
        """:func:`plan` with the cached names; the build check runs once per distinct (env, agent, hyperparameters)."""
        run = plan(settings, self.env, self.agent, build=False)
        built = json.dumps([run.env.record(), run.agent.to_dict(), run.hyperparams()], sort_keys=True, default=str)
        if built not in self._built:
            check_build(run)
            self._built.add(built)
        return run


class EpisodeLog(BaseCallback):
    """Collects (end step, return, length) of every training episode from SB3's Monitor.

    The harness builds its envs with ``make_vec_env`` (a ``Monitor`` in every sub-env); on an env without
    ``Monitor`` or ``VecMonitor`` it refuses to start instead of logging no episode.
    """

    def __init__(self) -> None:
        super().__init__()
        self.episodes: list[tuple[int, float, int]] = []

    def _on_training_start(self) -> None:
        if not has_episode_monitor(self.training_env):
            raise ValueError(
                "EpisodeLog reads SB3's Monitor episode infos; wrap the env in VecMonitor or build it with make_vec_env"
            )

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            episode = info.get("episode")
            if episode is not None:
                self.episodes.append((self.num_timesteps, float(episode["r"]), int(episode["l"])))
        return True


def fill_forward(values: list[float]) -> list[float]:
    """Replace NaNs by the previous value (leading ones by the first known value)."""
    known = [v for v in values if not math.isnan(v)]
    last = known[0] if known else math.nan
    out = []
    for value in values:
        last = last if math.isnan(value) else value
        out.append(last)
    return out


def learning_curve(
    episodes: list[tuple[int, float, int]], timesteps: int, points: int, env: EnvLike
) -> dict[str, list[float]]:
    """Mean return (and its normalized score) of the episodes ending in each of ``points`` equal step bins.

    Empty bins repeat the previous value (the first ones the first non-empty value).
    """
    edges = np.linspace(0, timesteps, points + 1)
    ends = np.array([e[0] for e in episodes], dtype=float)
    returns = np.array([e[1] for e in episodes], dtype=float)
    values = []
    for low, high in itertools.pairwise(edges):
        inside = (ends > low) & (ends <= high)
        values.append(float(returns[inside].mean()) if inside.any() else math.nan)
    filled = fill_forward(values)
    return {"steps": edges[1:].tolist(), "return": filled, "score": [env.score(value) for value in filled]}


def evaluate(model: Any, train_env: VecEnv, plan_: Plan) -> float:
    """Mean return of the deterministic policy over fresh episodes (normalization statistics frozen)."""
    env: VecEnv = make_vec_env(plan_.env.make, n_envs=1, seed=plan_.settings.seed + EVAL_SEED_OFFSET)
    if plan_.normalize:
        env = VecNormalize(env, training=False, norm_reward=False)
        sync_envs_normalization(train_env, env)
    episodes = plan_.settings.eval_episodes
    if plan_.agent.uses_masks:
        from sb3_contrib.common.maskable.evaluation import evaluate_policy as evaluate_masked

        mean_return, _ = evaluate_masked(model, env, n_eval_episodes=episodes, deterministic=True)
    else:
        from stable_baselines3.common.evaluation import evaluate_policy

        mean_return, _ = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True)
    env.close()
    return float(mean_return)  # type: ignore[arg-type]


def train_run(
    run: Plan, run_dir: Path, command: str | None = None, callbacks: Sequence[BaseCallback] = ()
) -> dict[str, Any]:
    """Train as planned; write ``config.json``, TensorBoard logs and the model into ``run_dir``; return results.

    ``callbacks`` are extra SB3 callbacks run after the preset's; one that returns ``False`` from ``_on_step``
    ends training early (``trained_steps`` in the results says how far it went).
    """
    settings = run.settings
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        run_dir / "config.json",
        {
            "run": {**dataclasses.asdict(settings), "timesteps": run.timesteps, "n_envs": run.n_envs},
            "agent": run.agent.to_dict(),
            "env": run.env.record(),
            "hyperparams": run.hyperparams(),
            "command": command if command is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "provenance": provenance(),  # recorded, not part of the run's key
        },
    )
    set_random_seed(settings.seed)  # all seeding in one place: python, numpy, torch; then the model and envs
    n_envs = run.n_envs
    env: VecEnv = make_vec_env(lambda: run.env.make(n_envs), n_envs=n_envs, seed=settings.seed)
    if run.normalize:
        env = VecNormalize(env)
    tensorboard_log = str(run_dir / "tb") if settings.tensorboard else None
    model, run_callbacks = run.agent.build(
        env, settings.seed, tensorboard_log, settings.verbose, run.algo_kwargs, run.policy_kwargs
    )
    run_callbacks = [*run_callbacks, *callbacks]
    episodes = EpisodeLog()
    run_callbacks.append(episodes)
    if settings.metrics and settings.tensorboard:
        from rlfloor.callbacks import ExplorationMetricsCallback

        run_callbacks.append(ExplorationMetricsCallback())
    if settings.checkpoint_freq:
        every = max(settings.checkpoint_freq // n_envs, 1)
        run_callbacks.append(CheckpointCallback(every, str(run_dir / "checkpoints"), name_prefix="model"))
    start = time.perf_counter()
    model.learn(run.timesteps, callback=run_callbacks, tb_log_name="run", progress_bar=settings.progress_bar)
    wall_time = time.perf_counter() - start

    curve = learning_curve(episodes.episodes, run.timesteps, settings.curve_points, run.env)
    late = [r for end, r, _ in episodes.episodes if end > (1 - FINAL_FRACTION) * run.timesteps]
    final_return = float(np.mean(late)) if late else math.nan
    normalized = run.env.random_return is not None and run.env.optimal_return is not None
    result: dict[str, Any] = {
        "env": settings.env,
        "agent": settings.agent,
        "seed": settings.seed,
        "timesteps": run.timesteps,
        "episodes": len(episodes.episodes),
        "final_return": final_return,
        "final_score": run.env.score(final_return),
        "auc_return": float(np.nanmean(curve["return"])) if episodes.episodes else math.nan,
        "auc_score": float(np.nanmean(curve["score"])) if normalized and episodes.episodes else math.nan,
        "curve": curve,
        **solve_fields(episodes.episodes, run.env, run.timesteps),
        "wall_time": wall_time,
        "trained_steps": int(model.num_timesteps),
        "steps_per_second": model.num_timesteps / wall_time,
    }
    if settings.eval_episodes:
        eval_return = evaluate(model, env, run)
        result["eval_return"] = eval_return
        result["eval_score"] = run.env.score(eval_return)
    env.close()
    if settings.save_model:
        with atomic_path(run_dir / "model.zip") as tmp:
            model.save(tmp)
    return result


def settings_from_spec(spec: RunSpec) -> RunSettings:
    """The run settings a sweep cell stands for (``spec.options`` hold the non-default fields)."""
    options = dict(spec.options)
    allowed = {f.name for f in dataclasses.fields(RunSettings)} - {"env", "agent", "seed", "timesteps"}
    unknown = sorted(set(options) - allowed - {"presets"})
    if unknown:
        raise ValueError(f"unknown run options {unknown}; allowed: {sorted(allowed)}")
    fields = {k: v for k, v in options.items() if k in allowed}
    fields.setdefault("save_model", False)
    return RunSettings(env=spec.env, agent=spec.agent, seed=spec.seed, timesteps=spec.timesteps, **fields)


def plan_spec(spec: RunSpec, planner: Planner) -> RunSpec:
    """``spec`` carrying its plan and its resolved settings (its content key); raises before any work if it is
    invalid. The sweep ships the plan to the worker (:func:`run_spec`), which resolves nothing again."""
    run = planner.plan(settings_from_spec(spec))
    return spec.with_settings(run.key_settings(), run)


def run_spec(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """A sweep's run function: train the plan the driver shipped with the spec (:func:`plan_spec`)."""
    if not isinstance(spec.plan, Plan):
        raise ValueError(f"run {spec.run_id} carries no plan: plan it with plan_spec() in the driver")
    return train_run(spec.plan, run_dir, command=f"sweep run {spec.run_id}")


__all__ = [
    "ALGO_RANGES",
    "DEFAULT_TIMESTEPS",
    "AgentLike",
    "AgentResolver",
    "EnvLike",
    "EnvResolver",
    "EpisodeLog",
    "Plan",
    "Planner",
    "RunSettings",
    "check_algo_ranges",
    "check_build",
    "check_compatible",
    "check_reference_window",
    "check_sees_change",
    "family",
    "learning_curve",
    "plan",
    "plan_spec",
    "resolve_policy_kwargs",
    "run_spec",
    "settings_from_spec",
    "train_run",
]
