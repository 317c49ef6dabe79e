"""A plain ``pip install .`` into a fresh venv gives the commands (``[project.scripts]``).

Offline and fast: a copy of the sources is built into a wheel by the test's own pip and setuptools
(``pip wheel --no-deps --no-build-isolation``: what ``pip install .`` does first), the wheel is installed
into a fresh venv without its dependencies, and the venv finds the
dependencies through a ``.pth`` line naming the test interpreter's site-packages (appended after the
venv's own, so the freshly installed packages win over any editable install of the project there).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("rlfloor-train", "rlfloor-compare", "rlfloor-scaling", "rlfloor-references")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("rlfloor", "envs", "agents", "rlfloor_cli"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    pip = [sys.executable, "-m", "pip"]
    wheels = root / "dist"
    build = [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(src)]
    subprocess.run(build, check=True, timeout=300, capture_output=True)
    (wheel,) = wheels.glob("rlfloor-*.whl")
    install = [*pip, "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, timeout=300)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "shared_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return env


def run(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=clean, cwd=venv)


def test_the_commands_are_installed_and_answer_help(venv: Path) -> None:
    for command in COMMANDS:
        assert (venv / "bin" / command).is_file(), command
    done = run(venv, str(venv / "bin" / "rlfloor-compare"), "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: rlfloor-compare" in done.stdout and "--envs" in done.stdout


def test_the_commands_run_the_installed_code(venv: Path) -> None:
    done = run(venv, str(venv / "bin" / "python"), "-c", "import rlfloor_cli, envs; print(rlfloor_cli.__file__)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(venv)), done.stdout  # not the editable install or the worktree


def test_a_refusal_is_one_line_and_exit_status_2(venv: Path) -> None:
    done = run(venv, str(venv / "bin" / "rlfloor-train"), "--seed", "-1", "--out", str(venv / "o"))
    assert done.returncode == 2 and done.stderr.startswith("error: seed=-1 is outside the allowed range")
    assert len(done.stderr.strip().splitlines()) == 1 and not (venv / "o").exists()
