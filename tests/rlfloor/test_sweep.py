"""The sweep runner: resume, atomic records, crash isolation, dead-worker retries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from rlfloor.experiment import RunSpec, RunStore, grid, run_sweep, write_json_atomic


def fake_run(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """A stand-in for training: deterministic numbers, a crash, a dying worker on request."""
    options = dict(spec.options)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "calls.txt").open("a").write("x")
    if spec.agent == "raises":
        raise RuntimeError(f"deliberate failure in {spec.run_id}")
    if spec.agent == "dies":
        marker = Path(options["marker_dir"]) / spec.run_id
        if options.get("always_die") or not marker.exists():
            marker.touch()
            os._exit(3)  # the worker process dies without a Python exception
    return {"score": spec.seed / 10, "env": spec.env}


def calls(store: RunStore, spec: RunSpec) -> int:
    return len((store.run_dir(spec) / "calls.txt").read_text())


def test_grid_and_run_ids() -> None:
    specs = grid(["rlfloor/DeepSea-v0", "b"], ["x"], range(2), lambda env: 100 if env == "b" else 50)
    assert [s.run_id for s in specs] == [
        "rlfloor-DeepSea-v0__x__s0",
        "rlfloor-DeepSea-v0__x__s1",
        "b__x__s0",
        "b__x__s1",
    ]
    assert [s.timesteps for s in specs] == [50, 50, 100, 100]
    assert RunSpec.from_dict(specs[0].to_dict()) == specs[0]
    with pytest.raises(ValueError, match="timesteps=-1"):
        RunSpec("e", "a", 0, -1)


def test_resume_skips_finished_and_isolates_a_crash(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    specs = grid(["e"], ["ok", "raises"], range(2), 10)
    summary = run_sweep(specs, fake_run, store, workers=2, progress=False)
    assert sorted(summary.finished) == ["e__ok__s0", "e__ok__s1"]
    assert sorted(summary.failed) == ["e__raises__s0", "e__raises__s1"]
    error = json.loads(store.error_path(specs[2]).read_text())
    assert "deliberate failure in e__raises__s0" in error["traceback"]
    assert "Traceback" in error["traceback"]
    result = json.loads(store.result_path(specs[1]).read_text())
    assert result["score"] == pytest.approx(0.1) and result["spec"] == specs[1].to_dict()

    again = run_sweep(specs, fake_run, store, workers=2, progress=False)
    assert sorted(again.skipped) == ["e__ok__s0", "e__ok__s1"]
    assert calls(store, specs[0]) == 1  # not retrained
    assert calls(store, specs[2]) == 2  # failed runs are retried on a re-run


def test_changed_settings_are_not_taken_as_done(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_sweep(grid(["e"], ["ok"], [0], 10), fake_run, store, workers=1, progress=False)
    summary = run_sweep(grid(["e"], ["ok"], [0], 20), fake_run, store, workers=1, progress=False)
    assert summary.finished == ["e__ok__s0"]


def test_dead_worker_is_retried_then_recorded(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "out")
    specs = grid(["e"], ["dies", "ok"], [0], 10, options={"marker_dir": str(tmp_path)})
    summary = run_sweep(specs, fake_run, store, workers=2, progress=False, max_retries=1)
    assert sorted(summary.finished) == ["e__dies__s0", "e__ok__s0"]
    assert calls(store, specs[0]) == 2

    store = RunStore(tmp_path / "out2")
    specs = grid(["e"], ["dies", "ok"], [0], 10, options={"marker_dir": str(tmp_path), "always_die": True})
    summary = run_sweep(specs, fake_run, store, workers=1, progress=False, max_retries=1)
    assert summary.failed == ["e__dies__s0"]
    assert summary.finished == ["e__ok__s0"]
    assert "worker process died on every attempt (2" in json.loads(store.error_path(specs[0]).read_text())["traceback"]


def test_bad_arguments(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    specs = grid(["e"], ["ok"], [0], 10)
    with pytest.raises(ValueError, match="backend='spark'"):
        run_sweep(specs, fake_run, store, backend="spark")
    with pytest.raises(ValueError, match="workers=0"):
        run_sweep(specs, fake_run, store, workers=0)
    with pytest.raises(ValueError, match="more than once"):
        run_sweep(specs + specs, fake_run, store)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    write_json_atomic(path, {"a": 1})

    class Unserializable:
        def __repr__(self) -> str:
            raise RuntimeError("cannot serialize")

    with pytest.raises(RuntimeError):
        write_json_atomic(path, {"a": Unserializable()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_max_retries_0_retries_nothing(tmp_path: Path) -> None:
    """``max_retries=0`` records a run whose worker died at its first death (it used to retry it once)."""
    store = RunStore(tmp_path / "out")
    specs = grid(["e"], ["dies"], [0], 10, options={"marker_dir": str(tmp_path)})
    summary = run_sweep(specs, fake_run, store, workers=1, progress=False, max_retries=0)
    assert summary.failed == ["e__dies__s0"] and calls(store, specs[0]) == 1
    assert "max_retries=0: not retried" in json.loads(store.error_path(specs[0]).read_text())["traceback"]
