"""Provenance of a run: the code, the packages and the CPU that produced its numbers.

Two runs of the same settings and seed give the same numbers bit for bit only when the code, the versions of
the packages that compute them and the CPU kernels torch dispatches to are the same (issue 22, item 6: a fresh
clone's default comparison differed from the published one in 29 of 84 runs, and nothing recorded what had changed).
:func:`provenance` records all three; the
run writes it into ``config.json``. It is *not* part of a run's content key: a result is reused whatever machine
made it, and its provenance says where it came from.
"""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

NUMERIC_PACKAGES = (
    "torch",
    "stable-baselines3",
    "sb3-contrib",
    "gymnasium",
    "numpy",
    "minigrid",
    "minatar",
    "bsuite",
    "shimmy",
)
"""Distributions whose versions shape the numbers of a run: the learner (torch, SB3, sb3-contrib), the env API and
arrays (gymnasium, numpy), and the external benchmark packages (those installed are recorded)."""

UNKNOWN = "unknown"


def package_versions(names: tuple[str, ...] = NUMERIC_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (distribution names); packages not installed are left out."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _git(source: Path, *args: str) -> str | None:
    """Output of ``git -C source args`` (stripped), or ``None`` if git is missing or fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(source), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version(source: Path | None = None) -> dict[str, Any]:
    """The git commit of the source tree rlfloor is imported from, and whether tracked files differ from it.

    :param source: a folder inside the tree (default: the folder holding the imported ``rlfloor`` package).
    :return: ``{"commit": sha or "unknown", "dirty": bool or "unknown", "source": folder}``; ``"unknown"`` outside
        a git work tree (e.g. installed from a wheel) or without git. Untracked files (result folders) do not
        make a tree dirty.
    """
    if source is None:
        import rlfloor

        source = Path(rlfloor.__file__).resolve().parent.parent
    commit = _git(source, "rev-parse", "HEAD")
    if not commit:
        return {"commit": UNKNOWN, "dirty": UNKNOWN, "source": str(source)}
    status = _git(source, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": UNKNOWN if status is None else bool(status), "source": str(source)}


def cpu_model() -> str:
    """The CPU's model name (Linux: ``/proc/cpuinfo``), else what :func:`platform.processor` says, else unknown."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or UNKNOWN


def torch_cpu() -> dict[str, Any]:
    """The SIMD level torch's CPU kernels use (``torch.backends.cpu.get_cpu_capability()``) and its thread counts.

    Reductions in float32 add in an order that depends on the vector width and the number of threads, so the
    same seed gives bit-identical numbers only on the same capability with the same threads.
    """
    import torch

    return {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
    }


def provenance(source: Path | None = None) -> dict[str, Any]:
    """Everything recorded about where a run's numbers come from (see the module docstring).

    :param source: see :func:`code_version`.
    """
    return {
        "code": code_version(source),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "cpu": cpu_model()},
        "torch": torch_cpu(),
        "executable": sys.executable,
    }


__all__ = ["NUMERIC_PACKAGES", "UNKNOWN", "code_version", "cpu_model", "package_versions", "provenance", "torch_cpu"]
