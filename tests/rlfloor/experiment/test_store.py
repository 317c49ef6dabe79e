"""The results store: atomic writes with normal permissions, content keys, corrupt files, concurrent sweeps."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from rlfloor.experiment import RunStore, atomic_path, grid, run_sweep, write_json_atomic
from rlfloor.experiment.store import settings_key
from tests.rlfloor.experiment.workloads import sleepy_run

ROOT = Path(__file__).resolve().parents[3]


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_written_files_get_normal_permissions(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    with atomic_path(tmp_path / "b.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path  # writers infer the format from the suffix
        tmp.write_bytes(b"png")
    expected = 0o666 & ~umask()
    for name in ("a.json", "b.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.png"]  # no temporary left


def test_concurrent_writers_never_share_a_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(50):
                write_json_atomic(path, {"writer": n, "i": i, "pad": "x" * 10_000})
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert json.loads(path.read_text())["i"] == 49  # a whole file from one writer
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_settings_key_is_content_based() -> None:
    a = {"agent": {"algo": "ppo", "policy_kwargs": {"min_prob": 0.05}}, "run": {"seed": 0}}
    b = {"run": {"seed": 0}, "agent": {"policy_kwargs": {"min_prob": 0.05}, "algo": "ppo"}}
    assert settings_key(a) == settings_key(b)  # key order does not matter
    assert settings_key(a) != settings_key({**a, "agent": {"algo": "a2c", "policy_kwargs": {"min_prob": 0.4}}})
    # an optional component left unset (None) is the same as one the settings never had, so adding a new
    # optional preset field does not invalidate finished runs; a set one does count
    assert settings_key({**a, "agent": {**a["agent"], "intrinsic": None}}) == settings_key(a)
    assert settings_key({**a, "agent": {**a["agent"], "intrinsic": {"method": "count"}}}) != settings_key(a)


def test_results_are_matched_by_their_stored_settings_not_the_stored_key(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    (spec,) = [s.with_settings({"agent": {"algo": "ppo", "adaptive_floor": None}}) for s in grid(["e"], ["a"], [0], 10)]
    run_sweep([spec], sleepy_run, store, workers=1, progress=False)
    record = json.loads(store.result_path(spec).read_text())
    write_json_atomic(store.result_path(spec), {**record, "key": "written-by-an-older-version"})
    assert store.status(spec) == "done"  # the key is recomputed from the stored settings
    assert [RunStore.record_key(r) for r in store.results()] == [spec.key]  # as the report matches results
    assert store.status(spec.with_settings({"agent": {"algo": "a2c"}})) == "changed"


@pytest.mark.parametrize("content", ["null", '{"spec": {"env": "e"', '{"no": "spec"}'])
def test_corrupt_result_is_reported_and_retrained(tmp_path: Path, content: str) -> None:
    store = RunStore(tmp_path)
    specs = grid(["e"], ["a"], [0], 10)
    run_sweep(specs, sleepy_run, store, workers=1, progress=False)
    store.result_path(specs[0]).write_text(content)
    fresh = RunStore(tmp_path)
    assert fresh.status(specs[0]) == "missing"
    summary = run_sweep(specs, sleepy_run, fresh, workers=1, progress=False)
    assert summary.finished == ["e__a__s0"]
    assert any("result.json" in p and "retrained" in p for p in summary.problems), summary.problems
    assert json.loads(store.result_path(specs[0]).read_text())["value"] == 0
    assert len((store.run_dir(specs[0]) / "calls.txt").read_text().split()) == 2


def test_truncated_error_file_does_not_break_reading(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    specs = grid(["e"], ["a", "b"], [0], 10)
    store.write_error(specs[0], "Traceback ...\nRuntimeError: x", attempts=1)
    store.write_error(specs[1], "Traceback ...", attempts=1)
    store.error_path(specs[1]).write_text('{"spec": {"env": "e", "ag')
    errors = store.errors()
    assert [e["spec"]["agent"] for e in errors] == ["a"]
    assert len(store.problems) == 1 and "error.json" in store.problems[0]


def test_changed_settings_are_retrained_and_named(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    old = [s.with_settings({"agent": {"algo": "ppo", "min_prob": 0.05}}) for s in grid(["e"], ["a", "b"], [0], 10)]
    run_sweep(old, sleepy_run, store, workers=1, progress=False)
    new = [old[0], old[1].with_settings({"agent": {"algo": "a2c", "min_prob": 0.4}})]
    summary = run_sweep(new, sleepy_run, store, workers=1, progress=False)
    assert summary.skipped == ["e__a__s0"] and summary.changed == ["e__b__s0"] and summary.finished == ["e__b__s0"]
    stored = json.loads(store.result_path(new[1]).read_text())
    assert stored["key"] == new[1].key and stored["settings"]["agent"]["algo"] == "a2c"


SWEEP = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from rlfloor.experiment import RunStore, grid, run_sweep
    from tests.rlfloor.experiment.workloads import sleepy_run

    specs = grid(["e"], ["a"], range(4), 10, {"sleep": 1.0})
    summary = run_sweep(specs, sleepy_run, RunStore(Path(sys.argv[1])), workers=2, progress=False)
    print(json.dumps({"finished": summary.finished, "skipped": summary.skipped, "failed": summary.failed}))
    """
)


def test_two_sweeps_on_one_folder_train_each_run_once(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", SWEEP, str(tmp_path)]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    outputs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in (first, second)]
    assert all(p.returncode == 0 for p in (first, second))
    for run in range(4):
        calls = (tmp_path / "runs" / f"e__a__s{run}" / "calls.txt").read_text().split()
        assert len(calls) == 1, f"run {run} trained {len(calls)} times"
    finished = sorted(outputs[0]["finished"] + outputs[1]["finished"])
    assert finished == [f"e__a__s{run}" for run in range(4)]  # each run finished by exactly one sweep
    for output in outputs:
        assert sorted(output["finished"] + output["skipped"]) == finished and not output["failed"]
