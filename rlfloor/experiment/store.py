"""The results folder: one atomic writer, runs keyed by their resolved settings, and a lock.

Layout of a results folder ``{root}``::

    runs/{env}__{agent}__s{seed}/result.json   a finished run ({"spec", "key", "settings", ...results})
    runs/{env}__{agent}__s{seed}/error.json    a failed run's traceback
    runs/{env}__{agent}__s{seed}/.lock         held by the process that trains the run
    .report.lock                                held while reports are written

* Every file is written by :func:`atomic_path` (a unique temporary name in the same folder, then
  ``os.replace``) with normal permissions (``0666`` minus the umask), so a crash never leaves half a file
  and two writers never share a temporary name.
* A finished run is reused only when its stored ``key`` equals the key of the run's resolved settings
  (:attr:`RunSpec.key`); a result of other settings is reported as *changed* and retrained.
* A result is reused, and read by a report, only if it is a record of the run of its folder (its ``spec``
  names that run) and passes the check of its record kind (:attr:`RunStore.check`, e.g.
  :func:`rlfloor.experiment.records.check_run_record`: every field the readers use, of the right type, and its
  derived numbers recomputed from its own data). A result or error file that fails (truncated, ``null``,
  foreign, edited) is reported in :attr:`RunStore.problems` and treated as missing: the run is retrained,
  nothing crashes. Reports read :meth:`RunStore.finished` (the grid's runs that pass), never the raw files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


class RecordError(ValueError):
    """A stored record that cannot be trusted; the message (one line) says what is wrong with it."""


def _folder_name(name: str) -> str:
    """``name`` made path-safe: unsafe characters replaced by ``-``; a name with a non-ASCII character also gets
    ``@`` and 8 hex digits of its SHA-256, so that names differing only in such characters never share a folder
    (ASCII names keep the folder names they always had; ``@`` never occurs in those, so the two kinds never meet).
    """
    safe = _UNSAFE.sub("-", name)
    if name.isascii():
        return safe
    return f"{safe}@{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _file_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open()`` would give a new file."""
    try:  # Linux: read the umask without changing it (os.umask would race with other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a fresh temporary path next to ``path``; on success move it onto ``path`` (all or nothing).

    The temporary name is unique (``mkstemp``) and keeps ``path``'s suffix, so writers that infer the
    format from the name (matplotlib, SB3's ``save``) work; the final file gets normal permissions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`), flushed to disk."""
    with atomic_path(path) as tmp, tmp.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def write_json_atomic(path: Path | str, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (numpy values become plain numbers)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def canonical_json(data: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, tuples as lists (the input of :func:`settings_key`)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=_json_default)


def _without_unset(value: Any) -> Any:
    """``value`` with every ``None`` entry of a mapping removed, recursively: an unset setting is an absent one."""
    if isinstance(value, Mapping):
        return {k: _without_unset(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_unset(v) for v in value]
    return value


def settings_key(settings: Any) -> str:
    """Content key of a run's resolved settings: the first 16 hex digits of SHA-256 of the canonical JSON.

    Entries that are ``None`` (an optional component left unset) do not count, so that adding a new
    optional field to a preset or an env record does not change the key of the runs that leave it unset.
    """
    return hashlib.sha256(canonical_json(_without_unset(settings)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid.

    :param env: environment name (a suite name, a tag's entry, a Gymnasium id or ``module:EnvId``).
    :param agent: agent preset name.
    :param seed: random seed of the run.
    :param timesteps: training budget in environment steps.
    :param options: extra JSON-serializable settings passed through to the run function.
    :param settings: canonical JSON of everything that determines the run's result (see
        :meth:`rlfloor.experiment.run.Plan.key_settings`); empty: the spec itself is the settings.
    :param plan: the run as the driver planned it (:class:`rlfloor.experiment.run.Plan`), shipped with the spec
        to the worker so that it is not resolved again there; not part of the key or of :meth:`to_dict`.
    """

    env: str
    agent: str
    seed: int
    timesteps: int
    options: tuple[tuple[str, Any], ...] = ()
    settings: str = field(default="", compare=False, repr=False)
    plan: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.timesteps, bool) or not isinstance(self.timesteps, int) or self.timesteps <= 0:
            raise ValueError(f"timesteps={self.timesteps!r} must be a positive number of steps")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r} must be an integer >= 0")

    @property
    def run_id(self) -> str:
        """Folder name ``{env}__{agent}__s{seed}``, names made path-safe (non-ASCII ones with a hash suffix)."""
        return f"{_folder_name(self.env)}__{_folder_name(self.agent)}__s{self.seed}"

    @property
    def key(self) -> str:
        """Content key of the run: of :attr:`settings` when given, else of :meth:`to_dict`."""
        return settings_key(json.loads(self.settings) if self.settings else self.to_dict())

    def with_settings(self, settings: Mapping[str, Any], plan: Any = None) -> RunSpec:
        """A copy carrying ``settings`` (stored canonically) and the driver's ``plan`` of the run."""
        return RunSpec(self.env, self.agent, self.seed, self.timesteps, self.options, canonical_json(settings), plan)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict` (the settings are not part of it)."""
        options = tuple(sorted(dict(data.get("options") or {}).items()))
        return cls(str(data["env"]), str(data["agent"]), int(data["seed"]), int(data["timesteps"]), options)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in every result."""
        data: dict[str, Any] = {"env": self.env, "agent": self.agent, "seed": self.seed, "timesteps": self.timesteps}
        data["options"] = dict(self.options)
        return data


def record_spec(record: Mapping[str, Any]) -> RunSpec:
    """The run a stored record (result or error) names in its ``spec``, read strictly.

    :raises RecordError: when ``spec`` is missing or its ``env``/``agent`` are not strings, its ``seed`` not an
        integer >= 0, its ``timesteps`` not a positive integer or its ``options`` not an object.
    """
    data = record.get("spec")
    if not isinstance(data, dict):
        raise RecordError(f"spec={data!r} is not a run spec")
    for name, kind, what in (("env", str, "a name"), ("agent", str, "a name"), ("seed", int, "an integer")):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, kind):
            raise RecordError(f"spec.{name}={value!r} is not {what}")
    if isinstance(data.get("timesteps"), bool) or not isinstance(data.get("timesteps"), int):
        raise RecordError(f"spec.timesteps={data.get('timesteps')!r} is not an integer")
    if not isinstance(data.get("options", {}), dict):
        raise RecordError(f"spec.options={data.get('options')!r} is not an object")
    try:
        return RunSpec.from_dict(data)
    except ValueError as error:
        raise RecordError(f"spec: {error}") from None


def grid(
    envs: Sequence[str],
    agents: Sequence[str],
    seeds: Iterable[int],
    timesteps: int | Callable[[str], int],
    options: Mapping[str, Any] | None = None,
) -> list[RunSpec]:
    """The full env x agent x seed grid.

    :param timesteps: one budget for all runs, or a function of the env name.
    :param options: extra settings attached to every run.
    """
    frozen = tuple(sorted(dict(options or {}).items()))
    seeds = list(seeds)
    specs = []
    for env in envs:
        budget = timesteps(env) if callable(timesteps) else timesteps
        for agent in agents:
            for seed in seeds:
                specs.append(RunSpec(env=env, agent=agent, seed=seed, timesteps=budget, options=frozen))
    return specs


RecordCheck = Callable[[Mapping[str, Any]], None]
"""The check of one record kind: raises a ``ValueError`` (:class:`RecordError`) saying what is wrong."""


@dataclass
class RunStore:
    """The results folder: ``{root}/runs/{run_id}/`` per run.

    :param root: results folder; created if missing.
    :param check: the check of the kind of record the sweep's run function returns (e.g.
        ``functools.partial(rlfloor.experiment.records.check_run_record, score=...)``); used both to decide
        whether a run is done and to hand records to readers. ``None``: any record of its folder's run is
        accepted (for run functions whose results no report reads).
    """

    root: Path
    check: RecordCheck | None = None
    problems: list[str] = field(default_factory=list)
    """Corrupt files met so far, one line each (the runs concerned are retrained)."""

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.runs_dir.mkdir(parents=True, exist_ok=True)

    @property
    def runs_dir(self) -> Path:
        """Folder holding one sub-folder per run."""
        return self.root / "runs"

    def run_dir(self, spec: RunSpec) -> Path:
        """The folder of one run (not created)."""
        return self.runs_dir / spec.run_id

    def result_path(self, spec: RunSpec) -> Path:
        """Where a finished run's results live."""
        return self.run_dir(spec) / "result.json"

    def error_path(self, spec: RunSpec) -> Path:
        """Where a failed run's traceback lives."""
        return self.run_dir(spec) / "error.json"

    def run_lock(self, spec: RunSpec) -> FileLock:
        """The lock a process holds while it trains ``spec`` (an OS lock: released if the process dies)."""
        self.run_dir(spec).mkdir(parents=True, exist_ok=True)
        return FileLock(self.run_dir(spec) / ".lock")

    def report_lock(self) -> FileLock:
        """The lock held while tables, figures and the report are written."""
        return FileLock(self.root / ".report.lock")

    def read(self, path: Path) -> dict[str, Any] | None:
        """The JSON object in ``path``; ``None`` if missing, or if corrupt (then noted in :attr:`problems`)."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            self._problem(f"{path}: unreadable ({type(error).__name__}: {error}); the run is retrained")
            return None
        if not isinstance(data, dict) or not isinstance(data.get("spec"), dict):
            self._problem(f"{path}: not a run record (holds {type(data).__name__}); the run is retrained")
            return None
        return data

    def _problem(self, line: str) -> None:
        if line not in self.problems:
            self.problems.append(line)

    def _examine(self, spec: RunSpec) -> tuple[str, dict[str, Any] | None]:
        """The status of ``spec`` and, when done, its record (see :meth:`status`)."""
        path = self.result_path(spec)
        stored = self.read(path)
        if stored is None or not self._of_its_folder(path, stored):
            return "missing", None
        if self.record_key(stored) != spec.key:
            return "changed", None
        if not self._passes_check(path, stored):
            return "missing", None
        return "done", stored

    def _passes_check(self, path: Path, record: Mapping[str, Any]) -> bool:
        """True if ``record`` passes :attr:`check` (else noted in :attr:`problems`)."""
        if self.check is None:
            return True
        try:
            self.check(record)
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as error:  # a check's own slip too
            reason = " ".join(str(error).split()) or type(error).__name__
            self._problem(f"{path}: corrupt record ({reason}); the run is retrained")
            return False
        return True

    def _of_its_folder(self, path: Path, record: Mapping[str, Any]) -> bool:
        """True if ``record``'s spec is well formed and names the run of the folder it is in (else noted)."""
        try:
            run_id = record_spec(record).run_id
        except RecordError as error:
            self._problem(f"{path}: corrupt record ({error}); the run is retrained")
            return False
        if run_id != path.parent.name:
            self._problem(f"{path}: records run {run_id}, not the run of its folder; the run is retrained")
            return False
        return True

    def status(self, spec: RunSpec) -> str:
        """``"done"`` (same settings, a sound record), ``"changed"`` (a result of other settings), or
        ``"missing"`` (none, or a corrupt one: noted in :attr:`problems`)."""
        return self._examine(spec)[0]

    def record(self, spec: RunSpec) -> dict[str, Any] | None:
        """The stored result of ``spec`` if the run is done (:meth:`status`), else ``None``."""
        return self._examine(spec)[1]

    def finished(self, specs: Iterable[RunSpec]) -> list[dict[str, Any]]:
        """The records of the runs of ``specs`` that are done, in the order of ``specs``: what a report reads
        (a result of other settings, a corrupt one or one outside ``specs`` is never read)."""
        records = (self.record(spec) for spec in specs)
        return [record for record in records if record is not None]

    def stored_runs(self) -> list[str]:
        """Run ids of every folder holding a ``result.json``, sorted (whatever its content)."""
        return sorted(path.parent.name for path in self.runs_dir.glob("*/result.json"))

    def outside(self, specs: Iterable[RunSpec]) -> list[str]:
        """Run ids with a stored ``result.json`` that are not runs of ``specs`` (a report of ``specs`` ignores
        them)."""
        grid_ids = {spec.run_id for spec in specs}
        return [run_id for run_id in self.stored_runs() if run_id not in grid_ids]

    @staticmethod
    def record_key(record: Mapping[str, Any]) -> str | None:
        """The content key of a stored result or error, recomputed from the settings it records.

        Recomputing (rather than trusting the stored ``key``) means a change of how keys are derived
        never discards a result whose settings are the same.
        """
        settings = record.get("settings")
        key = settings_key(settings) if isinstance(settings, dict) else record.get("key")
        return key if isinstance(key, str) else None

    def is_done(self, spec: RunSpec) -> bool:
        """True when the run finished before with the same resolved settings."""
        return self.status(spec) == "done"

    def write_result(self, spec: RunSpec, result: Mapping[str, Any]) -> None:
        """Record a finished run (and clear an old error of the same run)."""
        settings = json.loads(spec.settings) if spec.settings else None
        write_json_atomic(
            self.result_path(spec), {**result, "spec": spec.to_dict(), "key": spec.key, "settings": settings}
        )
        self.error_path(spec).unlink(missing_ok=True)

    def write_error(self, spec: RunSpec, message: str, attempts: int) -> None:
        """Record a failed run with its traceback."""
        record = {"spec": spec.to_dict(), "key": spec.key, "traceback": message, "attempts": attempts}
        write_json_atomic(self.error_path(spec), {**record, "time": time.time()})

    def results(self) -> list[dict[str, Any]]:
        """Every stored result that is a record of its folder's run and passes :attr:`check`, sorted by run
        folder, whatever its settings (corrupt ones noted in :attr:`problems`). A report of a grid reads
        :meth:`finished` instead: only the grid's runs, with their current settings."""
        out = []
        for path in sorted(self.runs_dir.glob("*/result.json")):
            record = self.read(path)
            if record is not None and self._of_its_folder(path, record) and self._passes_check(path, record):
                out.append(record)
        return out

    def errors(self) -> list[dict[str, Any]]:
        """Every readable failed run's record of its folder's run, sorted by run folder."""
        out = []
        for path in sorted(self.runs_dir.glob("*/error.json")):
            record = self.read(path)
            if record is not None and self._of_its_folder(path, record):
                if isinstance(record.get("traceback"), str):
                    out.append(record)
                else:
                    self._problem(f"{path}: corrupt record (no traceback); the run is retrained")
        return out


__all__ = [
    "RecordCheck",
    "RecordError",
    "RunSpec",
    "RunStore",
    "Timeout",
    "atomic_path",
    "canonical_json",
    "grid",
    "record_spec",
    "settings_key",
    "write_json_atomic",
    "write_text_atomic",
]
