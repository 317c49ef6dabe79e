"""The rlfloor benchmark suite, as data: which tasks, with which settings, budgets and score references.

Each :class:`SuiteEntry` names one task (an env id plus constructor kwargs), the number of environment steps
a comparison run trains for, the capability it probes, how it is scored, the two reference returns that map
a return to a score in [0, 1] (see :mod:`envs.scoring`) with where each comes from, and -- for tasks that need
them -- per-algorithm training settings (:attr:`SuiteEntry.hyperparams`, rl-zoo3 style).

Tags select sub-suites:

* ``core`` -- the default comparison grid: the exploration probes, budgets summing to 150k steps (a full
  ~6 agents x 10 seeds grid fits in about an hour on 2 cores at ~1,250 PPO steps/s per core);
* ``probe`` -- every rlfloor exploration probe (``core`` plus ``deepsea-12`` and the stochastic DeepSea);
* ``control`` -- standard Gymnasium control tasks, for the "floor tax" on ordinary problems and a classic
  sparse-reward failure (MountainCar);
* ``external`` -- the external tier, real packages behind optional extras, one tag per package:
  ``minigrid`` (``pip install -e '.[minigrid]'``: the MiniGrid ladder, also tagged ``ladder`` and
  ``ladder-easy`` / ``ladder-medium`` / ``ladder-hard``: MiniGrid's image view, the grid CNN of
  :mod:`rlfloor.networks` and lcswillems/rl-starter-files' PPO and A2C settings; ``minigrid-legacy`` keeps the
  published rl-zoo3 configuration, FlatObsWrapper + MLP, under which stock PPO learns nothing),
  ``minatar`` (``'.[minatar]'``: the 5 games at the MinAtar paper's 5M
  frames, also tagged ``cluster``) and ``bsuite`` (``'.[bsuite]'``: bsuite's own deep_sea through shimmy, the
  external reference for our DeepSea);
* ``nonstationary-tier`` -- where the best behaviour changes while the policy is committed, one kind of
  change each: drifting payoffs (``drifting-bandit``), permuted action meanings (``permuted-grid``), a moving
  goal (``moving-goal-grid``); see ``docs/suite/non-stationary.md``. Their schedules count steps per env
  instance (``per_instance``), and their references are exact for the whole run (every phase). Every
  ``non-stationary`` entry states the step of its first change (:attr:`SuiteEntry.first_change`): a run
  that ends by then never sees one, and the harness refuses it;
* one tag per capability: ``deep-exploration``, ``non-stationary``, ``deception``, ``symmetric-optima``,
  ``action-masking``, ``sparse-reward``, ``floor-tax``.

References are measured or computed, never guessed (one source of truth each):

* rlfloor's own tasks: both references are the exact values the environment computes by dynamic programming
  (``env.unwrapped.random_return`` / ``optimal_return``); the entries read them from the env.
* Every other random reference is the mean of >= 1,000 uniform-random episodes, with its standard error and
  episode count in the entry (:data:`RANDOM_REFERENCES`, measured by ``scripts/measure_references.py``).
* Every optimal reference is the env's own definition (CartPole's 500-step limit, MountainCar's registered
  solved threshold), a computation (MiniGrid: the reward ``1 - 0.9 * steps / max_steps`` of the shortest
  solution, by breadth-first search, averaged over layouts: :data:`MINIGRID_OPTIMAL`) or a cited result
  (Acrobot: the RL-Zoo's tuned PPO). MinAtar has none (``optimal_return=None``): its runs are compared on raw
  returns. ``random_source`` / ``optimal_source`` say which, in one line.

Budgets, the stock settings of each task and the calibration runs behind them are on the documentation site
(the benchmark suite, the MiniGrid ladder, and "Stock baselines on the probes").
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the rlfloor/ ids)
from envs.scoring import normalized_score
from rlfloor.checks import check_int, import_optional

HORIZON_KWARG = "horizon"


HYPERPARAM_FAMILIES: tuple[str, ...] = ("ppo", "a2c")
"""Algorithm families :attr:`SuiteEntry.hyperparams` may be keyed by ("ppo" also serves MaskablePPO)."""

HYPERPARAM_SPECIAL_KEYS: tuple[str, ...] = ("n_envs", "normalize", "policy_kwargs")
"""Keys of a hyperparameter set that are not algorithm kwargs: env copies, ``VecNormalize`` and the policy's
keyword arguments (a mapping, or the dotted path of one, e.g. ``"rlfloor.networks.GRID_POLICY_KWARGS"``)."""


def _freeze_hyperparams(name: str, hyperparams: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    """Check ``hyperparams`` (see :attr:`SuiteEntry.hyperparams`) and return a read-only copy."""
    frozen: dict[str, Mapping[str, Any]] = {}
    for family, values in hyperparams.items():
        if family not in HYPERPARAM_FAMILIES:
            allowed = ", ".join(HYPERPARAM_FAMILIES)
            raise ValueError(f"hyperparams of {name!r}: unknown algorithm family {family!r}; allowed: {allowed}")
        check_int(f"hyperparams of {name!r}: {family}.n_envs", values.get("n_envs", 1), 1)
        if not isinstance(values.get("normalize", False), bool):
            raise ValueError(f"hyperparams of {name!r}: {family}.normalize must be a bool, got {values['normalize']!r}")
        policy_kwargs = values.get("policy_kwargs", {})
        if not isinstance(policy_kwargs, (str, Mapping)):
            raise ValueError(
                f"hyperparams of {name!r}: {family}.policy_kwargs must be a mapping or the dotted path of one, "
                f"got {policy_kwargs!r}"
            )
        frozen[family] = MappingProxyType(dict(values))
    return MappingProxyType(frozen)


def _plain(value: Any) -> Any:
    """``value`` with read-only mappings (at any depth) turned into dicts, for pickling."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class SuiteEntry:
    """One task of the suite. Instances are immutable; ``kwargs`` and ``hyperparams`` are read-only mappings."""

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
    """Expected episode return of the uniform-random policy (score 0): exact, or the mean of
    ``random_episodes`` measured episodes."""
    optimal_return: float | None
    """Episode return of an optimal (or cited reference) policy (score 1); ``None`` where no optimum is defined
    or published -- such a task is compared on raw returns (:func:`normalize_score` refuses it)."""
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
    first_change: int | None = None
    """Env step (counted over all env copies) at which a non-stationary task first changes: its first switch,
    or the first pull at which the best arm of a drifting bandit changes. A run of no more steps never sees a
    change, and the harness refuses it. ``None`` for a stationary task; required with the tag ``non-stationary``."""
    reference_steps: int | None = None
    """Run length (env steps over all env copies) for which the references hold, when they hold for that length
    only (the drifting bandit's optimum is the best arm's payoff averaged over its run): a run of another length
    would be scored against another window's optimum, and the harness refuses it. ``None``: any length."""
    random_return_se: float = 0.0
    """Standard error of :attr:`random_return` (0 when it is exact)."""
    random_episodes: int | None = None
    """Uniform-random episodes behind :attr:`random_return`; ``None`` when it is exact (computed by the env)."""
    random_source: str = ""
    """One line: where :attr:`random_return` comes from (exact computation, or the measuring command)."""
    optimal_source: str = ""
    """One line: where :attr:`optimal_return` comes from (the env's own definition, a computation, or a citation)."""
    extra: str | None = None
    """The ``pyproject.toml`` extra that installs :attr:`requires` (``pip install -e '.[extra]'``)."""
    setup: str | None = None
    """Dotted path of a no-argument callable that registers :attr:`env_id` (run by :func:`make` if the id is
    not registered yet), e.g. ``"minatar.gym.register_envs"``."""
    hyperparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    """Per-algorithm-family training settings the task is known to need, rl-zoo3 style: keyed by family
    (``"ppo"`` -- also used by MaskablePPO -- and ``"a2c"``), each a mapping of algorithm constructor kwargs
    (``n_steps``, ``batch_size``, ``learning_rate``, ...) plus the special keys ``n_envs`` (int, parallel env
    copies) and ``normalize`` (bool, wrap the vectorized env in ``VecNormalize``). Empty: the agent preset's
    own settings apply. A preset's exploration settings (floor, entropy) are meant to go on top of these."""

    def __post_init__(self) -> None:
        """Freeze ``kwargs`` and ``hyperparams`` and check the fields."""
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))
        if not self.name or self.name != self.name.strip().lower() or " " in self.name:
            raise ValueError(f"name must be a non-empty lower-case token without spaces, got {self.name!r}")
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget <= 0:
            raise ValueError(f"budget of {self.name!r} must be a positive integer, got {self.budget!r}")
        if self.optimal_return is not None and not self.optimal_return > self.random_return:
            raise ValueError(
                f"optimal_return of {self.name!r} must exceed random_return, got "
                f"{self.optimal_return!r} <= {self.random_return!r}"
            )
        if not self.random_return_se >= 0.0:
            raise ValueError(f"random_return_se of {self.name!r} must be >= 0, got {self.random_return_se!r}")
        if self.random_episodes is not None and (
            isinstance(self.random_episodes, bool)
            or not isinstance(self.random_episodes, int)
            or self.random_episodes < 1
        ):
            raise ValueError(f"random_episodes of {self.name!r} must be None or >= 1, got {self.random_episodes!r}")
        object.__setattr__(self, "hyperparams", _freeze_hyperparams(self.name, self.hyperparams))
        if self.first_change is not None:
            check_int(f"first_change of {self.name!r}", self.first_change, 1)
        if ("non-stationary" in self.tags) != (self.first_change is not None):
            raise ValueError(
                f"suite entry {self.name!r}: the tag 'non-stationary' and first_change={self.first_change!r} go "
                "together (a non-stationary task states when it first changes)"
            )

    @property
    def has_references(self) -> bool:
        """True if both references exist, so returns can be normalized to a score."""
        return self.optimal_return is not None

    def __reduce__(self) -> tuple[type[SuiteEntry], tuple[Any, ...]]:
        """Pickle support (``MappingProxyType`` itself cannot be pickled): rebuild from plain values."""
        return (type(self), tuple(_plain(getattr(self, f.name)) for f in fields(self)))


def _exact(env_id: str, **kwargs: Any) -> dict[str, Any]:
    """Reference fields of an rlfloor task, read from the env itself (one source of truth)."""
    env = gym.make(env_id, **kwargs).unwrapped
    return {
        "random_return": float(env.random_return),  # type: ignore[attr-defined]
        "optimal_return": float(env.optimal_return),  # type: ignore[attr-defined]
        "random_source": f"exact: computed by {env_id} (env.unwrapped.random_return)",
        "optimal_source": f"exact: computed by {env_id} (env.unwrapped.optimal_return)",
    }


def _first_best_change(env_id: str, pulls: int, **kwargs: Any) -> int:
    """The first pull (0-based) of a drifting bandit at which its best arm differs from the first one, within
    ``pulls`` (computed from the env's payoff path, as its references are)."""
    env = gym.make(env_id, **kwargs).unwrapped
    best = np.argmax(env.payoffs(np.arange(pulls)), axis=1)  # type: ignore[attr-defined]
    changes = np.flatnonzero(best != best[0])
    if changes.size == 0:
        raise ValueError(f"{env_id} with {kwargs} has no change of its best arm within {pulls} pulls")
    return int(changes[0])


_SCORE = "mean episode return, normalized to [random, optimal] and clipped"
_RAW = "mean episode return (raw: no optimal reference, so no normalized score)"

_MEASURE = "scripts/measure_references.py"

RANDOM_REFERENCES: Mapping[str, tuple[float, float, int]] = MappingProxyType(
    {
        # name: (mean return, standard error, episodes) of the uniform-random policy, measured by
        # `nice -n 10 python scripts/measure_references.py` (episode i reset with seed i, actions from
        # numpy.random.default_rng(0)); printed by the script in this form.
        "cartpole": (22.197, 0.358, 1000),
        "acrobot": (-499.093, 0.308, 1000),
        "mountaincar": (-200.0, 0.0, 1000),
        "minigrid-doorkey-5": (0.0222932, 0.00306, 1000),
        "minigrid-flat-unlock": (0.0233625, 0.00382, 1000),
        "minigrid-doorkey-8": (0.0094498, 0.00203, 1000),
        "minigrid-keycorridor": (0.00202, 0.000896, 1000),
        "minigrid-multiroom-n4-s5": (0.0, 0.0, 1000),  # no random success in 1000 episodes of 80 steps
        "minatar-asterix": (0.476, 0.0253, 1000),
        "minatar-breakout": (0.381, 0.0204, 1000),
        "minatar-freeway": (0.387, 0.0196, 1000),
        "minatar-seaquest": (0.11, 0.0124, 1000),
        "minatar-space-invaders": (3.97, 0.0972, 1000),
    }
)
"""Measured uniform-random references of the tasks whose env does not compute one: (mean, SE, episodes)."""

MINIGRID_OPTIMAL: Mapping[str, tuple[float, float, int]] = MappingProxyType(
    {
        # name: (mean, standard error, layouts) of MiniGrid's reward for the shortest solution,
        # 1 - 0.9 * steps / max_steps, over layouts reset with seeds 0..layouts-1 (breadth-first search over the
        # env's own transitions, `scripts/measure_references.py --optimal --layouts N`: 100 for the first two,
        # 30 for the larger rungs, whose search takes 10-150 s a layout here).
        "minigrid-doorkey-5": (0.964828, 0.000653, 100),
        "minigrid-flat-unlock": (0.969844, 0.000734, 100),
        "minigrid-doorkey-8": (0.976844, 0.000894, 30),
        "minigrid-keycorridor": (0.932778, 0.00312, 30),
        "minigrid-multiroom-n4-s5": (0.769375, 0.00549, 30),
    }
)
"""Computed optimal references of the MiniGrid tasks: (mean over layouts, SE, layouts)."""


def _measured(name: str) -> dict[str, Any]:
    """Random-reference fields of ``name`` from :data:`RANDOM_REFERENCES`."""
    mean, se, episodes = RANDOM_REFERENCES[name]
    return {
        "random_return": mean,
        "random_return_se": se,
        "random_episodes": episodes,
        "random_source": f"measured: {episodes} uniform-random episodes ({_MEASURE})",
    }


_GRID_POLICY = "rlfloor.networks.GRID_POLICY_KWARGS"  # the grid CNN (a dotted path: envs does not import torch)

_GRID_PPO: Mapping[str, Any] = MappingProxyType(
    {
        # lcswillems/rl-starter-files @317da04, scripts/train.py defaults for --algo ppo: --procs 16,
        # --frames-per-proc 128, --epochs 4, --batch-size 256, --lr 0.001, --discount 0.99, --gae-lambda 0.95,
        # --entropy-coef 0.01, --value-loss-coef 0.5, --max-grad-norm 0.5, --clip-eps 0.2. Adam's epsilon stays
        # SB3's 1e-5 (rl-starter-files: 1e-8), as in the calibration runs that learn (shared/CALIBRATION.md).
        "n_envs": 16,
        "n_steps": 128,
        "n_epochs": 4,
        "batch_size": 256,
        "learning_rate": 1e-3,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "ent_coef": 0.01,
        "vf_coef": 0.5,
        "max_grad_norm": 0.5,
        "clip_range": 0.2,
        "policy_kwargs": _GRID_POLICY,
    }
)

_GRID_A2C: Mapping[str, Any] = MappingProxyType(
    {
        # the same file's defaults for --algo a2c: --frames-per-proc 5, RMSprop with --optim-alpha 0.99 (SB3's)
        # and --optim-eps 1e-8, and the shared settings above.
        "n_envs": 16,
        "n_steps": 5,
        "learning_rate": 1e-3,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "ent_coef": 0.01,
        "vf_coef": 0.5,
        "max_grad_norm": 0.5,
        "rms_prop_eps": 1e-8,
        "policy_kwargs": _GRID_POLICY,
    }
)


MINIGRID_WRAPPERS: tuple[str, ...] = ("envs.external.minigrid.FastImgObsWrapper",)
"""The MiniGrid ladder's observation: MiniGrid's 7x7x3 image view alone, computed by the fast view
(:mod:`envs.external.minigrid_view`, bit-identical to MiniGrid's ``ImgObsWrapper``)."""
MINIGRID_HYPERPARAMS: Mapping[str, Mapping[str, Any]] = MappingProxyType({"ppo": _GRID_PPO, "a2c": _GRID_A2C})
"""The MiniGrid ladder's training settings: rl-starter-files' PPO and A2C with the grid CNN."""


def _minigrid_references(name: str) -> dict[str, Any]:
    """Reference fields of the MiniGrid task measured as ``name``: the measured random return and the searched
    optimum (:data:`MINIGRID_OPTIMAL`)."""
    optimal, optimal_se, layouts = MINIGRID_OPTIMAL[name]
    return {
        **_measured(name),
        "optimal_return": optimal,
        "optimal_source": (
            f"computed: mean over {layouts} layouts (SE {optimal_se:.4f}) of the shortest solution's reward "
            f"1 - 0.9 * steps / max_steps (breadth-first search, {_MEASURE} --optimal)"
        ),
    }


def _minigrid(name: str, env_id: str, budget: int, probes: str, rung: str) -> SuiteEntry:
    """A rung of the MiniGrid ladder: MiniGrid's image view, the grid CNN and rl-starter-files' settings."""
    return SuiteEntry(
        name=name,
        env_id=env_id,
        kwargs={},
        budget=budget,
        probes=probes,
        score=f"{_SCORE}; success pays 1 - 0.9 * steps / max_steps",
        tags=("external", "minigrid", "ladder", f"ladder-{rung}", "sparse-reward"),
        requires="minigrid",
        extra="minigrid",
        wrappers=MINIGRID_WRAPPERS,
        hyperparams=MINIGRID_HYPERPARAMS,
        **_minigrid_references(name),
    )


def _minigrid_flat(name: str, env_id: str, budget: int, probes: str, reference: str) -> SuiteEntry:
    """A legacy MiniGrid entry: rl-zoo3's flat observation, MLP and PPO settings (learns nothing here).

    ``reference``: the entry whose measured references it shares (the same task; the observation does not change
    a uniform-random policy's return).
    """
    return SuiteEntry(
        name=name,
        env_id=env_id,
        kwargs={},
        budget=budget,
        probes=f"{probes} (legacy: rl-zoo3's FlatObsWrapper + MLP; stock PPO ends below random here)",
        score=f"{_SCORE}; success pays 1 - 0.9 * steps / max_steps",
        tags=("external", "minigrid-legacy"),
        requires="minigrid",
        extra="minigrid",
        wrappers=("envs.external.minigrid.FlatObsWrapper",),
        hyperparams={"ppo": _ZOO_MINIGRID_PPO},
        **_minigrid_references(reference),
    )


_ZOO_MINIGRID_PPO: Mapping[str, Any] = MappingProxyType(
    {
        # rl-zoo3 2.x `hyperparams/ppo.yml`, `&minigrid-defaults` (after lcswillems/rl-starter-files);
        # its `policy: MlpPolicy`, `env_wrapper: FlatObsWrapper` and `n_timesteps` are the entry's wrappers
        # and budget.
        "n_envs": 8,
        "normalize": True,
        "n_steps": 128,
        "batch_size": 64,
        "gae_lambda": 0.95,
        "gamma": 0.99,
        "n_epochs": 10,
        "ent_coef": 0.0,
        "learning_rate": 2.5e-4,
        "clip_range": 0.2,
    }
)

_PROBE_HYPERPARAMS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        # Chosen by a sweep of stock settings only (5 PPO and 5 A2C candidates x 3 seeds on every probe at the
        # comparison's half budgets; best stock IQM wins; docs: results, "Stock baselines on the probes"):
        # PPO with 4 envs x n_steps 32 (78-234 updates in a 10k-30k run, against SB3's default 2048-step
        # rollouts: 4-14), minibatch 64, 10 epochs, and rl-zoo3's CartPole discounting (gamma 0.98,
        # gae_lambda 0.8). A2C keeps SB3's defaults (1 env x n_steps 5: 2,000+ updates), which no candidate beat.
        "ppo": {"n_envs": 4, "n_steps": 32, "batch_size": 64, "n_epochs": 10, "gamma": 0.98, "gae_lambda": 0.8},
    }
)
"""Stock PPO settings of rlfloor's probes (the ``ppo`` family also serves MaskablePPO)."""

# rl-zoo3's tuned settings for the control tasks, DLR-RM/rl-baselines3-zoo @22e3ff2 hyperparams/ppo.yml and
# hyperparams/a2c.yml (their n_timesteps are not used: the suite's budgets stay). rl-zoo3 anneals CartPole's
# PPO learning rate and clip range linearly to 0 (lin_0.001, lin_0.2); data cannot hold a schedule, so both
# are constant here.
_ZOO_CONTROL: Mapping[str, Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "cartpole": {
            "ppo": {
                "n_envs": 8,
                "n_steps": 32,
                "batch_size": 256,
                "gae_lambda": 0.8,
                "gamma": 0.98,
                "n_epochs": 20,
                "ent_coef": 0.0,
                "learning_rate": 1e-3,
                "clip_range": 0.2,
            },
            "a2c": {"n_envs": 8, "ent_coef": 0.0},
        },
        "acrobot": {
            "ppo": {
                "normalize": True,
                "n_envs": 16,
                "n_steps": 256,
                "gae_lambda": 0.94,
                "gamma": 0.99,
                "n_epochs": 4,
                "ent_coef": 0.0,
            },
            "a2c": {"normalize": True, "n_envs": 16, "ent_coef": 0.0},
        },
        "mountaincar": {
            "ppo": {
                "normalize": True,
                "n_envs": 16,
                "n_steps": 16,
                "gae_lambda": 0.98,
                "gamma": 0.99,
                "n_epochs": 4,
                "ent_coef": 0.0,
            },
            "a2c": {"normalize": True, "n_envs": 16, "ent_coef": 0.0},
        },
    }
)

_MINATAR_GAMES: tuple[tuple[str, str, str], ...] = (
    ("asterix", "Asterix", "dodge enemies, collect treasure; dense but risky rewards"),
    ("breakout", "Breakout", "a paddle and bricks; reward for each brick"),
    ("freeway", "Freeway", "cross a busy road; sparse reward per crossing, a classic exploration test"),
    ("seaquest", "Seaquest", "rescue divers and surface for air: long-horizon credit assignment"),
    ("space-invaders", "SpaceInvaders", "shoot aliens that speed up; dense reward"),
)


def _minatar(name: str, game: str, probes: str) -> SuiteEntry:
    """A MinAtar entry at the MinAtar paper's budget (5M frames; one frame per step)."""
    return SuiteEntry(
        name=f"minatar-{name}",
        env_id=f"MinAtar/{game}-v1",
        kwargs={},
        budget=5_000_000,
        probes=f"MinAtar {game}: {probes} (10x10 Atari-like; cluster budget)",
        score=_RAW,
        optimal_return=None,
        optimal_source=(
            "none: MinAtar defines no maximum and Young & Tian (2019, arXiv:1903.03176) publish learning "
            "curves, not a target; compare raw returns"
        ),
        tags=("external", "minatar", "cluster"),
        requires="minatar",
        extra="minatar",
        setup="minatar.gym.register_envs",
        wrappers=("envs.external.minatar.MinAtarSeeding",),
        **_measured(f"minatar-{name}"),
    )


SUITE: tuple[SuiteEntry, ...] = (
    SuiteEntry(
        name="deepsea-6",
        env_id="rlfloor/DeepSea-v1",
        kwargs={"size": 6, "mapping_seed": 42},
        budget=20_000,
        probes="deep exploration, small: 1 in 64 random episodes finds the reward",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("core", "probe", "deep-exploration"),
        **_exact("rlfloor/DeepSea-v1", size=6),
    ),
    SuiteEntry(
        name="deepsea-16",
        env_id="rlfloor/DeepSea-v1",
        kwargs={"size": 16, "mapping_seed": 42},
        budget=20_000,
        probes="deep exploration, large: 1 in 65536; the control where dithering (and a floor) should fail",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("core", "probe", "deep-exploration"),
        **_exact("rlfloor/DeepSea-v1", size=16),
    ),
    SuiteEntry(
        name="switching-bandit",
        env_id="rlfloor/SwitchingBandit-v0",
        kwargs={"n_arms": 4, "switch_every": 10_000},
        budget=40_000,
        probes="non-stationarity: the paying arm moves every 10k pulls; a collapsed policy never re-finds it",
        score=f"{_SCORE}, over the training pulls (per-instance schedule; 1 = always the paying arm)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("core", "probe", "non-stationary"),
        per_instance=("switch_every",),
        first_change=10_000,  # switch_every: the first switch
        **_exact("rlfloor/SwitchingBandit-v0", n_arms=4, switch_every=10_000),
    ),
    # The non-stationary tier (issue 20): one kind of change each; see docs/suite/non-stationary.md.
    SuiteEntry(
        name="drifting-bandit",
        env_id="rlfloor/DriftingBandit-v0",
        kwargs={"n_arms": 4, "drift_pulls": 10_000, "reference_pulls": 40_000, "schedule_seed": 3},
        budget=40_000,
        probes="gradual non-stationarity: Bernoulli payoffs drift; the first best arm sinks to ~0.1 after 20k pulls",
        score=f"{_SCORE}, over the training pulls (optimal = the best arm at every pull, averaged over the run)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("non-stationary", "nonstationary-tier"),
        per_instance=("drift_pulls", "reference_pulls"),
        first_change=_first_best_change(
            "rlfloor/DriftingBandit-v0", 40_000, n_arms=4, drift_pulls=10_000, reference_pulls=40_000, schedule_seed=3
        ),  # 14,256: the best arm first changes there (computed from the payoff path)
        reference_steps=40_000,  # the optimum averages the best arm over reference_pulls
        **_exact("rlfloor/DriftingBandit-v0", n_arms=4, drift_pulls=10_000, reference_pulls=40_000, schedule_seed=3),
    ),
    SuiteEntry(
        name="permuted-grid",
        env_id="rlfloor/PermutedGrid-v0",
        kwargs={"size": 5, "switch_every": 20_000},
        budget=40_000,
        probes="non-stationary dynamics: after 20k steps the actions that led to the goal lead away from it",
        score=f"{_SCORE}, over the training episodes; 1 = shortest path (8 moves) in every phase",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("non-stationary", "nonstationary-tier"),
        per_instance=("switch_every",),
        first_change=20_000,  # switch_every: the first permutation
        **_exact("rlfloor/PermutedGrid-v0", size=5, switch_every=20_000),
    ),
    SuiteEntry(
        name="moving-goal-grid",
        env_id="rlfloor/MovingGoalGrid-v0",
        kwargs={"size": 5, "switch_every": 20_000},
        budget=60_000,
        probes="non-stationary goal: the paying corner of a 5x5 grid moves every 20k steps; the others end unpaid",
        score=f"{_SCORE}, over the training episodes; 1 = straight to the paying corner (4 moves)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("non-stationary", "nonstationary-tier"),
        per_instance=("switch_every",),
        first_change=20_000,  # switch_every: the goal's first move
        **_exact("rlfloor/MovingGoalGrid-v0", size=5, switch_every=20_000),
    ),
    SuiteEntry(
        name="deceptive-chain",
        env_id="rlfloor/DeceptiveChain-v0",
        kwargs={"length": 8},
        budget=30_000,
        probes="deception: a small sure reward at the start vs a 200x larger one 7 risky steps away",
        score=f"{_SCORE}; farming the small reward scores ~0.005",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("core", "probe", "deception"),
        **_exact("rlfloor/DeceptiveChain-v0", length=8),
    ),
    SuiteEntry(
        name="symmetric-goals",
        env_id="rlfloor/SymmetricGoals-v0",
        kwargs={"n_goals": 3, "length": 5},
        budget=20_000,
        probes="symmetric optima: 3 equal goals reachable only by committing; cost of not committing",
        score=f"{_SCORE}; 1 = straight to a goal in 5 steps",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("core", "probe", "symmetric-optima"),
        **_exact("rlfloor/SymmetricGoals-v0", n_goals=3, length=5),
    ),
    SuiteEntry(
        name="masked-grid",
        env_id="rlfloor/MaskedGrid-v0",
        kwargs={},
        budget=20_000,
        probes="state-dependent invalid actions: the floor must cover valid actions only (1-4 per cell)",
        score=f"{_SCORE}; random = uniform over valid actions; 1 = shortest path (14 moves)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("core", "probe", "action-masking"),
        action_masks=True,
        **_exact("rlfloor/MaskedGrid-v0"),
    ),
    SuiteEntry(
        name="deepsea-12",
        env_id="rlfloor/DeepSea-v1",
        kwargs={"size": 12, "mapping_seed": 42},
        budget=20_000,
        probes="deep exploration, borderline: 1 in 4096; PPO finds it by luck in about 1 run in 3",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("probe", "deep-exploration"),
        **_exact("rlfloor/DeepSea-v1", size=12),
    ),
    SuiteEntry(
        name="deepsea-stochastic-8",
        env_id="rlfloor/DeepSeaStochastic-v1",
        kwargs={"size": 8, "mapping_seed": 42},
        budget=30_000,
        probes="deep exploration under noise: rights fail w.p. 1/N, N(0,1) reward noise at the ends",
        score=f"{_SCORE} (noisy returns; expected optimum 0.3827)",
        hyperparams=_PROBE_HYPERPARAMS,
        tags=("probe", "deep-exploration"),
        **_exact("rlfloor/DeepSeaStochastic-v1", size=8),
    ),
    SuiteEntry(
        name="cartpole",
        env_id="CartPole-v1",
        kwargs={},
        budget=50_000,
        probes="standard control, dense reward: the floor tax on a task PPO solves",
        score=f"{_SCORE}; optimal 500 (the time limit)",
        optimal_return=500.0,
        optimal_source="definition: 500 steps at +1, CartPole-v1's time limit (Gymnasium)",
        tags=("control", "floor-tax"),
        hyperparams=_ZOO_CONTROL["cartpole"],
        **_measured("cartpole"),
    ),
    SuiteEntry(
        name="acrobot",
        env_id="Acrobot-v1",
        kwargs={},
        budget=100_000,
        probes="standard control, sparse-ish reward: the floor tax on a harder swing-up",
        score=f"{_SCORE}; optimal -75 (RL-Zoo tuned PPO)",
        optimal_return=-75.0,
        optimal_source=(
            "cited: RL-Zoo's tuned PPO agent sb3/ppo-Acrobot-v1, -74.6 +- 11.5 (rl-baselines3-zoo benchmark); "
            "Gymnasium's solved threshold is -100"
        ),
        tags=("control", "floor-tax"),
        hyperparams=_ZOO_CONTROL["acrobot"],
        **_measured("acrobot"),
    ),
    SuiteEntry(
        name="mountaincar",
        env_id="MountainCar-v0",
        kwargs={},
        budget=100_000,
        probes="standard control, classic sparse-reward failure: random never reaches the flag",
        score=f"{_SCORE}; optimal -110 (Gymnasium's solved threshold)",
        optimal_return=-110.0,
        optimal_source="definition: Gymnasium's registered reward_threshold for MountainCar-v0 (solved)",
        tags=("control", "sparse-reward", "floor-tax"),
        hyperparams=_ZOO_CONTROL["mountaincar"],
        **_measured("mountaincar"),
    ),
    _minigrid(
        "minigrid-doorkey-5",
        "MiniGrid-DoorKey-5x5-v0",
        100_000,
        "ladder, easy: pick up the key, open the door, reach the goal in a 5x5 grid (stock PPO solves it)",
        "easy",
    ),
    _minigrid(
        "minigrid-doorkey-8",
        "MiniGrid-DoorKey-8x8-v0",
        1_500_000,
        "ladder, medium: DoorKey in an 8x8 grid; stock PPO solves it late, so methods rank by steps to solve",
        "medium",
    ),
    _minigrid(
        "minigrid-keycorridor",
        "MiniGrid-KeyCorridorS3R3-v0",
        3_000_000,
        "ladder, hard: find a key behind one of 6 side doors, unlock another room, pick up the ball",
        "hard",
    ),
    _minigrid(
        "minigrid-multiroom-n4-s5",
        "MiniGrid-MultiRoom-N4-S5-v1",
        3_000_000,
        "ladder, hard: 4 rooms in a chain of closed doors, the goal in the last (-v1: 4 rooms; -v0 builds 6)",
        "hard",
    ),
    _minigrid_flat(
        "minigrid-flat-doorkey-5",
        "MiniGrid-DoorKey-5x5-v0",
        100_000,
        "sparse reward with sub-goals (key, door, goal) in a partially observed 5x5 grid",
        "minigrid-doorkey-5",
    ),
    _minigrid_flat(
        "minigrid-flat-unlock",
        "MiniGrid-Unlock-v0",
        100_000,
        "sparse reward behind two sub-goals (find the key, open the locked door) in two rooms",
        "minigrid-flat-unlock",
    ),
    *(_minatar(name, game, probes) for name, game, probes in _MINATAR_GAMES),
    SuiteEntry(
        name="bsuite-deepsea-12",
        env_id="bsuite/deep_sea-v0",
        kwargs={"size": 12, "mapping_seed": 42},
        budget=20_000,
        probes="bsuite's own deep_sea (via shimmy), the external reference for deepsea-12 (the same task)",
        score=f"{_SCORE}; 1 = always reaches the treasure (return 0.99)",
        tags=("external", "bsuite", "deep-exploration"),
        requires="shimmy",
        extra="bsuite",
        **{
            **_exact("rlfloor/DeepSea-v1", size=12),
            "random_source": "exact: bsuite's deep_sea is rlfloor/DeepSea-v1 step for step (tested), which computes it",
            "optimal_source": "exact: 1 - move_cost (bsuite's own _optimal_return)",
        },
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
    """Score of a return (or of a run's *mean* return) on ``entry``: clipped to [0, 1].

    Raises:
        ValueError: ``entry`` has no optimal reference (:attr:`SuiteEntry.has_references` is false).
    """
    resolved = get_entry(entry) if isinstance(entry, str) else entry
    if resolved.optimal_return is None:
        raise ValueError(
            f"suite entry {resolved.name!r} has no optimal reference ({resolved.optimal_source}); compare raw returns"
        )
    return normalized_score(episode_return, resolved.random_return, resolved.optimal_return)


def _import_object(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def require(entry: SuiteEntry) -> None:
    """Import the entry's optional package (if any), or raise ``ModuleNotFoundError`` naming the extra."""
    if entry.requires is not None:
        import_optional(entry.requires, entry.extra or entry.requires, f"suite entry {entry.name!r}")


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
    check_int("n_envs", n_envs, 1)
    require(resolved)
    if resolved.setup is not None and resolved.env_id not in gym.registry:
        _import_object(resolved.setup)()
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
