"""What the harness's commands share (``rlfloor-train``, ``rlfloor-compare``, ``rlfloor-scaling``; see
:mod:`rlfloor_cli`).

A script's config dataclass embeds :class:`SweepOptions` without a flag prefix, so every script spells the
sweep flags the same way (``--workers``, ``--backend``, ``--address``, ``--cpus-per-run``,
``--max-retries``, ``--progress``)::

    sweep: Annotated[SweepOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=SweepOptions)

and runs its grid with :func:`run_sweep_cli`, which prints what happened the same way in every script.
Errors are one-line ``ValueError`` messages naming the flag, the value and what is allowed; a command
refuses them with :func:`refuse` (``error: ...`` on stderr, exit status 2, as argument parsers do).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from rlfloor.checks import check_choice, check_int, check_number
from rlfloor.experiment.backends import RunFn
from rlfloor.experiment.store import RunSpec, RunStore
from rlfloor.experiment.sweep import BACKENDS, SweepSummary, run_sweep


@dataclass
class SweepOptions:
    """How the grid is run (none of these changes a run's results, so none is part of a run's key)."""

    workers: int | None = None
    """parallel runs on the local backend (default: number of CPUs)"""
    backend: str = "local"
    """local (process pool) or ray"""
    address: str | None = None
    """Ray cluster address (--backend ray only); None starts a private local Ray instance"""
    cpus_per_run: float | None = None
    """CPUs reserved per run on Ray (--backend ray only; None: 1)"""
    max_retries: int = 2
    """retries of a run whose worker process died (0: recorded as failed at once)"""
    progress: bool = True
    """show a progress bar over the grid"""

    def check(self) -> None:
        """Raise a one-line ``ValueError`` naming the first bad flag."""
        if self.workers is not None:
            check_int("--workers", self.workers, 1)
        check_choice("--backend", self.backend, BACKENDS)
        if self.cpus_per_run is not None:
            check_number("--cpus-per-run", self.cpus_per_run, 0, None, low_open=True)
        check_int("--max-retries", self.max_retries, 0)
        if self.backend != "ray":  # the local process pool has no cluster and reserves no CPUs: say so
            for flag, value in (("--address", self.address), ("--cpus-per-run", self.cpus_per_run)):
                if value is not None:
                    raise ValueError(
                        f"{flag}={value!r} applies to --backend ray only; the local backend runs --workers"
                    )

    @property
    def ray_resources(self) -> dict[str, float]:
        """Resources reserved per Ray task (``{"num_cpus": --cpus-per-run}``, 1 CPU by default)."""
        return {"num_cpus": 1.0 if self.cpus_per_run is None else float(self.cpus_per_run)}


def check_out(out: str) -> Path:
    """``out`` as a folder that exists or can be created, and is writable; one-line ``ValueError`` otherwise.

    Writability is tried, not inferred from permission bits (which root ignores and which say nothing of a
    read-only mount): an empty folder is created in the nearest existing folder on the path and removed.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out={out!r} is a file, not a folder")
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"--out={out!r} is not writable ({str(existing)!r} is a file, not a folder)")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".rlfloor-write-check-", dir=existing))
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"--out={out!r} is not writable ({str(existing)!r}: {reason})") from None
    return path


MAX_SEEDS = 10_000
"""Most seeds per grid cell a command accepts (``--seeds``): more is a typo, not a study."""

REFUSED = 2
"""Exit status of a refused command (bad input; nothing was written), as argparse and tyro use."""

T = TypeVar("T")


def refuse(error: BaseException) -> NoReturn:
    """Print ``error: <message>`` (one line) on stderr and exit with :data:`REFUSED`."""
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"error: {message}", file=sys.stderr)
    sys.exit(REFUSED)


def checked(step: Callable[[], T]) -> T:
    """Run a checking step (validation, planning); refuse its ``ValueError`` / ``ImportError`` in one line."""
    try:
        return step()
    except (ValueError, ImportError) as error:
        refuse(error)


def check_run_dir(path: Path) -> Path:
    """A run folder to be created or reused: its parent must be a writable folder, and it must not be a file."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"run folder {str(path)!r} is a file, not a folder")
    check_out(str(path.parent))
    return path


RUN_KEY_FILE = ".key"
"""File of a run folder holding the content key of the run started in it (written before training)."""


def finished_record(path: Path) -> dict[str, Any] | None:
    """The finished run's record in a run folder (its ``result.json``), or None (absent or unreadable)."""
    try:
        record = json.loads((path / "result.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def is_finished(path: Path, key: str) -> bool:
    """True when ``path`` holds a finished run (a readable ``result.json``) of content key ``key``."""
    record = finished_record(path)
    return record is not None and RunStore.record_key(record) == key


def folder_key(path: Path) -> str | None:
    """Content key of the run a folder holds: of its finished result (``result.json``), else the key written when
    the run started (:data:`RUN_KEY_FILE`); None when the folder says neither (absent, empty, or foreign)."""
    record = finished_record(path)
    key = RunStore.record_key(record) if record is not None else None
    if key is None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            key = (path / RUN_KEY_FILE).read_text().strip() or None
    return key


def choose_run_dir(out: Path, run_id: str, key: str) -> Path:
    """The folder of one run of content key ``key`` (see :func:`~rlfloor.experiment.store.settings_key`) in
    ``out``, chosen so that no run is ever overwritten by a run of other settings.

    The candidates are ``{out}/{run_id}`` and ``{out}/{run_id}__{key[:8]}``. The first that holds this key
    (the same run, finished or interrupted: reuse it or train it again) is chosen, else the first that is
    absent or empty. When both hold something else, a one-line ``ValueError`` names them and says how to
    keep both (another ``--out``).
    """
    candidates = [out / run_id, out / f"{run_id}__{key[:8]}"]
    for path in candidates:
        check_run_dir(path)
    for path in candidates:
        if folder_key(path) == key:
            return path
    for path in candidates:
        if not path.exists() or all(entry.name == ".lock" for entry in path.iterdir()):
            return path
    names = " and ".join(repr(str(path)) for path in candidates)
    raise ValueError(
        f"run folders {names} hold runs of other settings; train into another --out to keep them and this run"
    )


def absolute_path(path: str | None) -> str | None:
    """``path`` made absolute (workers may run in another folder, or on another machine's mount), or None."""
    return str(Path(path).resolve()) if path else None


def run_sweep_cli(specs: Sequence[RunSpec], run_fn: RunFn, store: RunStore, options: SweepOptions) -> SweepSummary:
    """:func:`~rlfloor.experiment.sweep.run_sweep` as a script runs it, printing what it does.

    Prints the size of the grid first, then (after the sweep) the corrupt files met, the runs retrained
    because their settings changed, and the summary. On Ctrl-C the finished runs are already saved: it says
    so and exits with status 130. Bad options and a missing Ray raise as ``run_sweep`` does.
    """
    print(f"{len(specs)} runs in {store.root} ({options.backend} backend)", flush=True)
    try:
        summary = run_sweep(
            specs,
            run_fn,
            store,
            backend=options.backend,
            workers=options.workers,
            max_retries=options.max_retries,
            progress=options.progress,
            ray_address=options.address,
            ray_resources=options.ray_resources,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are saved; run the same command again to resume", file=sys.stderr)
        sys.exit(130)
    for problem in summary.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if summary.changed:
        print(f"retrained (settings changed): {', '.join(summary.changed)}")
    print(f"sweep: {summary}")
    return summary


def exit_if_failed(summary: SweepSummary) -> None:
    """Name the failed runs on stderr and exit with status 1, if there are any."""
    if summary.failed:
        print(f"{len(summary.failed)} runs failed: {', '.join(summary.failed)}", file=sys.stderr)
        sys.exit(1)


__all__ = [
    "MAX_SEEDS",
    "REFUSED",
    "RUN_KEY_FILE",
    "SweepOptions",
    "absolute_path",
    "check_out",
    "check_run_dir",
    "checked",
    "choose_run_dir",
    "exit_if_failed",
    "finished_record",
    "folder_key",
    "is_finished",
    "refuse",
    "run_sweep_cli",
]
