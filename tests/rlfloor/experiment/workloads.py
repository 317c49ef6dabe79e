"""Run functions for the harness tests (importable by worker processes: pickled by reference)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from rlfloor.experiment import RunSpec

#: seconds a stalled run sleeps; a driver that waited for it would take this long to stop
STALL_SECONDS = 300.0


def sleepy_run(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """Record this worker's pid, count the call, sleep ``options["sleep"]`` seconds, return the seed."""
    options = dict(spec.options)
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "calls.txt").open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    pid_dir = options.get("pid_dir")
    if pid_dir:
        (Path(pid_dir) / f"{spec.run_id}.pid").write_text(str(os.getpid()))
    time.sleep(float(options.get("sleep", 0.0)))
    return {"value": spec.seed}


def stalling_run(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """Record this worker's pid in ``run_dir/pid``; the seeds in ``options["stall"]`` then sleep ``STALL_SECONDS``
    while the file ``options["hold"]`` exists (so a rerun without it finishes them); return the seed."""
    options = dict(spec.options)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "pid").write_text(str(os.getpid()))
    if spec.seed in options.get("stall", ()) and Path(options["hold"]).exists():
        time.sleep(STALL_SECONDS)
    return {"value": spec.seed}
