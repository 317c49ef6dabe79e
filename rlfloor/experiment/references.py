"""Random reference returns measured once and cached in the results folder.

An env without a known random reference (any Gymnasium id outside the suite) gets one measured by the
caller's protocol (the project's is ``envs.references.measure_random_return``: uniform-random episodes,
with the standard error), passed in as a function: this module only keeps the measurement. It is stored
in ``{results}/references.json`` with the env's description and reused while that description, the
number of episodes and the protocol are unchanged.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock

from rlfloor.checks import check_int
from rlfloor.experiment.store import write_json_atomic

DEFAULT_EPISODES = 1000
CACHE_NAME = "references.json"

Measure = Callable[[int], Mapping[str, Any]]
"""``measure(episodes) -> {"mean", "se", "episodes", "protocol", ...}``: one measurement of one env."""


def cached_random_return(
    root: Path,
    name: str,
    record: Mapping[str, Any],
    measure: Measure,
    protocol: str,
    episodes: int = DEFAULT_EPISODES,
    check: Callable[[Mapping[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """The random reference of env ``name`` from ``root/references.json``, measured and stored if missing.

    :param record: the env's description.
    :param measure: the measurement, e.g. ``functools.partial(envs.references.measure_random_return, env.make)``.
    :param protocol: names the measurement (``envs.references.PROTOCOL``). A cached value for another
        description, episode count or protocol is measured again.
    :param check: called with the measurement (cached or new) before anything is written; raises to refuse it
        (e.g. a given optimal reference below the measured random one). ``root`` is created only after it passed.
    :return: the measurement and whether it came from the cache.
    """
    check_int("episodes", episodes, 2)
    path = root / CACHE_NAME
    existed = root.is_dir()
    with FileLock(root / f".{CACHE_NAME}.lock") if existed else contextlib.nullcontext():
        wanted = json.loads(json.dumps(dict(record), default=str))
        key = {"env": wanted, "episodes": episodes, "protocol": protocol}
        stored = _read(path).get(name)
        if isinstance(stored, dict) and all(stored.get(k) == v for k, v in key.items()):
            if check is not None:
                check(stored)
            return stored, True
        measured = {**dict(measure(episodes)), **key}
        if check is not None:
            check(measured)
        root.mkdir(parents=True, exist_ok=True)
        with contextlib.nullcontext() if existed else FileLock(root / f".{CACHE_NAME}.lock"):
            cache = _read(path)
            cache[name] = measured
            write_json_atomic(path, cache)
        return measured, False


def _read(path: Path) -> dict[str, Any]:
    """The cache at ``path`` (empty when missing or unreadable)."""
    try:
        cache = json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return cache if isinstance(cache, dict) else {}


__all__ = ["CACHE_NAME", "DEFAULT_EPISODES", "Measure", "cached_random_return"]
