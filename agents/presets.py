"""Named agent presets: an algorithm, a policy and its exploration settings, as data.

Every preset is an :class:`AgentSpec`; :func:`build_agent` turns one into an SB3
model plus the callbacks its exploration settings need. Users add their own presets
from a JSON file with :func:`load_presets` without
editing this package. Presets hold no environment code.

Hyperparameters are the task's stock settings (a suite entry's tuned or cited PPO/A2C settings), else SB3's
defaults; a preset's own ``algo_kwargs`` go over them, so "stock" means a baseline that learns what it can.
"""

from __future__ import annotations

import collections.abc
import inspect
import json
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import gymnasium as gym
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecEnv

from rlfloor.callbacks import (
    AdaptiveEntropyCallback,
    AdaptiveFloorCallback,
    EntropyScheduleCallback,
    FloorScheduleCallback,
    IntrinsicRewardCallback,
)
from rlfloor.schedules import LinearSchedule
from rlfloor.settings import FLOOR_KWARGS

ALGORITHMS = ("ppo", "a2c", "maskable-ppo")
POLICIES = ("auto", "rlfloor", "stock")
RESERVED_ALGO_KWARGS = ("policy", "env", "policy_kwargs", "seed", "tensorboard_log", "verbose", "device")
"""Algorithm arguments set by :func:`build_agent` itself."""


@dataclass(frozen=True)
class AgentSpec:
    """A named agent: what to build and how it explores.

    :param name: the preset's name (``ppo-floor``).
    :param algo: ``"ppo"``, ``"a2c"`` or ``"maskable-ppo"``.
    :param description: one line for tables and ``--help``.
    :param policy: which policy class: ``"auto"`` (rlfloor's policy when the preset uses one of its
        settings, :data:`rlfloor.settings.FLOOR_KWARGS`, or ``floor_anneal``; else SB3's / sb3-contrib's stock
        ``MlpPolicy``), ``"rlfloor"`` or ``"stock"``.
    :param policy_kwargs: keyword arguments of the policy (``min_prob``, ``temperature``, ...).
    :param algo_kwargs: keyword arguments of the algorithm (``ent_coef``, ``n_steps``, ...).
    :param floor_anneal: ``(start, end)``: anneal ``min_prob`` linearly over training.
    :param entropy_schedule: ``(start, end)``: anneal ``ent_coef`` linearly over training.
    :param entropy_target: adaptive entropy coefficient tracking this fraction of ``log K``.
    :param baseline: the stock preset this one is compared against (``None`` for a stock preset).
    :param adaptive_floor: keyword arguments of :class:`AdaptiveFloorCallback` (``{}``: its defaults):
        ``min_prob`` follows the returns, raised when they drop (runs on rlfloor's policy).
    :param intrinsic: keyword arguments of :class:`rlfloor.intrinsic.IntrinsicRewardCallback`
        (``{"method": "count", "coef": 0.1}``), or ``None`` for no intrinsic reward.
    :param n_envs: parallel env copies, over the env's own setting (``None``: the env's, else 1); for candidate
        stock settings in a baseline sweep (``n_steps`` and the like go in ``algo_kwargs``).
    """

    name: str
    algo: str
    description: str
    policy: str = "auto"
    policy_kwargs: Mapping[str, Any] = field(default_factory=dict)
    algo_kwargs: Mapping[str, Any] = field(default_factory=dict)
    floor_anneal: tuple[float, float] | None = None
    entropy_schedule: tuple[float, float] | None = None
    entropy_target: float | None = None
    baseline: str | None = None
    adaptive_floor: Mapping[str, Any] | None = None
    intrinsic: Mapping[str, Any] | None = None
    n_envs: int | None = None

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"agent {self.name!r}: policy={self.policy!r} is not one of {POLICIES}")
        if self.n_envs is not None and (
            isinstance(self.n_envs, bool) or not isinstance(self.n_envs, int) or self.n_envs < 1
        ):
            raise ValueError(f"agent {self.name!r}: n_envs={self.n_envs!r} must be None or an integer >= 1")
        if self.algo not in ALGORITHMS:
            raise ValueError(f"agent {self.name!r}: algo={self.algo!r} is not one of {ALGORITHMS}")
        if not self.name or any(c in self.name for c in "/\\ "):
            raise ValueError(f"agent name {self.name!r} must be non-empty without '/', '\\\\' or spaces")
        object.__setattr__(self, "policy_kwargs", MappingProxyType(dict(self.policy_kwargs)))
        object.__setattr__(self, "algo_kwargs", MappingProxyType(dict(self.algo_kwargs)))
        for label, pair in (("floor_anneal", self.floor_anneal), ("entropy_schedule", self.entropy_schedule)):
            if pair is not None:
                if len(pair) != 2:
                    raise ValueError(f"agent {self.name!r}: {label}={pair!r} must be (start, end)")
                object.__setattr__(self, label, (float(pair[0]), float(pair[1])))
        if self.policy == "stock" and (
            self.floor_anneal is not None or self.adaptive_floor is not None or self.rlfloor_settings
        ):
            raise ValueError(
                f"agent {self.name!r}: policy='stock' cannot take "
                f"{sorted(self.rlfloor_settings) or 'floor_anneal / adaptive_floor'}"
            )
        if self.adaptive_floor is not None:
            if self.floor_anneal is not None:
                raise ValueError(f"agent {self.name!r}: adaptive_floor and floor_anneal both drive the floor")
            object.__setattr__(self, "adaptive_floor", MappingProxyType(dict(self.adaptive_floor)))
            try:
                AdaptiveFloorCallback(**self.adaptive_floor)  # validates the settings now
            except TypeError as error:
                raise ValueError(
                    f"agent {self.name!r}: adaptive_floor={dict(self.adaptive_floor)!r}: {error}"
                ) from None
        if self.entropy_schedule is not None and self.entropy_target is not None:
            raise ValueError(f"agent {self.name!r}: choose entropy_schedule or entropy_target, not both")
        if self.entropy_target is not None and not (0.0 < self.entropy_target < 1.0):
            raise ValueError(f"agent {self.name!r}: entropy_target={self.entropy_target!r} must be in (0, 1)")
        if self.intrinsic is not None:
            object.__setattr__(self, "intrinsic", MappingProxyType(dict(self.intrinsic)))
            try:
                IntrinsicRewardCallback(**self.intrinsic)  # validates the settings now
            except (TypeError, ValueError) as error:
                raise ValueError(f"agent {self.name!r}: intrinsic={dict(self.intrinsic)!r}: {error}") from error

    @property
    def uses_masks(self) -> bool:
        """True for agents that read ``action_masks()`` (MaskablePPO)."""
        return self.algo == "maskable-ppo"

    @property
    def rlfloor_settings(self) -> set[str]:
        """The policy settings that only rlfloor's policies have."""
        return set(self.policy_kwargs) & set(FLOOR_KWARGS)

    @property
    def uses_rlfloor_policy(self) -> bool:
        """True when the preset runs on rlfloor's policy class (see ``policy``)."""
        if self.policy != "auto":
            return self.policy == "rlfloor"
        return bool(self.rlfloor_settings) or self.floor_anneal is not None or self.adaptive_floor is not None

    def algorithm_class(self) -> type[BaseAlgorithm]:
        """The SB3 / sb3-contrib algorithm class."""
        return _algorithm_class(self)

    def policy_class(self) -> Any:
        """The policy class (or SB3's name for it) the model is built with."""
        return _policy(self)

    def check_kwargs(self, algo_kwargs: Mapping[str, Any] | None = None) -> None:
        """Check keyword names and types against the algorithm's and the policy's signatures.

        :param algo_kwargs: the algorithm arguments to check (default: the preset's own).
        :raises ValueError: one line naming the preset, the argument and what is accepted.
        """
        kwargs = dict(self.algo_kwargs if algo_kwargs is None else algo_kwargs)
        reserved = sorted(set(kwargs) & set(RESERVED_ALGO_KWARGS))
        if reserved:
            raise ValueError(f"agent {self.name!r}: algo_kwargs {reserved} are set by rlfloor; remove them")
        _check_signature(f"agent {self.name!r}: algo_kwargs", self.algorithm_class(), kwargs)
        policy = self.policy_class()
        if isinstance(policy, str):
            policy = self.algorithm_class().policy_aliases[policy]
        _check_signature(f"agent {self.name!r}: policy_kwargs", policy, dict(self.policy_kwargs))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle support (the sweep ships planned runs to its workers; ``MappingProxyType`` cannot be pickled)."""
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        for name in ("policy_kwargs", "algo_kwargs", "adaptive_floor", "intrinsic"):
            values[name] = None if values[name] is None else dict(values[name])
        return (_rebuild_spec, (values,))

    def check_build(
        self,
        env: VecEnv,
        seed: int,
        overrides: Mapping[str, Any],
        timesteps: int,
        policy_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model and its callbacks on ``env`` and start the callbacks as ``learn(timesteps)`` would,
        without training: SB3's checks, the policy's (every floor value of its schedule), the callbacks' (every
        schedule over the run, the observation space of an intrinsic bonus, the adaptive floor's range).

        :raises ValueError: (or SB3's ``AssertionError`` / torch's errors) for what the run would refuse.
        """
        model, callbacks = build_agent(self, env, seed, None, 0, overrides, policy_defaults)
        model.set_logger(Logger(None, []))
        started = CallbackList(callbacks)
        started.init_callback(model)
        started.on_training_start({"total_timesteps": timesteps, "reset_num_timesteps": True}, {})

    def build(
        self,
        env: gym.Env | VecEnv,
        seed: int,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        overrides: Mapping[str, Any] | None = None,
        policy_defaults: Mapping[str, Any] | None = None,
    ) -> tuple[BaseAlgorithm, list[BaseCallback]]:
        """Same as :func:`build_agent` for this preset."""
        return build_agent(self, env, seed, tensorboard_log, verbose, overrides, policy_defaults)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (saved beside every run)."""
        return {
            "name": self.name,
            "algo": self.algo,
            "description": self.description,
            "policy": self.policy,
            "uses_rlfloor_policy": self.uses_rlfloor_policy,
            "policy_kwargs": dict(self.policy_kwargs),
            "algo_kwargs": dict(self.algo_kwargs),
            "floor_anneal": self.floor_anneal,
            "entropy_schedule": self.entropy_schedule,
            "entropy_target": self.entropy_target,
            "baseline": self.baseline,
            "adaptive_floor": None if self.adaptive_floor is None else dict(self.adaptive_floor),
            "intrinsic": None if self.intrinsic is None else dict(self.intrinsic),
            "n_envs": self.n_envs,
        }


def _rebuild_spec(values: dict[str, Any]) -> AgentSpec:
    return AgentSpec(**values)


COUNT_BETA = (0.1, 0.0, 0.5)  # count bonus beta/sqrt(N(s)); beta 0.1 -> 0 over the first half (tuned on DeepSea)
# The same bonus annealed over the whole run. The half-run anneal ends at episode 5,000 of bsuite's 10,000 at
# every N; DeepSea N = 40 needs 5,000-8,000 episodes to solve (measured with this preset), so with COUNT_BETA no
# seed ever reached the treasure (docs/results/deepsea-scaling.md, "Why ppo-count stops at N = 30").
COUNT_BETA_FULL = (0.1, 0.0, 1.0)
# PPO normalizes advantages per minibatch: once the bonus is annealed away and the task is solved, the tiny
# remaining advantages are scaled up to unit size and the policy random-walks off the solution (measured on
# DeepSea-16; see the README). The intrinsic PPO presets therefore keep advantages unnormalized, as A2C does.
UNNORMALIZED = MappingProxyType({"normalize_advantage": False})
RND_COEF = 1.0  # RND bonus coefficient after normalization by the running std of intrinsic returns
RND_SETTINGS: Mapping[str, Any] = MappingProxyType({"method": "rnd", "coef": RND_COEF})
FLOOR = 0.02  # default floor: 2% per action (CartPole and DeepSea have K=2, the others K<=5)
# The adaptive floor's commitment gate, listed explicitly so that results of the first, ungated version (0.2.0) are
# never reused for these presets (docs/guide/adaptive-floor.md).
ADAPTIVE_FLOOR: Mapping[str, Any] = MappingProxyType({"commit_entropy": 0.15, "entropy_steps": 1_000})
# The same, plus the head shrink at each alarm: under the floor alone PPO samples a collapsed action but hardly
# learns it (published/adaptive-peak/, docs/guide/adaptive-floor.md, "Making the floored action learnable").
ADAPTIVE_FLOOR_SHRINK: Mapping[str, Any] = MappingProxyType({**ADAPTIVE_FLOOR, "shrink_head": True})

_BUILTIN = (
    AgentSpec("ppo", "ppo", "stock SB3 PPO (the task's stock settings, else SB3's defaults)"),
    AgentSpec("a2c", "a2c", "stock SB3 A2C (the task's stock settings, else SB3's defaults)"),
    AgentSpec("ppo-floor", "ppo", f"PPO, min_prob={FLOOR}", policy_kwargs={"min_prob": FLOOR}, baseline="ppo"),
    AgentSpec("a2c-floor", "a2c", f"A2C, min_prob={FLOOR}", policy_kwargs={"min_prob": FLOOR}, baseline="a2c"),
    AgentSpec(
        "ppo-floor-anneal",
        "ppo",
        "PPO, min_prob annealed 0.1 -> 0.01",
        floor_anneal=(0.1, 0.01),
        baseline="ppo",
    ),
    AgentSpec(
        "a2c-floor-anneal",
        "a2c",
        "A2C, min_prob annealed 0.1 -> 0.01",
        floor_anneal=(0.1, 0.01),
        baseline="a2c",
    ),
    AgentSpec(
        "ppo-floor-adaptive",
        "ppo",
        "PPO, adaptive min_prob: 0 until a committed policy's returns drop, then 0.05",
        adaptive_floor=ADAPTIVE_FLOOR,
        baseline="ppo",
    ),
    AgentSpec(
        "a2c-floor-adaptive",
        "a2c",
        "A2C, adaptive min_prob: 0 until a committed policy's returns drop, then 0.05",
        adaptive_floor=ADAPTIVE_FLOOR,
        baseline="a2c",
    ),
    AgentSpec(
        "ppo-floor-adaptive-shrink",
        "ppo",
        "PPO, adaptive min_prob as ppo-floor-adaptive; each alarm also shrinks the policy head (own probs >= 0.05)",
        adaptive_floor=ADAPTIVE_FLOOR_SHRINK,
        baseline="ppo",
    ),
    AgentSpec(
        "a2c-floor-adaptive-shrink",
        "a2c",
        "A2C, adaptive min_prob as a2c-floor-adaptive; each alarm also shrinks the policy head (own probs >= 0.05)",
        adaptive_floor=ADAPTIVE_FLOOR_SHRINK,
        baseline="a2c",
    ),
    AgentSpec("ppo-ent", "ppo", "PPO, fixed ent_coef=0.01", algo_kwargs={"ent_coef": 0.01}, baseline="ppo"),
    AgentSpec("a2c-ent", "a2c", "A2C, fixed ent_coef=0.01", algo_kwargs={"ent_coef": 0.01}, baseline="a2c"),
    AgentSpec(
        "ppo-ent-anneal", "ppo", "PPO, ent_coef annealed 0.05 -> 0", entropy_schedule=(0.05, 0.0), baseline="ppo"
    ),
    AgentSpec(
        "ppo-ent-adaptive",
        "ppo",
        "PPO, adaptive ent_coef (target 30% of log K)",
        entropy_target=0.3,
        baseline="ppo",
    ),
    AgentSpec(
        "a2c-ent-adaptive",
        "a2c",
        "A2C, adaptive ent_coef (target 30% of log K)",
        entropy_target=0.3,
        baseline="a2c",
    ),
    AgentSpec(
        "ppo-temp",
        "ppo",
        "PPO, softmax temperature 2",
        policy_kwargs={"temperature": 2.0},
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-clip",
        "ppo",
        "PPO, centered logits clipped to +-3 (straight-through)",
        policy_kwargs={"logit_clip": 3.0, "center_logits": True},
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-penalty",
        "ppo",
        "PPO, logit-range penalty 0.01 beyond +-3 (centered)",
        policy_kwargs={"logit_penalty": 0.01, "logit_penalty_bound": 3.0, "center_logits": True},
        baseline="ppo",
    ),
    AgentSpec("ppo-mask", "maskable-ppo", "stock sb3-contrib MaskablePPO"),
    AgentSpec(
        "ppo-mask-floor",
        "maskable-ppo",
        f"MaskablePPO, min_prob={FLOOR} over valid actions",
        policy_kwargs={"min_prob": FLOOR},
        baseline="ppo-mask",
    ),
    AgentSpec(
        "ppo-mask-floor-adaptive",
        "maskable-ppo",
        "MaskablePPO, adaptive min_prob over valid actions: 0 until a committed policy's returns drop, then 0.05",
        adaptive_floor=ADAPTIVE_FLOOR,
        baseline="ppo-mask",
    ),
    AgentSpec(
        "ppo-count",
        "ppo",
        "PPO (unnormalized advantages) + count bonus beta/sqrt(N(s)), beta 0.1 -> 0 over half the run",
        intrinsic={"method": "count", "coef": COUNT_BETA},
        algo_kwargs=UNNORMALIZED,
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-count-full",
        "ppo",
        "PPO (unnormalized advantages) + count bonus beta/sqrt(N(s)), beta 0.1 -> 0 over the whole run",
        intrinsic={"method": "count", "coef": COUNT_BETA_FULL},
        algo_kwargs=UNNORMALIZED,
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-simhash",
        "ppo",
        "PPO (unnormalized advantages) + SimHash (16 bits) count bonus, beta 0.1 -> 0 over half the run",
        intrinsic={"method": "simhash", "coef": COUNT_BETA},
        algo_kwargs=UNNORMALIZED,
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-rnd",
        "ppo",
        f"PPO (unnormalized advantages) + RND bonus (coef {RND_COEF} on the normalized bonus)",
        algo_kwargs=UNNORMALIZED,
        intrinsic=RND_SETTINGS,
        baseline="ppo",
    ),
    AgentSpec(
        "a2c-count",
        "a2c",
        "A2C + count bonus beta/sqrt(N(s)), beta 0.1 -> 0 over half the run (exact counts)",
        intrinsic={"method": "count", "coef": COUNT_BETA},
        baseline="a2c",
    ),
    AgentSpec(
        "a2c-rnd", "a2c", f"A2C + RND bonus (coef {RND_COEF}, normalized)", intrinsic=RND_SETTINGS, baseline="a2c"
    ),
    AgentSpec(
        "ppo-rnd-floor",
        "ppo",
        f"PPO (unnormalized advantages) + RND bonus, min_prob={FLOOR}",
        policy_kwargs={"min_prob": FLOOR},
        algo_kwargs=UNNORMALIZED,
        intrinsic=RND_SETTINGS,
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-mask-count",
        "maskable-ppo",
        "MaskablePPO (unnormalized advantages) + count bonus, beta 0.1 -> 0 over half the run",
        intrinsic={"method": "count", "coef": COUNT_BETA},
        algo_kwargs=UNNORMALIZED,
        baseline="ppo-mask",
    ),
)

# --- Episodic novelty presets (issue 19; rlfloor.intrinsic.episodic, docs/guide/episodic-novelty.md) -------------
# Settings of the papers' MiniGrid/MiniHack runs. Algorithm settings come from the env (the MiniGrid tier gives
# rl-starter-files' PPO/A2C and the grid CNN); the bonus is constant (not annealed), so PPO keeps its advantage
# normalization here.
EPISODIC_COUNT_BETA = 0.005  # beta/sqrt(N_episode): no paper gives one for PPO on MiniGrid; the scale of the
# lifelong count bonus that helped PPO on DoorKey-8x8 with the grid CNN (issue 18), so the two compare at one beta.
EPISODIC_COUNT_SETTINGS: Mapping[str, Any] = MappingProxyType({"method": "episodic-count", "coef": EPISODIC_COUNT_BETA})
NOVELD_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {
        # tianjunz/NovelD README (MiniGrid): --intrinsic_reward_coef 0.05, no intrinsic reward normalization
        # (src/algos/bebold.py); alpha = --scale_fac 0.5 (src/arguments.py); RND output 128 (src/models.py,
        # MinigridMLPTargetEmbeddingNet); predictor learning rate 1e-4 (--predictor_learning_rate).
        "method": "noveld",
        "coef": 0.05,
        "normalize": False,
        "method_kwargs": {"alpha": 0.5, "embedding_dim": 128, "learning_rate": 1e-4},
    }
)
E3B_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {
        # facebookresearch/e3b sweep_slurm_neurips_2022.py (train-elliptical): --ridge 0.1, --reward_norm int (the
        # bonus divided by a running std of the bonus); predictor learning rate 1e-4 (src/arguments.py). Embedding
        # 128, not MiniHack's 1024 (rlfloor.intrinsic.episodic.E3B).
        # coef: NOT the sweep's --intrinsic_reward_coef 1.0. On MiniGrid the normalized bonus is ~0.8 per step and
        # stays there all episode, so at coef 1 a 250-step DoorKey-5x5 episode pays ~200 in bonus against a goal
        # reward below 1: PPO learned to run out the clock (episode length 240-250, bonus share 1.0) and solved
        # 0 of 10 seeds (published/ladder, first run); coef 0.05 did the same on 2 of 2 seeds. 0.005 is the
        # episodic count's per-step scale (EPISODIC_COUNT_BETA): DoorKey-5x5 0.996 on 2 of 2 seeds, episodes
        # ~10 steps by 100k (docs/guide/episodic-novelty.md, "E3B's coefficient").
        "method": "e3b",
        "coef": EPISODIC_COUNT_BETA,
        "normalize": "rewards",
        "method_kwargs": {"ridge": 0.1, "embedding_dim": 128, "learning_rate": 1e-4},
    }
)
_EPISODIC = (
    AgentSpec(
        "ppo-episodic-count",
        "ppo",
        f"PPO + episodic count bonus beta/sqrt(N_episode(s')), beta {EPISODIC_COUNT_BETA}",
        intrinsic=EPISODIC_COUNT_SETTINGS,
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-noveld",
        "ppo",
        "PPO + NovelD (RND novelty difference, alpha 0.5, on first visits in the episode; coef 0.05)",
        intrinsic=NOVELD_SETTINGS,
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-e3b",
        "ppo",
        f"PPO + E3B (elliptical episodic bonus, inverse-dynamics embedding 128, ridge 0.1; "
        f"coef {EPISODIC_COUNT_BETA} on the normalized bonus)",
        intrinsic=E3B_SETTINGS,
        baseline="ppo",
    ),
    AgentSpec(
        # The A2C preset of the method that ranks first over the ladder's three rungs (docs/results/ladder.md:
        # every seed of the medium and hard rungs, nothing lost on the easy one); same beta as the PPO preset,
        # not measured with A2C yet.
        "a2c-episodic-count",
        "a2c",
        f"A2C + episodic count bonus beta/sqrt(N_episode(s')), beta {EPISODIC_COUNT_BETA}",
        intrinsic=EPISODIC_COUNT_SETTINGS,
        baseline="a2c",
    ),
    AgentSpec(
        "a2c-noveld",
        "a2c",
        "A2C + NovelD (RND novelty difference, alpha 0.5, on first visits in the episode; coef 0.05)",
        intrinsic=NOVELD_SETTINGS,
        baseline="a2c",
    ),
)

PRESETS: dict[str, AgentSpec] = {spec.name: spec for spec in (*_BUILTIN, *_EPISODIC)}


def get_agent(name: str, presets: Mapping[str, AgentSpec] | None = None) -> AgentSpec:
    """The preset called ``name``.

    :raises ValueError: for an unknown name, listing the known ones.
    """
    table = PRESETS if presets is None else presets
    if name not in table:
        raise ValueError(f"unknown agent {name!r}; known agents: {', '.join(sorted(table))}")
    return table[name]


def load_presets(path: str | Path) -> dict[str, AgentSpec]:
    """Read user presets from a JSON file and return them merged over the built-ins.

    The file maps preset names to :class:`AgentSpec` fields (without ``name``), e.g.::

        {"ppo-floor-5": {"algo": "ppo", "description": "PPO, 5% floor",
                         "policy_kwargs": {"min_prob": 0.05}, "baseline": "ppo"}}

    ``policy`` is optional (rlfloor's policy follows from the settings).

    :raises ValueError: for a missing file, an unknown field, a wrong type or an invalid preset,
        including algorithm or policy arguments the classes do not accept.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"preset file {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"preset file {str(path)!r} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"preset file {str(path)!r} must map preset names to settings")
    merged = dict(PRESETS)
    allowed = set(AgentSpec.__dataclass_fields__) - {"name"}
    for name, fields in data.items():
        if not isinstance(fields, dict):
            raise ValueError(f"preset {name!r} in {str(path)!r} must be a table of settings")
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"preset {name!r}: unknown fields {sorted(unknown)}; allowed: {sorted(allowed)}")
        fields = dict(fields)
        _check_field_types(name, fields)
        for key in ("floor_anneal", "entropy_schedule"):
            if fields.get(key) is not None:
                fields[key] = tuple(fields[key])
        spec = AgentSpec(name=name, **fields)
        spec.check_kwargs()
        merged[name] = spec
    for spec in merged.values():
        if spec.baseline is not None and spec.baseline not in merged:
            raise ValueError(f"preset {spec.name!r}: baseline {spec.baseline!r} is not a known agent")
    return merged


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "algo": (str,),
    "description": (str,),
    "policy": (str,),
    "policy_kwargs": (dict,),
    "algo_kwargs": (dict,),
    "floor_anneal": (list, type(None)),
    "entropy_schedule": (list, type(None)),
    "entropy_target": (int, float, type(None)),
    "baseline": (str, type(None)),
    "adaptive_floor": (dict, type(None)),
    "intrinsic": (dict, type(None)),
    "n_envs": (int, type(None)),
}


def _check_field_types(name: str, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        types_ = _FIELD_TYPES.get(key, (object,))
        if not isinstance(value, types_) or (isinstance(value, bool) and bool not in types_):
            allowed = " or ".join("null" if t is type(None) else t.__name__ for t in types_)
            raise ValueError(f"preset {name!r}: {key}={value!r} must be {allowed}")
        pair: Any = fields[key]
        if key not in ("floor_anneal", "entropy_schedule") or pair is None:
            continue
        if len(pair) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair):
            raise ValueError(f"preset {name!r}: {key}={value!r} must be [start, end] numbers")


def _hints(function: Any) -> dict[str, Any]:
    """Resolved annotations of ``function``; one that cannot be resolved (a forward reference to a name
    imported only for type checking) becomes ``Any``, without losing the others."""
    try:
        return typing.get_type_hints(function)
    except Exception:  # resolve one by one below
        pass
    namespace = vars(sys.modules[function.__module__]) if function.__module__ in sys.modules else {}
    hints = {}
    for name, annotation in getattr(function, "__annotations__", {}).items():
        try:
            hints[name] = typing.get_type_hints(_Annotated(name, annotation), namespace)[name]
        except Exception:  # unresolvable: accept any value
            hints[name] = Any
    return hints


class _Annotated:
    """A stand-in object carrying one annotation, so that ``typing.get_type_hints`` resolves it alone."""

    def __init__(self, name: str, annotation: Any) -> None:
        self.__annotations__ = {name: annotation}


def _signature_params(cls: type) -> dict[str, Any]:
    """Keyword parameters of ``cls.__init__`` and, through ``**kwargs``, of its bases, with their annotations."""
    params: dict[str, Any] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        hints = _hints(init)
        signature = inspect.signature(init)
        for param in list(signature.parameters.values())[1:]:
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                params.setdefault(param.name, hints.get(param.name, Any))
        if not any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    return params


def _matches(value: Any, annotation: Any) -> bool:
    """Whether a JSON-like value can be of ``annotation`` (unknown annotations accept anything)."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin is collections.abc.Callable or annotation is collections.abc.Callable:
        return callable(value)
    if origin in (list, tuple, collections.abc.Sequence):
        return isinstance(value, (list, tuple))
    if origin in (dict, collections.abc.Mapping):
        return isinstance(value, Mapping)
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    return True


def _check_signature(label: str, cls: type, kwargs: Mapping[str, Any]) -> None:
    params = _signature_params(cls)
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        hidden = {"observation_space", "action_space", "lr_schedule", *RESERVED_ALGO_KWARGS}
        names = sorted(p for p in params if p not in hidden and not p.startswith("_"))
        raise ValueError(f"{label}: {cls.__name__} has no argument {unknown[0]!r}; it accepts {', '.join(names)}")
    for key, value in kwargs.items():
        if not _matches(value, params[key]):
            expected = getattr(params[key], "__name__", None) or str(params[key]).replace("typing.", "")
            raise ValueError(f"{label}: {key}={value!r} does not fit {cls.__name__}'s type {expected}")


def _algorithm_class(spec: AgentSpec) -> type[BaseAlgorithm]:
    if spec.algo == "ppo":
        return PPO
    if spec.algo == "a2c":
        return A2C
    from sb3_contrib import MaskablePPO

    return MaskablePPO


def _policy(spec: AgentSpec) -> Any:
    if spec.algo == "maskable-ppo":
        if spec.uses_rlfloor_policy:
            from rlfloor.contrib.policies import FlooredMaskableActorCriticPolicy

            return FlooredMaskableActorCriticPolicy
        return "MlpPolicy"
    if spec.uses_rlfloor_policy:
        from rlfloor.policies import FlooredActorCriticPolicy

        return FlooredActorCriticPolicy
    return "MlpPolicy"


def build_agent(
    spec: AgentSpec,
    env: gym.Env | VecEnv,
    seed: int,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    overrides: Mapping[str, Any] | None = None,
    policy_defaults: Mapping[str, Any] | None = None,
) -> tuple[BaseAlgorithm, list[BaseCallback]]:
    """Build the SB3 model of a preset and the callbacks its exploration settings need.

    The policy's own settings, the algorithm's arguments and one callback per exploration component
    (:func:`exploration_callbacks`) are assembled separately: a new component is a field of
    :class:`AgentSpec` plus a few lines in the function that needs it.

    :param spec: the preset.
    :param env: the (vectorized) training environment.
    :param seed: seed of the model (network initialisation, sampling, env resets).
    :param tensorboard_log: TensorBoard folder, or ``None``.
    :param overrides: extra algorithm keyword arguments that take precedence over the preset's.
    :param policy_defaults: policy keyword arguments the env needs (e.g. the grid CNN of the MiniGrid tier);
        the preset's own ``policy_kwargs`` take precedence over them.
    :return: the model and the callbacks to pass to ``learn()``.
    """
    policy_kwargs = {**dict(policy_defaults or {}), **dict(spec.policy_kwargs)}
    if spec.floor_anneal is not None:
        policy_kwargs["min_prob"] = LinearSchedule(*spec.floor_anneal)
    algo_kwargs = {**dict(spec.algo_kwargs), **dict(overrides or {})}
    model = _algorithm_class(spec)(
        _policy(spec),
        env,
        policy_kwargs=policy_kwargs or None,
        seed=seed,
        tensorboard_log=tensorboard_log,
        verbose=verbose,
        device="cpu",
        **algo_kwargs,
    )
    return model, exploration_callbacks(spec, model.observation_space)


def exploration_callbacks(spec: AgentSpec, observation_space: gym.Space[Any] | None = None) -> list[BaseCallback]:
    """The callbacks of a preset's exploration components, in the order they act before each rollout.

    :param observation_space: when given, components that depend on it (intrinsic rewards) check it now.
    """
    callbacks: list[BaseCallback] = []
    if spec.floor_anneal is not None:
        callbacks.append(FloorScheduleCallback())
    if spec.entropy_schedule is not None:
        callbacks.append(EntropyScheduleCallback(LinearSchedule(*spec.entropy_schedule)))
    if spec.entropy_target is not None:
        callbacks.append(AdaptiveEntropyCallback(target_fraction=spec.entropy_target))
    if spec.adaptive_floor is not None:
        callbacks.append(AdaptiveFloorCallback(**spec.adaptive_floor))
    if spec.intrinsic is not None:
        intrinsic = IntrinsicRewardCallback(**spec.intrinsic)
        if observation_space is not None:
            intrinsic.check_space(observation_space)  # an unsupported space fails here, before learn()
        callbacks.append(intrinsic)
    return callbacks
