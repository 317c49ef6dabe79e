"""Any environment name, resolved: suite names, suite tags, Gymnasium ids and Gymnasium's ``module:EnvId``.

Everywhere an env is named (``scripts/train.py --env``, ``scripts/compare.py --envs``) these forms work:

* a suite name, e.g. ``deepsea-6`` (its kwargs, budget, references and hyperparameters come along);
* a suite tag, e.g. ``core`` or ``external``: expands to its entries (:func:`expand`);
* a registered Gymnasium id, e.g. ``CartPole-v1``;
* ``module:EnvId``, e.g. ``minigrid:MiniGrid-Empty-5x5-v0``: the module is imported first (it registers
  its ids), as ``gymnasium.make`` does.

A Gymnasium id from a package whose observations a flat policy cannot read gets that package's standard
observation wrapper and training settings (:data:`PACKAGE_WRAPPERS`, :data:`PACKAGE_HYPERPARAMS`; MiniGrid: the
image view, the grid CNN and rl-starter-files' settings, as the suite's MiniGrid ladder uses), recorded with
the run. An env outside the suite has no reference returns unless they are
given (``references``); without both, its runs report raw returns. Needs gymnasium and numpy only.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import gymnasium as gym

import envs  # noqa: F401  (registers the rlfloor/ ids)
from envs import suite
from envs.scoring import normalized_score

REFERENCE_KEYS = ("random", "optimal")
PACKAGE_WRAPPERS: dict[str, tuple[str, ...]] = {"minigrid": suite.MINIGRID_WRAPPERS}
"""Observation wrappers applied to ids registered by these packages (by the entry point's top module)."""
PACKAGE_HYPERPARAMS: dict[str, Mapping[str, Mapping[str, Any]]] = {"minigrid": suite.MINIGRID_HYPERPARAMS}
"""Per-algorithm-family training settings of ids registered by these packages (as a suite entry's)."""


@dataclass(frozen=True)
class ResolvedEnv:
    """An environment ready to build, with what a comparison needs to know of it."""

    name: str
    """The name as given (a suite name, a Gymnasium id or ``module:EnvId``)."""
    env_id: str
    """Gymnasium id passed to ``gymnasium.make`` (``module:EnvId`` kept as given)."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Constructor keyword arguments."""
    entry: suite.SuiteEntry | None = None
    """The suite entry, or ``None`` outside the suite."""
    random_return: float | None = None
    """Return of the uniform-random policy (score 0), if known."""
    optimal_return: float | None = None
    """Return of an optimal or reference policy (score 1), if known."""
    references: str = "none"
    """Where the references come from: ``suite``, ``given`` or ``none``."""
    wrappers: tuple[str, ...] = ()
    """Dotted paths of wrappers applied after ``gymnasium.make`` (outside the suite)."""
    package_hyperparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Training settings of the id's package (outside the suite; :data:`PACKAGE_HYPERPARAMS`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))
        low, high = self.random_return, self.optimal_return
        if low is not None and high is not None and not high > low:  # every score would be 0 or NaN
            raise ValueError(f"env {self.name!r}: optimal reference {high!r} must exceed the random one {low!r}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle support (``MappingProxyType`` cannot be pickled)."""
        values = (self.name, self.env_id, dict(self.kwargs), self.entry, self.random_return, self.optimal_return)
        package = {family: dict(values) for family, values in self.package_hyperparams.items()}
        return (type(self), (*values, self.references, self.wrappers, package))

    @property
    def budget(self) -> int | None:
        """The suite budget in env steps (``None`` outside the suite)."""
        return None if self.entry is None else self.entry.budget

    @property
    def first_change(self) -> int | None:
        """Step of a suite task's first change (:attr:`envs.suite.SuiteEntry.first_change`); None if stationary."""
        return None if self.entry is None else self.entry.first_change

    @property
    def reference_steps(self) -> int | None:
        """Run length the suite's references hold for (:attr:`envs.suite.SuiteEntry.reference_steps`); None when
        they hold for any length, or when the references are not the suite's (given by the user)."""
        return self.entry.reference_steps if self.entry is not None and self.references == "suite" else None

    @property
    def action_masks(self) -> bool:
        """True if the env exposes ``action_masks()`` (suite entries say so)."""
        return self.entry is not None and self.entry.action_masks

    @property
    def hyperparams(self) -> Mapping[str, Mapping[str, Any]]:
        """Per-algorithm-family hyperparameters (rl-zoo3 style): the suite entry's, else the package's, if any."""
        if self.entry is not None:
            return dict(getattr(self.entry, "hyperparams", None) or {})
        return dict(self.package_hyperparams)

    def make(self, n_envs: int = 1) -> gym.Env[Any, Any]:
        """A fresh environment; ``n_envs`` copies will run side by side (see :func:`envs.suite.make`)."""
        if self.entry is not None:
            return suite.make(self.entry, n_envs=n_envs)
        env: gym.Env[Any, Any] = gym.make(self.env_id, **dict(self.kwargs))
        for path in self.wrappers:
            module, _, attribute = path.rpartition(".")
            env = getattr(importlib.import_module(module), attribute)(env)
        return env

    def score(self, mean_return: float) -> float:
        """The normalized score of a mean return (:func:`envs.scoring.normalized_score`); NaN without both
        references (the run is reported in raw returns) or without episodes."""
        if self.random_return is None or self.optimal_return is None:
            return math.nan
        return normalized_score(mean_return, self.random_return, self.optimal_return)

    def record(self) -> dict[str, Any]:
        """JSON description of the task and its references."""
        data: dict[str, Any] = {
            "name": self.name,
            "env_id": self.env_id,
            "kwargs": dict(self.kwargs),
            "random_return": self.random_return,
            "optimal_return": self.optimal_return,
            "references": self.references,
            "wrappers": list(self.wrappers),
        }
        if self.entry is None and self.package_hyperparams:  # absent when empty: earlier runs keep their keys
            data["hyperparams"] = {k: dict(v) for k, v in self.package_hyperparams.items()}
        if self.entry is not None:
            data["suite"] = {
                "name": self.entry.name,
                "budget": self.entry.budget,
                "wrappers": list(self.entry.wrappers),
                "per_instance": list(self.entry.per_instance),
                "hyperparams": {k: dict(v) for k, v in self.hyperparams.items()},
            }
        return data


def accepted() -> str:
    """One line saying which env names are accepted."""
    return (
        f"a suite name ({', '.join(suite.NAMES)}), a suite tag ({', '.join(suite.TAGS)}), "
        "a registered Gymnasium id (e.g. CartPole-v1) or module:EnvId (e.g. minigrid:MiniGrid-Empty-5x5-v0)"
    )


def expand(names: Iterable[str]) -> list[str]:
    """Replace suite tags by their entries' names; keep the order and drop repeats."""
    out: list[str] = []
    for name in names:
        if name not in suite.NAMES and name in suite.TAGS:
            expanded = [entry.name for entry in suite.select(name)]
        else:
            expanded = [name]
        out += [item for item in expanded if item not in out]
    return out


def _gym_id(name: str) -> str | None:
    """``name`` as a registered Gymnasium id (importing ``module`` of ``module:EnvId`` first), else None."""
    if ":" in name:
        module, _, env_id = name.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ValueError(f"env {name!r}: cannot import module {module!r} ({error})") from error
        return name if env_id in gym.registry else None
    return name if name in gym.registry else None


def check_references(name: str, references: Mapping[str, Any]) -> dict[str, float]:
    """The given references of ``name`` as floats; one-line ``ValueError`` for unknown keys or bad values."""
    if not isinstance(references, Mapping):
        raise ValueError(f"references of {name!r} must map 'random'/'optimal' to numbers, got {references!r}")
    unknown = sorted(set(references) - set(REFERENCE_KEYS))
    if unknown:
        raise ValueError(f"references of {name!r}: unknown keys {unknown}; allowed: {list(REFERENCE_KEYS)}")
    out = {}
    for key, value in references.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value != value
            or abs(value) == float("inf")
        ):
            raise ValueError(f"references of {name!r}: {key}={value!r} must be a finite number")
        out[key] = float(value)
    if len(out) == 2 and not out["optimal"] > out["random"]:
        raise ValueError(f"references of {name!r}: optimal={out['optimal']!r} must exceed random={out['random']!r}")
    return out


def resolve(name: str, references: Mapping[str, Mapping[str, Any]] | None = None) -> ResolvedEnv:
    """The environment called ``name`` (see the module docstring); one-line ``ValueError`` otherwise
    (``ModuleNotFoundError`` for a suite entry whose optional package is missing).

    :param references: ``{name: {"random": r, "optimal": o}}``; either key may be missing. Given values
        override a suite entry's.
    """
    given = check_references(name, (references or {}).get(name, {}))
    if name in suite.NAMES:
        entry = suite.get_entry(name)
        suite.require(entry)  # ModuleNotFoundError with the install command
        random_return = given.get("random", entry.random_return)
        optimal_return = given.get("optimal", entry.optimal_return)
        source = "given" if given else "suite"
        return ResolvedEnv(name, entry.env_id, entry.kwargs, entry, random_return, optimal_return, source)
    env_id = _gym_id(name)
    if env_id is None:
        raise ValueError(f"unknown env {name!r}: expected {accepted()}")
    source = "given" if given else "none"
    entry_point = gym.spec(env_id.partition(":")[2] or env_id).entry_point
    package = entry_point.split(".")[0].split(":")[0] if isinstance(entry_point, str) else ""
    wrappers = PACKAGE_WRAPPERS.get(package, ())
    hyperparams = PACKAGE_HYPERPARAMS.get(package, {})
    return ResolvedEnv(name, env_id, {}, None, given.get("random"), given.get("optimal"), source, wrappers, hyperparams)


__all__ = [
    "PACKAGE_HYPERPARAMS",
    "PACKAGE_WRAPPERS",
    "REFERENCE_KEYS",
    "ResolvedEnv",
    "accepted",
    "check_references",
    "expand",
    "resolve",
]


def load_references(path: str | None) -> dict[str, dict[str, float]]:
    """Reference returns from a JSON file ``{"env": {"random": r, "optimal": o}}`` (``None``: none).

    :raises ValueError: one line for a missing or malformed file.
    """
    if path is None:
        return {}
    import json
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        raise ValueError(f"references file {path!r} does not exist")
    try:
        data = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"references file {path!r} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"references file {path!r} must map env names to {{'random': r, 'optimal': o}}")
    return {str(name): check_references(str(name), values) for name, values in data.items()}


def parse_assignments(items: Iterable[str], key: str) -> dict[str, dict[str, float]]:
    """``["CartPole-v1=500", ...]`` as ``{"CartPole-v1": {key: 500.0}}`` (the last ``=`` splits)."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        name, sep, text = item.rpartition("=")
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not sep or not name or value != value:
            raise ValueError(f"{item!r} must be ENV=NUMBER, e.g. CartPole-v1=500")
        out[name] = {key: value}
    return out


def merge_references(*tables: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Merge reference tables, later ones winning per env and key; each env's pair is checked."""
    out: dict[str, dict[str, float]] = {}
    for table in tables:
        for name, values in table.items():
            out.setdefault(name, {}).update(values)
    return {name: check_references(name, values) for name, values in out.items()}


__all__ += ["load_references", "merge_references", "parse_assignments"]
