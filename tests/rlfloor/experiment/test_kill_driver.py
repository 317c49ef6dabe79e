"""Reliability 1: ``kill -9`` of the sweep's driver leaves no process behind, on both backends.

A driver subprocess runs a sweep whose runs sleep; once every worker has started a run, the driver is
SIGKILLed (no Python handler runs), and every process that descended from it must be gone shortly after.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

DRIVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from rlfloor.experiment import RunStore, grid, run_sweep
    from tests.rlfloor.experiment.workloads import sleepy_run

    out, backend, runs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    specs = grid(["e"], ["a"], range(runs), 10, {"sleep": 300, "pid_dir": str(out / "pids")})
    run_sweep(specs, sleepy_run, RunStore(out / "results"), backend=backend, workers=2, progress=False)
    """
)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    """The command line of ``pid``, shortened."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
    except OSError:
        return f"{pid} (gone)"


def wait_until_dead(pids: set[int], seconds: float) -> list[int]:
    """Wait up to ``seconds`` for ``pids`` to die; return the survivors."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return sorted(pid for pid in pids if alive(pid))


def kill_driver_and_check(tmp_path: Path, backend: str, runs: int, start_timeout: float, grace: float) -> None:
    """SIGKILL the driver: its workers must die within 15 s, every other descendant within ``grace`` s."""
    (tmp_path / "pids").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), backend, str(runs)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + start_timeout
        while len(list((tmp_path / "pids").iterdir())) < runs:
            assert driver.poll() is None, "the driver exited early"
            assert time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.2)
        workers = {int(p.read_text()) for p in (tmp_path / "pids").iterdir()}
        family = descendants(driver.pid)
        assert workers <= family  # the runs really are the driver's descendants
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        training = wait_until_dead(workers, 15)
        survivors = wait_until_dead(family, grace)
        names = [command_line(pid) for pid in survivors]
        for pid in survivors:  # never leave them behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
        assert not training, f"workers kept training after the driver died: {training}"
        assert not survivors, f"processes survived the driver: {names}"
    finally:
        if driver.poll() is None:
            driver.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_local_driver_leaves_no_worker(tmp_path: Path) -> None:
    kill_driver_and_check(tmp_path, "local", runs=2, start_timeout=120, grace=15)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_ray_driver_leaves_no_process(tmp_path: Path) -> None:
    """Ray's own processes die with the driver (fate sharing); its dashboard and runtime-env agents notice
    the raylet's death at once but exit only after their last report to the (dead) GCS times out (~1 min)."""
    if importlib.util.find_spec("ray") is None:  # not imported here: Ray is configured when first imported
        pytest.skip("ray is not installed")
    kill_driver_and_check(tmp_path, "ray", runs=2, start_timeout=240, grace=180)
