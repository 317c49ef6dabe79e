"""Issue 22 item 5: SIGINT to the sweep's driver process alone (not its process group) stops the runs in flight
at once, keeps every finished run, and a rerun resumes.

Ctrl-C in a terminal signals the whole process group, so the workers stop by themselves; ``kill -INT <driver>``
reaches the driver alone, whose backend must then end its workers (before, they trained to the end while the
driver waited for them, and their results were discarded).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

import pytest

from rlfloor.experiment import LocalBackend, RunSpec, RunStore, grid
from tests.rlfloor.experiment.test_kill_driver import alive, wait_until_dead
from tests.rlfloor.experiment.workloads import STALL_SECONDS, sleepy_run

ROOT = Path(__file__).resolve().parents[3]

DRIVER = textwrap.dedent(
    """
    import signal
    import sys
    from pathlib import Path
    from rlfloor.experiment import RunStore, grid
    from rlfloor.experiment.cli import SweepOptions, run_sweep_cli
    from tests.rlfloor.experiment.workloads import stalling_run

    signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal, even if pytest ignores SIGINT
    out = Path(sys.argv[1])
    specs = grid(["e"], ["a"], range(3), 10, {"stall": [2], "hold": str(out / "hold")})
    run_sweep_cli(specs, stalling_run, RunStore(out / "results"), SweepOptions(workers=2, progress=False))
    """
)


def start_driver(out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", DRIVER, str(out)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def interrupt(driver: subprocess.Popen[str], timeout: float) -> tuple[str, float]:
    """SIGINT to ``driver`` alone (its workers get no signal): its stderr and the seconds it took to exit."""
    start = time.monotonic()
    os.kill(driver.pid, signal.SIGINT)
    _, stderr = driver.communicate(timeout=timeout)
    return stderr, time.monotonic() - start


def test_sigint_to_the_driver_alone_stops_the_runs_and_keeps_the_finished(tmp_path: Path) -> None:
    (tmp_path / "hold").touch()
    runs = tmp_path / "results" / "runs"
    driver = start_driver(tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not (runs / "e__a__s2" / "pid").exists() or len(list(runs.glob("*/result.json"))) < 2:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.1)
        worker = int((runs / "e__a__s2" / "pid").read_text())
        assert alive(worker)
        stderr, elapsed = interrupt(driver, timeout=STALL_SECONDS / 2)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, stderr
    # The stalled run sleeps STALL_SECONDS: a driver that waited for it could not stop in a fraction of that
    # (a bound relative to the workload, not a speed target, so a loaded machine does not fail it).
    assert elapsed < STALL_SECONDS / 10, f"the driver took {elapsed:.1f} s to stop: it waited for the run"
    assert "finished runs are saved" in stderr
    assert not wait_until_dead({worker}, 5), "the interrupted run kept training"
    store = RunStore(tmp_path / "results")
    assert sorted(record["value"] for record in store.results()) == [0, 1] and not store.problems
    assert not (runs / "e__a__s2" / "result.json").exists() and not list(runs.glob("*/error.json"))
    assert not list(runs.glob("*/.*.tmp*")), "a file was left half-written"
    (tmp_path / "hold").unlink()
    again = start_driver(tmp_path)
    stdout, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert "sweep: 1 finished, 2 already done, 0 failed" in stdout
    assert sorted(record["value"] for record in store.results()) == [0, 1, 2]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cancel_ends_the_workers_and_returns_what_finished(tmp_path: Path) -> None:
    """The local backend's ``cancel``: the run in flight stops at once; one that came back is handed over."""
    specs = grid(["e"], ["a"], range(2), 10, {"sleep": STALL_SECONDS, "pid_dir": str(tmp_path)})
    quick = grid(["e"], ["a"], range(1), 10, {"sleep": 0})[0]
    backend = LocalBackend(2)
    try:
        backend.submit(quick, sleepy_run, tmp_path / "quick")
        backend.submit(specs[1], sleepy_run, tmp_path / "slow")
        futures = list(backend._futures)
        wait(futures, timeout=120, return_when=FIRST_COMPLETED)  # the quick run is back, not collected
        deadline = time.monotonic() + 60
        while not (tmp_path / f"{specs[1].run_id}.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int((tmp_path / f"{specs[1].run_id}.pid").read_text())
        start = time.monotonic()
        outcomes = backend.cancel()
        elapsed = time.monotonic() - start
        assert elapsed < STALL_SECONDS / 10, f"cancel took {elapsed:.1f} s: it waited for the run"
    finally:
        backend.close()
    assert [(spec, outcome["status"], outcome["result"]["value"]) for spec, outcome in outcomes] == [(quick, "ok", 0)]
    assert not wait_until_dead({worker}, 5), "the cancelled run kept training"
    assert backend.cancel() == []


@pytest.mark.slow  # two real compare.py invocations with runs long enough to be caught in flight (~1 min)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_sigint_to_a_compare_driver_alone(tmp_path: Path, backend: str) -> None:
    """The same on ``scripts/compare.py`` itself, training real runs on both backends."""
    if backend == "ray":
        pytest.importorskip("ray")
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "scripts" / "compare.py"), "--envs", "deepsea-6", "--agents", "ppo"]
    command += ["--seeds", "3", "--timesteps", "6000", "--out", str(out), "--backend", backend]
    command += ["--no-metrics", "--no-progress", "--bootstrap-reps", "100"] + (
        ["--workers", "2"] * (backend == "local")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def sigint_as_from_a_terminal() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # even if pytest runs with SIGINT ignored

    driver = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_from_a_terminal,
    )
    runs = out / "runs"
    try:
        deadline = time.monotonic() + 240
        while True:  # a finished run, and one in flight (its config written, no result yet)
            finished = {path.parent for path in runs.glob("*/result.json")}
            in_flight = {path.parent for path in runs.glob("*/config.json")} - finished
            if finished and in_flight:
                break
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "no run finished while another trained"
            time.sleep(0.1)
        stderr, elapsed = interrupt(driver, timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, stderr
    assert elapsed < 10, f"the driver took {elapsed:.1f} s to stop"
    store = RunStore(out)
    kept = store.results()
    assert finished <= {runs / RunSpec.from_dict(record["spec"]).run_id for record in kept} and not store.problems
    assert all(0.0 <= record["final_score"] <= 1.0 for record in kept)
    assert not list(runs.glob("*/.*.tmp*")), "a file was left half-written"
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"sweep: {3 - len(kept)} finished, {len(kept)} already done, 0 failed" in done.stdout
    assert len(store.results()) == 3
