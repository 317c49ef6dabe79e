"""Named agent presets: an algorithm, a policy and its exploration settings, as data.

Every preset is an :class:`AgentSpec`; :func:`build_agent` turns one into an SB3
model plus the callbacks its exploration settings need. Users add their own presets
from a JSON file with :func:`load_presets` without
editing this package. Presets hold no environment code.

Hyperparameters are SB3's defaults unless a preset says otherwise, so that "stock"
means what SB3 users run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import gymnasium as gym
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rlfloor.callbacks import AdaptiveEntropyCallback, EntropyScheduleCallback, FloorScheduleCallback
from rlfloor.intrinsic import IntrinsicRewardCallback
from rlfloor.schedules import LinearSchedule

ALGORITHMS = ("ppo", "a2c", "maskable-ppo")


@dataclass(frozen=True)
class AgentSpec:
    """A named agent: what to build and how it explores.

    :param name: the preset's name (``ppo-floor``).
    :param algo: ``"ppo"``, ``"a2c"`` or ``"maskable-ppo"``.
    :param description: one line for tables and ``--help``.
    :param floored: use rlfloor's floored policy (else SB3's / sb3-contrib's stock policy).
    :param policy_kwargs: keyword arguments of the policy (``min_prob``, ``temperature``, ...).
    :param algo_kwargs: keyword arguments of the algorithm (``ent_coef``, ``n_steps``, ...).
    :param floor_anneal: ``(start, end)``: anneal ``min_prob`` linearly over training.
    :param entropy_schedule: ``(start, end)``: anneal ``ent_coef`` linearly over training.
    :param entropy_target: adaptive entropy coefficient tracking this fraction of ``log K``.
    :param baseline: the stock preset this one is compared against (``None`` for a stock preset).
    :param intrinsic: keyword arguments of :class:`rlfloor.intrinsic.IntrinsicRewardCallback`
        (``{"method": "count", "coef": 0.1}``), or ``None`` for no intrinsic reward.
    """

    name: str
    algo: str
    description: str
    floored: bool = False
    policy_kwargs: Mapping[str, Any] = field(default_factory=dict)
    algo_kwargs: Mapping[str, Any] = field(default_factory=dict)
    floor_anneal: tuple[float, float] | None = None
    entropy_schedule: tuple[float, float] | None = None
    entropy_target: float | None = None
    baseline: str | None = None
    intrinsic: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
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
        if self.floor_anneal is not None and not self.floored:
            raise ValueError(f"agent {self.name!r}: floor_anneal needs floored=True")
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (saved beside every run)."""
        return {
            "name": self.name,
            "algo": self.algo,
            "description": self.description,
            "floored": self.floored,
            "policy_kwargs": dict(self.policy_kwargs),
            "algo_kwargs": dict(self.algo_kwargs),
            "floor_anneal": self.floor_anneal,
            "entropy_schedule": self.entropy_schedule,
            "entropy_target": self.entropy_target,
            "baseline": self.baseline,
            "intrinsic": None if self.intrinsic is None else dict(self.intrinsic),
        }


COUNT_BETA = (0.1, 0.0, 0.5)  # count bonus beta/sqrt(N(s)); beta 0.1 -> 0 over the first half (tuned on DeepSea)
# PPO normalizes advantages per minibatch: once the bonus is annealed away and the task is solved, the tiny
# remaining advantages are scaled up to unit size and the policy random-walks off the solution (measured on
# DeepSea-16; see the README). The intrinsic PPO presets therefore keep advantages unnormalized, as A2C does.
UNNORMALIZED = MappingProxyType({"normalize_advantage": False})
RND_COEF = 1.0  # RND bonus coefficient after normalization by the running std of intrinsic returns
RND_SETTINGS: Mapping[str, Any] = MappingProxyType({"method": "rnd", "coef": RND_COEF})
FLOOR = 0.02  # default floor: 2% per action (CartPole and DeepSea have K=2, the others K<=5)

_BUILTIN = (
    AgentSpec("ppo", "ppo", "stock SB3 PPO (ent_coef=0)"),
    AgentSpec("a2c", "a2c", "stock SB3 A2C (ent_coef=0)"),
    AgentSpec(
        "ppo-floor", "ppo", f"PPO, min_prob={FLOOR}", floored=True, policy_kwargs={"min_prob": FLOOR}, baseline="ppo"
    ),
    AgentSpec(
        "a2c-floor", "a2c", f"A2C, min_prob={FLOOR}", floored=True, policy_kwargs={"min_prob": FLOOR}, baseline="a2c"
    ),
    AgentSpec(
        "ppo-floor-anneal",
        "ppo",
        "PPO, min_prob annealed 0.1 -> 0.01",
        floored=True,
        floor_anneal=(0.1, 0.01),
        baseline="ppo",
    ),
    AgentSpec(
        "a2c-floor-anneal",
        "a2c",
        "A2C, min_prob annealed 0.1 -> 0.01",
        floored=True,
        floor_anneal=(0.1, 0.01),
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
        floored=True,
        policy_kwargs={"temperature": 2.0},
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-clip",
        "ppo",
        "PPO, centered logits clipped to +-3 (straight-through)",
        floored=True,
        policy_kwargs={"logit_clip": 3.0, "center_logits": True},
        baseline="ppo",
    ),
    AgentSpec(
        "ppo-penalty",
        "ppo",
        "PPO, logit-range penalty 0.01 beyond +-3 (centered)",
        floored=True,
        policy_kwargs={"logit_penalty": 0.01, "logit_penalty_bound": 3.0, "center_logits": True},
        baseline="ppo",
    ),
    AgentSpec("ppo-mask", "maskable-ppo", "stock sb3-contrib MaskablePPO"),
    AgentSpec(
        "ppo-mask-floor",
        "maskable-ppo",
        f"MaskablePPO, min_prob={FLOOR} over valid actions",
        floored=True,
        policy_kwargs={"min_prob": FLOOR},
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
        floored=True,
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

PRESETS: dict[str, AgentSpec] = {spec.name: spec for spec in _BUILTIN}


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
                         "floored": true, "policy_kwargs": {"min_prob": 0.05}, "baseline": "ppo"}}

    :raises ValueError: for a missing file, an unknown field or an invalid preset.
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
        for key in ("floor_anneal", "entropy_schedule"):
            if fields.get(key) is not None:
                fields[key] = tuple(fields[key])
        merged[name] = AgentSpec(name=name, **fields)
    for spec in merged.values():
        if spec.baseline is not None and spec.baseline not in merged:
            raise ValueError(f"preset {spec.name!r}: baseline {spec.baseline!r} is not a known agent")
    return merged


def _algorithm_class(spec: AgentSpec) -> type[BaseAlgorithm]:
    if spec.algo == "ppo":
        return PPO
    if spec.algo == "a2c":
        return A2C
    from sb3_contrib import MaskablePPO

    return MaskablePPO


def _policy(spec: AgentSpec) -> Any:
    if spec.algo == "maskable-ppo":
        if spec.floored:
            from rlfloor.maskable import FlooredMaskableActorCriticPolicy

            return FlooredMaskableActorCriticPolicy
        return "MlpPolicy"
    if spec.floored:
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
) -> tuple[BaseAlgorithm, list[BaseCallback]]:
    """Build the SB3 model of a preset and the callbacks its exploration settings need.

    :param spec: the preset.
    :param env: the (vectorized) training environment.
    :param seed: seed of the model (network initialisation, sampling, env resets).
    :param tensorboard_log: TensorBoard folder, or ``None``.
    :param overrides: extra algorithm keyword arguments that take precedence over the preset's.
    :return: the model and the callbacks to pass to ``learn()``.
    """
    policy_kwargs = dict(spec.policy_kwargs)
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
    callbacks: list[BaseCallback] = []
    if spec.floor_anneal is not None:
        callbacks.append(FloorScheduleCallback())
    if spec.entropy_schedule is not None:
        callbacks.append(EntropyScheduleCallback(LinearSchedule(*spec.entropy_schedule)))
    if spec.entropy_target is not None:
        callbacks.append(AdaptiveEntropyCallback(target_fraction=spec.entropy_target))
    if spec.intrinsic is not None:
        intrinsic = IntrinsicRewardCallback(**spec.intrinsic)
        intrinsic.check_space(model.observation_space)  # an unsupported space fails here, before learn()
        callbacks.append(intrinsic)
    return model, callbacks
