"""The rlfloor benchmark suite, as data: which tasks, with which settings, budgets and score references.

Each :class:`SuiteEntry` names one task (an env id plus constructor kwargs), the number of environment steps
a comparison run trains for, the capability it probes, how it is scored and the two reference returns that
map a return to a score in [0, 1] (see :mod:`envs.scoring`).

Tags select sub-suites:

* ``core`` -- the default comparison grid: the exploration probes, budgets summing to 150k steps (a full
  ~6 agents x 10 seeds grid fits in about an hour on 2 cores at ~1,250 PPO steps/s per core);
* ``probe`` -- every rlfloor exploration probe (``core`` plus ``deepsea-12`` and the stochastic DeepSea);
* ``control`` -- standard Gymnasium control tasks, for the "floor tax" on ordinary problems and a classic
  sparse-reward failure (MountainCar);
* ``extra`` -- optional tasks behind a dependency that is not installed by default (``requires``);
* one tag per capability: ``deep-exploration``, ``non-stationary``, ``deception``, ``symmetric-optima``,
  ``action-masking``, ``sparse-reward``, ``floor-tax``.

Calibration (measured once with SB3 PPO defaults -- ``n_steps=2048``, ``batch_size=64``, one env,
``ent_coef=0`` unless stated -- at the listed budgets; "k of n" counts seeds 0..n-1):

* ``deepsea-6``: solved (2/2). ``deepsea-12``: solved in 2 of 6 runs -- whenever a random episode happens
  to find the treasure (chance ~1/3 in 1,700 episodes) PPO learns it -- so it is not a reliable control;
  ``deepsea-16``: 0 of 6, the core's control.
* ``switching-bandit`` (seed 0): learns phase 0, recovers once while not yet collapsed, then earns 0 for
  the rest of the run after the second switch (run score ~0.09); with ``ent_coef=0.05`` it re-learns every
  phase (~0.24).
* ``deceptive-chain`` (length 8): 0 of 3 runs leave the small reward; with ``ent_coef=0.05`` 1 of 3 find
  the far end. Length 6 (the RiverSwim default) is solved by plain PPO, so the suite uses 8.
* ``symmetric-goals`` and ``masked-grid`` (MaskablePPO): solved within budget (score > 0.97); they measure
  the cost side -- how much exploration pressure lowers the final score -- and mask handling.

Reference returns of the rlfloor tasks equal the exact values the environments compute
(``env.unwrapped.random_return`` / ``optimal_return``; a test keeps them in sync). For the standard tasks:

* CartPole-v1: random 22.2 (mean of 5,000 uniform-random episodes, seeds 0..4999, measured for this
  suite); optimal 500 (the time limit).
* Acrobot-v1: random -498.1 (mean of 300 uniform-random episodes, measured for this suite); optimal -75
  (the RL-Zoo's tuned PPO agent, ``sb3/ppo-Acrobot-v1``: -74.6 +- 11.5; Gymnasium's "solved" threshold is
  -100).
* MountainCar-v0: random -200 (a random policy never reaches the flag within the 200-step limit; measured
  on 300 episodes); optimal -110 (Gymnasium's registered ``reward_threshold``, "solved").
* MiniGrid-DoorKey-5x5-v0: random 0 and optimal 0.95 are *approximations*, not measured here (MiniGrid is
  not a dependency): MiniGrid pays ``1 - 0.9 * steps / max_steps`` on success, a random agent almost never
  opens the door within ``max_steps = 250``, and short solutions take about 10-15 steps.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import gymnasium as gym

import envs  # noqa: F401  (registers the rlfloor/ ids)
from envs.scoring import normalized_score

HORIZON_KWARG = "horizon"


@dataclass(frozen=True)
class SuiteEntry:
    """One task of the suite. Instances are immutable; ``kwargs`` is a read-only mapping."""

    name: str
    """Short, stable name used in run directories, e.g. ``"deepsea-12"``."""
    env_id: str
    """Gymnasium id passed to ``gymnasium.make``."""
    kwargs: Mapping[str, Any] = field(hash=False)
    """Constructor keyword arguments."""
    budget: int
    """Environment steps of one comparison run."""
    probes: str
    """One line: the capability or failure the task measures."""
    score: str
    """One line: how a run is scored."""
    random_return: float
    """Expected episode return of the uniform-random policy (score 0)."""
    optimal_return: float
    """Episode return of an optimal (or stated reference) policy (score 1)."""
    tags: tuple[str, ...] = ()
    """Selection tags; see the module docstring."""
    action_masks: bool = False
    """True if the env exposes ``action_masks()`` and needs a mask-aware agent (e.g. MaskablePPO)."""
    requires: str | None = None
    """Importable module the task needs beyond the base install (``None`` for none)."""
    wrappers: tuple[str, ...] = ()
    """Dotted paths of Gymnasium wrappers applied, in order, after ``gymnasium.make``."""
    per_instance: tuple[str, ...] = ()
    """Kwargs counted per env instance (e.g. ``switch_every``): :func:`make` divides them by ``n_envs``."""

    def __post_init__(self) -> None:
        """Freeze ``kwargs`` and check the fields."""
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))
        if not self.name or self.name != self.name.strip().lower() or " " in self.name:
            raise ValueError(f"name must be a non-empty lower-case token without spaces, got {self.name!r}")
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget <= 0:
            raise ValueError(f"budget of {self.name!r} must be a positive integer, got {self.budget!r}")
        if not self.optimal_return > self.random_return:
            raise ValueError(
                f"optimal_return of {self.name!r} must exceed random_return, got "
                f"{self.optimal_return!r} <= {self.random_return!r}"
            )

    def __reduce__(self) -> tuple[type[SuiteEntry], tuple[Any, ...]]:
        """Pickle support (``MappingProxyType`` itself cannot be pickled): rebuild from plain values."""
        values = tuple(getattr(self, f.name) for f in fields(self))
        return (type(self), tuple(dict(v) if isinstance(v, MappingProxyType) else v for v in values))


_SCORE = "mean episode return, normalized to [random, optimal] and clipped"

SUITE: tuple[SuiteEntry, ...] = (
    SuiteEntry(
        name="deepsea-6",
        env_id="rlfloor/DeepSea-v0",
        kwargs={"size": 6},
        budget=20_000,
        probes="deep exploration, small: 1 in 64 random episodes finds the reward",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        random_return=0.0106250,
        optimal_return=0.99,
        tags=("core", "probe", "deep-exploration"),
    ),
    SuiteEntry(
        name="deepsea-16",
        env_id="rlfloor/DeepSea-v0",
        kwargs={"size": 16},
        budget=20_000,
        probes="deep exploration, large: 1 in 65536; the control where dithering (and a floor) should fail",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        random_return=-0.0049847,
        optimal_return=0.99,
        tags=("core", "probe", "deep-exploration"),
    ),
    SuiteEntry(
        name="switching-bandit",
        env_id="rlfloor/SwitchingBandit-v0",
        kwargs={"n_arms": 4, "switch_every": 10_000},
        budget=40_000,
        probes="non-stationarity: the paying arm moves every 10k pulls; a collapsed policy never re-finds it",
        score=f"{_SCORE}, over the training pulls (per-instance schedule; 1 = always the paying arm)",
        random_return=0.25,
        optimal_return=1.0,
        tags=("core", "probe", "non-stationary"),
        per_instance=("switch_every",),
    ),
    SuiteEntry(
        name="deceptive-chain",
        env_id="rlfloor/DeceptiveChain-v0",
        kwargs={"length": 8},
        budget=30_000,
        probes="deception: a small sure reward at the start vs a 200x larger one 7 risky steps away",
        score=f"{_SCORE}; farming the small reward scores ~0.005",
        random_return=0.1946269,
        optimal_return=67.5238213,
        tags=("core", "probe", "deception"),
    ),
    SuiteEntry(
        name="symmetric-goals",
        env_id="rlfloor/SymmetricGoals-v0",
        kwargs={"n_goals": 3, "length": 5},
        budget=20_000,
        probes="symmetric optima: 3 equal goals reachable only by committing; cost of not committing",
        score=f"{_SCORE}; 1 = straight to a goal in 5 steps",
        random_return=-0.0646066,
        optimal_return=0.95,
        tags=("core", "probe", "symmetric-optima"),
    ),
    SuiteEntry(
        name="masked-grid",
        env_id="rlfloor/MaskedGrid-v0",
        kwargs={},
        budget=20_000,
        probes="state-dependent invalid actions: the floor must cover valid actions only (1-4 per cell)",
        score=f"{_SCORE}; random = uniform over valid actions; 1 = shortest path (14 moves)",
        random_return=-0.9040458,
        optimal_return=0.86,
        tags=("core", "probe", "action-masking"),
        action_masks=True,
    ),
    SuiteEntry(
        name="deepsea-12",
        env_id="rlfloor/DeepSea-v0",
        kwargs={"size": 12},
        budget=20_000,
        probes="deep exploration, borderline: 1 in 4096; PPO finds it by luck in about 1 run in 3",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        random_return=-0.0047559,
        optimal_return=0.99,
        tags=("probe", "deep-exploration"),
    ),
    SuiteEntry(
        name="deepsea-stochastic-8",
        env_id="rlfloor/DeepSeaStochastic-v0",
        kwargs={"size": 8},
        budget=30_000,
        probes="deep exploration under noise: rights fail w.p. 1/N, N(0,1) reward noise at the ends",
        score=f"{_SCORE} (noisy returns; expected optimum 0.3827)",
        random_return=-0.0034660,
        optimal_return=0.3826959,
        tags=("probe", "deep-exploration"),
    ),
    SuiteEntry(
        name="cartpole",
        env_id="CartPole-v1",
        kwargs={},
        budget=50_000,
        probes="standard control, dense reward: the floor tax on a task PPO solves",
        score=f"{_SCORE}; random 22.2 (measured), optimal 500 (time limit)",
        random_return=22.2,
        optimal_return=500.0,
        tags=("control", "floor-tax"),
    ),
    SuiteEntry(
        name="acrobot",
        env_id="Acrobot-v1",
        kwargs={},
        budget=100_000,
        probes="standard control, sparse-ish reward: the floor tax on a harder swing-up",
        score=f"{_SCORE}; random -498.1 (measured), optimal -75 (RL-Zoo tuned PPO)",
        random_return=-498.1,
        optimal_return=-75.0,
        tags=("control", "floor-tax"),
    ),
    SuiteEntry(
        name="mountaincar",
        env_id="MountainCar-v0",
        kwargs={},
        budget=100_000,
        probes="standard control, classic sparse-reward failure: random never reaches the flag",
        score=f"{_SCORE}; random -200, optimal -110 (Gymnasium's solved threshold)",
        random_return=-200.0,
        optimal_return=-110.0,
        tags=("control", "sparse-reward", "floor-tax"),
    ),
    SuiteEntry(
        name="minigrid-doorkey-5",
        env_id="MiniGrid-DoorKey-5x5-v0",
        kwargs={},
        budget=100_000,
        probes="sparse reward with sub-goals (key, door, goal) in a partially observed grid",
        score=f"{_SCORE}; random 0 and optimal 0.95 are approximations (not measured here)",
        random_return=0.0,
        optimal_return=0.95,
        tags=("extra", "sparse-reward"),
        requires="minigrid",
        wrappers=("minigrid.wrappers.ImgObsWrapper",),
    ),
)
"""Every task of the suite."""

NAMES: tuple[str, ...] = tuple(entry.name for entry in SUITE)
"""Names of the entries of :data:`SUITE`, in order."""

TAGS: tuple[str, ...] = tuple(sorted({tag for entry in SUITE for tag in entry.tags}))
"""Every tag used in :data:`SUITE`."""


def get_entry(name: str) -> SuiteEntry:
    """The entry called ``name``; ``ValueError`` listing the known names otherwise."""
    for entry in SUITE:
        if entry.name == name:
            return entry
    raise ValueError(f"unknown suite entry {name!r}; known names: {', '.join(NAMES)}")


def select(tag: str) -> tuple[SuiteEntry, ...]:
    """Entries carrying ``tag`` (e.g. ``"core"``), in suite order; ``ValueError`` for an unknown tag."""
    if tag not in TAGS:
        raise ValueError(f"unknown suite tag {tag!r}; known tags: {', '.join(TAGS)}")
    return tuple(entry for entry in SUITE if tag in entry.tags)


def total_budget(tag: str = "core") -> int:
    """Sum of the budgets of the entries carrying ``tag``: the steps one agent-seed needs for that grid."""
    return sum(entry.budget for entry in select(tag))


def normalize_score(entry: SuiteEntry | str, episode_return: float) -> float:
    """Score of a return (or of a run's *mean* return) on ``entry``: clipped to [0, 1]."""
    resolved = get_entry(entry) if isinstance(entry, str) else entry
    return normalized_score(episode_return, resolved.random_return, resolved.optimal_return)


def _import_object(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def make(entry: SuiteEntry | str, *, n_envs: int = 1, **overrides: Any) -> gym.Env[Any, Any]:
    """Build the environment of ``entry`` (an entry or its name) with ``overrides`` on top of its kwargs.

    ``overrides`` may also hold ``gymnasium.make`` arguments such as ``render_mode`` or
    ``max_episode_steps``. Overriding ``horizon`` of an rlfloor task also sets ``max_episode_steps`` to it
    (unless given), so Gymnasium's time limit never cuts an episode before the environment's own horizon.

    Args:
        entry: a :class:`SuiteEntry` or its ``name``.
        n_envs: number of copies the caller runs in parallel (a vectorized env). Each kwarg named in
            ``entry.per_instance`` is divided by it (rounded down, at least 1), so that events counted per
            instance -- the bandit's switches -- happen at the same *total* step count as with one env.
            Overrides are used as given.
        overrides: constructor or ``gymnasium.make`` keyword arguments.

    Raises:
        ValueError: unknown entry name, or ``n_envs < 1``.
        ModuleNotFoundError: the entry ``requires`` a package that is not installed.
    """
    resolved = get_entry(entry) if isinstance(entry, str) else entry
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
    if resolved.requires is not None:
        try:
            importlib.import_module(resolved.requires)
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                f"suite entry {resolved.name!r} needs the optional package {resolved.requires!r}; "
                f"install it with `pip install {resolved.requires}`"
            ) from error
    kwargs = dict(resolved.kwargs)
    for key in resolved.per_instance:
        kwargs[key] = max(1, int(kwargs[key]) // n_envs)
    kwargs.update(overrides)
    if HORIZON_KWARG in overrides and "max_episode_steps" not in overrides:
        kwargs["max_episode_steps"] = overrides[HORIZON_KWARG]
    env: gym.Env[Any, Any] = gym.make(resolved.env_id, **kwargs)
    for path in resolved.wrappers:
        env = _import_object(path)(env)
    return env
