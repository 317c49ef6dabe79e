"""The Ray backend of the sweep runner: same results as the local backend, failures isolated.

One private local Ray instance serves the in-process tests (Ray takes seconds to start); the
end-to-end test runs ``scripts/compare.py`` on both backends in subprocesses.
"""

from __future__ import annotations

import _thread
import csv
import importlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Ray reads its single-machine switch once, at import: as rlfloor does when it imports Ray itself.
_SWITCH_SET_HERE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")
if _SWITCH_SET_HERE:
    del os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"]

from rlfloor.experiment import RunSpec, RunStore, grid, run_sweep  # noqa: E402
from rlfloor.experiment import ray_backend as ray_backend  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def toy_run(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """A fast run_fn whose misbehaviour is chosen per seed through ``spec.options``."""
    import torch

    options = dict(spec.options)
    if spec.seed in options.get("raise_on", ()):
        raise RuntimeError(f"deliberate failure of seed {spec.seed}")
    if spec.seed in options.get("die_on", ()):
        marker = Path(options["marker_dir"]) / f"died-{spec.run_id}"
        if not marker.exists() or not options.get("die_once", False):
            marker.touch()
            os._exit(1)  # the worker process dies without a word
    if spec.seed in options.get("sleep_on", ()):
        time.sleep(600)  # far longer than any wait below: cancelled, never finished
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "log.txt").write_text("worker-side file")
    return {"value": spec.seed * 100 + spec.timesteps, "threads": torch.get_num_threads(), "pid": os.getpid()}


def _sweep(specs: list[RunSpec], store: RunStore, **kwargs: Any) -> Any:
    return run_sweep(specs, toy_run, store, backend="ray", progress=False, **kwargs)


def _compare(out: Path, backend: str, seeds: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(REPO / "scripts" / "compare.py"), "--envs", "deepsea-6", "--agents", "ppo"]
    command += ["--seeds", str(seeds), "--timesteps", "512", "--out", str(out), "--backend", backend]
    command += ["--no-metrics", "--no-progress", "--bootstrap-reps", "100", "--workers", "2"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _table(path: Path) -> dict[str, dict[str, str]]:
    columns = ("final_score", "auc_score", "final_return", "episodes")
    with path.open() as handle:
        return {row["seed"]: {c: row[c] for c in columns} for row in csv.DictReader(handle)}


def test_compare_script_same_table_on_both_backends_and_resumes_across_them(tmp_path: Path) -> None:
    _compare(tmp_path / "local", "local", seeds=2)
    # A sweep started locally (seed 0 done) and finished on Ray: seed 0 is skipped, seed 1 runs on Ray.
    shutil.copytree(
        tmp_path / "local" / "runs" / "deepsea-6__ppo__s0", tmp_path / "mixed" / "runs" / "deepsea-6__ppo__s0"
    )
    first = tmp_path / "mixed" / "runs" / "deepsea-6__ppo__s0" / "result.json"
    stamp = first.stat().st_mtime_ns
    done = _compare(tmp_path / "mixed", "ray", seeds=2)
    assert "sweep: 1 finished, 1 already done, 0 failed" in done.stdout
    assert first.stat().st_mtime_ns == stamp  # not redone
    ray_result = json.loads((tmp_path / "mixed" / "runs" / "deepsea-6__ppo__s1" / "result.json").read_text())
    assert "host" in ray_result  # this one did run on Ray
    local, mixed = _table(tmp_path / "local" / "results.csv"), _table(tmp_path / "mixed" / "results.csv")
    assert local == mixed and set(local) == {"0", "1"}  # same seeds, same numbers on CPU


def test_missing_ray_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'rlfloor\[ray\]'"):
        ray_backend.import_ray()


def test_infeasible_task_on_a_local_instance_fails_instead_of_hanging(tmp_path: Path) -> None:
    """Also: run_ray shuts down an instance it started itself. Runs before the module's instance exists."""
    if ray.is_initialized():
        pytest.skip("needs its own instance")
    specs = grid(["toy"], ["a"], range(1), 5)
    with pytest.raises(ValueError, match="no Ray node can run"):
        _sweep(specs, RunStore(tmp_path), ray_resources={"num_cpus": 10_000})
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A private local Ray instance shared by this module (run_ray leaves it running)."""
    started = ray_backend.connect(None)
    yield
    if started:
        ray.shutdown()


def test_private_instance_is_loopback_only(local_ray: None) -> None:
    assert [node["NodeManagerAddress"] for node in ray.nodes()] == ["127.0.0.1"]
    assert os.environ.get("http_proxy") != "http://127.0.0.1:9"  # the driver's own environment is restored


def test_results_match_and_resume(local_ray: None, tmp_path: Path) -> None:
    specs = grid(["toy"], ["a", "b"], range(3), 7)
    store = RunStore(tmp_path)
    summary = _sweep(specs, store)
    assert sorted(summary.finished) == sorted(s.run_id for s in specs) and not summary.failed
    assert len(store.results()) == 6
    for spec in specs:
        result = json.loads(store.result_path(spec).read_text())
        assert result["spec"] == spec.to_dict()
        assert result["value"] == spec.seed * 100 + 7
        assert result["threads"] == 1  # one torch thread per task
        assert Path(result["run_dir"]) == store.run_dir(spec).resolve()
        assert (store.run_dir(spec) / "log.txt").exists()
    again = _sweep(specs, store)  # resume: nothing left to do, Ray not even needed
    assert sorted(again.skipped) == sorted(s.run_id for s in specs) and not again.finished


def test_crashing_run_is_isolated(local_ray: None, tmp_path: Path) -> None:
    specs = grid(["toy"], ["a"], range(4), 5, {"raise_on": [2]})
    store = RunStore(tmp_path)
    summary = _sweep(specs, store)
    assert summary.failed == ["toy__a__s2"]
    assert len(summary.finished) == 3
    error = json.loads(store.error_path(specs[2]).read_text())
    assert "RuntimeError: deliberate failure of seed 2" in error["traceback"]
    assert "Traceback" in error["traceback"] and error["attempts"] == 1
    assert not store.result_path(specs[2]).exists()
    again = _sweep(specs, store)  # a re-run retries only the failed run
    assert again.failed == ["toy__a__s2"] and len(again.skipped) == 3


def test_dead_worker_is_retried(local_ray: None, tmp_path: Path) -> None:
    options = {"die_on": [1], "die_once": True, "marker_dir": str(tmp_path)}
    specs = grid(["toy"], ["a"], range(3), 5, options)
    store = RunStore(tmp_path / "out")
    summary = _sweep(specs, store, max_retries=1)
    assert sorted(summary.finished) == sorted(s.run_id for s in specs) and not summary.failed
    assert (tmp_path / "died-toy__a__s1").exists()  # it did die once


def test_worker_dying_every_time_is_recorded(local_ray: None, tmp_path: Path) -> None:
    options = {"die_on": [0], "marker_dir": str(tmp_path)}
    specs = grid(["toy"], ["a"], range(2), 5, options)
    store = RunStore(tmp_path / "out")
    summary = _sweep(specs, store, max_retries=0)
    assert summary.failed == ["toy__a__s0"] and summary.finished == ["toy__a__s1"]
    error = json.loads(store.error_path(specs[0]).read_text())
    assert "WorkerCrashedError" in error["traceback"] and error["attempts"] == 1


def test_ctrl_c_keeps_finished_runs_and_resumes(local_ray: None, python_sigint: None, tmp_path: Path) -> None:
    specs = grid(["toy"], ["a"], range(3), 5, {"sleep_on": [2]})
    store = RunStore(tmp_path)

    interrupted_at: list[float] = []

    def interrupt_when_two_done() -> None:
        deadline = time.monotonic() + 300  # the third run sleeps 600 s; a loaded machine may start Ray slowly
        while len(list(store.runs_dir.glob("*/result.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        interrupted_at.append(time.monotonic())
        _thread.interrupt_main()  # what Ctrl-C does

    threading.Thread(target=interrupt_when_two_done, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        _sweep(specs, store)
    # The sleeping task did not hold the driver: it stopped soon after the interrupt (timed from the interrupt,
    # not from the start, so a loaded machine's slow Ray start-up does not count).
    assert interrupted_at and time.monotonic() - interrupted_at[0] < 30
    assert {r["spec"]["seed"] for r in store.results()} == {0, 1}
    summary = _sweep(specs[:2], store)  # re-run (without the slow run): the finished ones are skipped
    assert len(summary.skipped) == 2 and not summary.finished


def test_ship_by_value_reaches_workers_without_the_module(local_ray: None, tmp_path: Path) -> None:
    """What a multi-machine cluster needs for scripts/train.py: code not importable on the nodes."""
    helper = tmp_path / "helper_mod" / "rlfloor_shipped_helper.py"
    helper.parent.mkdir()
    helper.write_text("def run(spec, run_dir):\n    return {'shipped': spec.seed + 1}\n")
    sys.path.insert(0, str(helper.parent))
    try:
        module = importlib.import_module("rlfloor_shipped_helper")
        specs = grid(["toy"], ["a"], range(1), 5)
        missing = run_sweep(specs, module.run, RunStore(tmp_path / "missing"), backend="ray", progress=False)
        assert missing.failed == ["toy__a__s0"]  # the workers can't import it
        error = json.loads(RunStore(tmp_path / "missing").error_path(specs[0]).read_text())
        assert "rlfloor_shipped_helper" in error["traceback"]
        ray_backend.ship_by_value(module)
        store = RunStore(tmp_path / "shipped")
        shipped = run_sweep(specs, module.run, store, backend="ray", progress=False)
        assert shipped.finished == ["toy__a__s0"] and store.results()[0]["shipped"] == 1
    finally:
        sys.path.remove(str(helper.parent))
        sys.modules.pop("rlfloor_shipped_helper", None)


def test_bad_resources_fail_early(local_ray: None, tmp_path: Path) -> None:
    specs = grid(["toy"], ["a"], range(1), 5)
    with pytest.raises(ValueError, match="num_cpus=0"):
        _sweep(specs, RunStore(tmp_path), ray_resources={"num_cpus": 0})
    with pytest.raises(ValueError, match="num_gpus=-1"):
        _sweep(specs, RunStore(tmp_path), ray_resources={"num_gpus": -1})
