"""Records are checked before reuse or report (issue 22, item 2): one check per record kind, used by the store's
resume decision and by every reader; a record that contradicts itself is reported and retrained, never reported.

No training here except where a run must be real: records are built with the harness's own functions
(:func:`~rlfloor.experiment.run.learning_curve`, :func:`~rlfloor.experiment.solve.solve_fields`) from made-up
episodes, or are real records kept in ``tests/rlfloor/data``.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from envs.scoring import normalized_score
from rlfloor.experiment import RunSpec, RunStore, run_spec, run_sweep, write_json_atomic
from rlfloor.experiment.records import RELATIVE_TOLERANCE, agree, check_run_record
from rlfloor.experiment.run import FINAL_FRACTION, learning_curve
from rlfloor.experiment.solve import solve_fields
from rlfloor.experiment.store import RecordError
from rlfloor_cli import compare, scaling

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "rlfloor" / "data"
RUN_RECORDS = DATA / "records"  # real compare records (published ladder calibration, probe baselines, nonstat)
SCALING_RECORDS = DATA / "scaling-records"  # real scaling records: deepsea-4 solved at episode 7, deepsea-6 not

PRESETS = {
    "tiny": {"algo": "ppo", "description": "PPO, 32-step rollouts", "algo_kwargs": {"n_steps": 32, "batch_size": 32}},
    "tiny-floor": {
        "algo": "ppo",
        "description": "PPO, 32-step rollouts, 10% floor",
        "policy_kwargs": {"min_prob": 0.1},
        "algo_kwargs": {"n_steps": 32, "batch_size": 32},
        "baseline": "tiny",
    },
}
BUDGET = 1200  # 200 DeepSea-6 episodes of 6 steps


def check_any(record: dict[str, Any]) -> None:
    """The check of the record's kind (a scaling run records its bad-episode flags)."""
    (scaling.check_scaling_record if "bad_flags" in record else compare.CHECK_RECORD)(record)


# ------------------------------------------------------------------------------------------ published records
def published_roots() -> list[Path]:
    found = {path.parents[2] for path in ROOT.glob("published/**/runs/*/result.json")}
    return sorted(found | {RUN_RECORDS, SCALING_RECORDS})


@pytest.mark.parametrize("root", published_roots(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_published_record_passes(root: Path) -> None:
    """Nothing published is rejected (hence retrained): the check agrees with every record the code wrote."""
    store = RunStore(root, check=check_any)
    stored = sorted(root.glob("runs/*/result.json"))
    assert stored, f"no record under {root}"
    assert len(store.results()) == len(stored) and not store.problems, store.problems


def test_the_record_fixtures_cover_each_kind_and_branch() -> None:
    """The fixtures are real records of both kinds, with and without steps to solve, solved and not."""
    runs = [json.loads(p.read_text()) for p in sorted(RUN_RECORDS.glob("runs/*/result.json"))]
    sizes = [json.loads(p.read_text()) for p in sorted(SCALING_RECORDS.glob("runs/*/result.json"))]
    assert any("steps_to_solve" in r for r in runs) and any("steps_to_solve" not in r for r in runs)
    assert {r["solved_episode"] is None for r in sizes} == {True, False}


def test_committed_scaling_tables_agree_with_the_stopping_rule() -> None:
    """The published scaling tables (their records are not committed) pass the part of the check they hold."""
    tables = sorted(ROOT.glob("published/*/scaling.csv"))
    assert tables
    for table in tables:
        for row in csv.DictReader(table.open()):
            solved = int(row["solved_episode"]) if row["solved_episode"] else None
            size, horizon, episodes = int(row["size"]), int(row["horizon"]), int(row["episodes"])
            beat = row["beat_dithering"] == "True"
            scaling.check_stop(size, horizon, episodes, solved, beat, int(row["trained_steps"]))
            assert int(row["total_bad_episodes"]) <= episodes


# ------------------------------------------------------------------------------------------ compare records
@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[compare.CompareConfig, compare.Plan]:
    root = tmp_path_factory.mktemp("grid")
    (root / "presets.json").write_text(json.dumps(PRESETS))
    config = compare.CompareConfig(
        envs=["deepsea-6"],
        agents=list(PRESETS),
        seeds=3,
        timesteps=BUDGET,
        out=str(root / "out"),
        presets=str(root / "presets.json"),
        bootstrap_reps=50,
        metrics=False,
    )
    return config, compare.validate(config)


def result_of(spec: RunSpec, solve: bool = False) -> dict[str, Any]:
    """What ``train_run`` returns for made-up DeepSea-6 episodes (6 steps each): the harness's own functions."""
    run = spec.plan
    low, high = run.env.random_return, run.env.optimal_return
    rng = np.random.default_rng(spec.seed)
    returns = np.full(BUDGET // 6, high) if solve else rng.uniform(low, high, BUDGET // 6)
    episodes = [(6 * (i + 1), float(r), 6) for i, r in enumerate(returns)]
    curve = learning_curve(episodes, run.timesteps, run.settings.curve_points, run.env)
    final_return = float(np.mean([r for end, r, _ in episodes if end > (1 - FINAL_FRACTION) * run.timesteps]))
    return {
        "env": spec.env,
        "agent": spec.agent,
        "seed": spec.seed,
        "timesteps": run.timesteps,
        "episodes": len(episodes),
        "final_return": final_return,
        "final_score": run.env.score(final_return),
        "auc_return": float(np.nanmean(curve["return"])),
        "auc_score": float(np.nanmean(curve["score"])),
        "curve": curve,
        **solve_fields(episodes, run.env, run.timesteps),
        "wall_time": 1.7,
        "trained_steps": run.timesteps,
        "steps_per_second": run.timesteps / 1.7,
    }


def made_up_run(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """A sweep's run function with no training (importable by the worker processes)."""
    return result_of(spec)


def filled(store: RunStore, plan: compare.Plan) -> RunStore:
    for spec in plan.specs:
        store.write_result(spec, result_of(spec, solve=spec.seed == 0))
    return store


def edit(store: RunStore, spec: RunSpec, change: Callable[[dict[str, Any]], None]) -> None:
    record = json.loads(store.result_path(spec).read_text())
    change(record)
    write_json_atomic(store.result_path(spec), record)


def test_records_written_as_the_run_writes_them_pass(comparison: Any, tmp_path: Path) -> None:
    _, plan = comparison
    store = filled(compare.open_store(tmp_path), plan)
    assert [store.status(spec) for spec in plan.specs] == ["done"] * 6 and not store.problems
    solved = store.record(plan.specs[0])
    assert solved is not None and solved["solved"] is True and solved["steps_to_solve"] == 600  # the 100th episode


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = record
        for name in parents:
            target = target[name]
        target[last] = value(target[last]) if callable(value) else value

    return change


def _delete(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.pop(name)


def _set_item(path: str, index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        section, name = path.split(".")
        record[section][name][index] = value

    return change


CORRUPTIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    # name: (edit of a sound record of seed 0 (a solved run), what the problem line says)
    "curve deleted": (_delete("curve"), "no 'curve'"),
    "final_score a string": (_set("final_score", str), "final_score='"),
    "final_score NaN": (_set("final_score", math.nan), "final_score=nan disagrees with 1.0"),
    "wall_time NaN": (_set("wall_time", math.nan), "wall_time=nan must be finite"),
    "curve step NaN": (_set_item("curve.steps", 3, math.nan), "curve.steps[3]=nan must be finite"),
    "curve score edited": (_set_item("curve.score", 3, 0.5), "curve.score[3]=0.5 disagrees"),
    "curve point dropped": (lambda r: r["curve"]["return"].pop(), "curve.return has 19 points"),
    "auc_score edited": (_set("auc_score", lambda v: v - 0.01), "auc_score="),
    "final_return edited": (_set("final_return", lambda v: v - 0.5), "final_score=1.0 disagrees"),
    "seed edited": (_set("seed", 1), "seed=1 disagrees with 0, the record's spec"),
    "seed a string": (_set("seed", "0"), "seed='0' disagrees with 0"),
    "spec seed edited": (_set("spec.seed", 1), "records run deepsea-6__tiny__s1, not the run of its folder"),
    "spec seed a string": (_set("spec.seed", "0"), "spec.seed='0' is not an integer"),
    "spec timesteps edited": (_set("spec.timesteps", 600), "timesteps=1200 disagrees with 600"),
    "solved flipped": (_set("solved", False), "steps_to_solve=600 disagrees with 1200"),
    "steps_to_solve edited": (_set("steps_to_solve", 1300), "solved at step 1300"),
    "steps_per_second edited": (_set("steps_per_second", 1.0), "steps_per_second=1.0 disagrees"),
    "evaluation without settings": (_set("eval_return", 1.0), "eval_return recorded"),
    "settings deleted": (_delete("settings"), "no 'settings'"),
    "pre-key record": (lambda r: [r.pop("settings"), r.pop("key")], "changed"),  # of no settings: not of these
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_a_record_that_contradicts_itself_is_not_reused(comparison: Any, tmp_path: Path, name: str) -> None:
    change, message = CORRUPTIONS[name]
    _, plan = comparison
    store = filled(compare.open_store(tmp_path), plan)
    spec = plan.specs[0]
    edit(store, spec, change)
    fresh = compare.open_store(tmp_path)
    if message == "changed":
        assert fresh.status(spec) == "changed" and not fresh.problems
        return
    assert fresh.status(spec) == "missing" and fresh.record(spec) is None
    (problem,) = fresh.problems
    assert problem.startswith(f"{store.result_path(spec)}: ") and problem.endswith("; the run is retrained")
    assert message in problem and "\n" not in problem, problem
    assert [r["seed"] for r in fresh.finished(plan.specs) if r["agent"] == spec.agent] == [1, 2]  # readers skip it


def test_a_corrupt_record_is_retrained_by_the_sweep(comparison: Any, tmp_path: Path) -> None:
    _, plan = comparison
    store = filled(compare.open_store(tmp_path), plan)
    spec = plan.specs[1]
    edit(store, spec, _set("final_score", "0.7"))
    summary = run_sweep(plan.specs, made_up_run, compare.open_store(tmp_path), workers=1, progress=False)
    assert summary.finished == [spec.run_id] and len(summary.skipped) == 5 and not summary.failed
    assert len(summary.problems) == 1 and "final_score='0.7' is not a number" in summary.problems[0]
    assert compare.open_store(tmp_path).status(spec) == "done"


def test_the_report_reads_only_sound_records_of_its_grid(comparison: Any, tmp_path: Path) -> None:
    """A deleted curve and a string final_score crashed every report; a pre-key record of a run outside the grid
    (no settings, no key) landed in results.csv."""
    config, plan = comparison
    config = dataclasses.replace(config, out=str(tmp_path))
    store = filled(compare.open_store(tmp_path), plan)
    by_id = {spec.run_id: spec for spec in plan.specs}
    edit(store, by_id["deepsea-6__tiny__s2"], _delete("curve"))
    edit(store, by_id["deepsea-6__tiny-floor__s2"], _set("final_score", "0.9"))
    outside = json.loads(store.result_path(by_id["deepsea-6__tiny__s1"]).read_text())
    for name in ("settings", "key"):
        del outside[name]
    outside["spec"]["seed"] = outside["seed"] = 7
    write_json_atomic(store.runs_dir / "deepsea-6__tiny__s7" / "result.json", outside)

    text = compare.build_report(config, plan, RunStore(tmp_path), "cmd")  # a store opened without the check
    table = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert sorted((r["agent"], r["seed"]) for r in table) == [(a, s) for a in ("tiny", "tiny-floor") for s in "01"]
    assert "4 of 6 runs finished (1 stored results of runs outside this grid ignored)" in text
    assert "no 'curve'" in text and "final_score='0.9' is not a number" in text  # named as corrupt files
    curves = list(csv.DictReader((tmp_path / "curves.csv").open()))
    assert len(curves) == 4 * 20 and {c["seed"] for c in curves} == {"0", "1"}
    assert "## Aggregate over 1 tasks" in text  # the statistics ran on the sound records


def test_tolerance_forgives_summation_order_only() -> None:
    agree("x", 0.1 + 0.2, 0.3)  # 4e-17 apart
    agree("x", 1e6 * (1 + RELATIVE_TOLERANCE / 2), 1e6)
    with pytest.raises(RecordError, match=r"x=1\.00001 disagrees with 1\.0,"):
        agree("x", 1.00001, 1.0)
    with pytest.raises(RecordError, match="disagrees"):
        agree("x", math.nan, 1.0)
    with pytest.raises(RecordError, match="disagrees"):
        agree("x", True, 1)  # a bool is not a count
    record = json.loads((RUN_RECORDS / "runs" / "switching-bandit__ppo__s0" / "result.json").read_text())
    check_run_record(record, normalized_score)
    # another score function is another record
    with pytest.raises(RecordError, match=r"curve\.score\[\d+\]=0\.\d+ disagrees with 0\.0,"):
        check_run_record(record, lambda r, low, high: 0.0)


# ------------------------------------------------------------------------------------------ presets edited
def test_a_presets_file_edited_while_the_sweep_runs_changes_nothing_it_trains(tmp_path: Path) -> None:
    """The driver reads the presets once and ships each run's plan: an edit after planning is not trained, and
    the run is keyed by the settings it trained with."""
    presets = tmp_path / "presets.json"
    preset = {**PRESETS["tiny"], "policy_kwargs": {"min_prob": 0.05}}
    presets.write_text(json.dumps({"x": preset}))
    out, path = str(tmp_path / "out"), str(presets)
    config = compare.CompareConfig(["deepsea-6"], ["x"], seeds=1, timesteps=64, out=out, presets=path, metrics=False)
    plan = compare.validate(config)
    presets.write_text(json.dumps({"x": {**preset, "policy_kwargs": {"min_prob": 0.2}}}))  # edited meanwhile
    (spec,) = plan.specs
    store = compare.open_store(config.out)
    summary = run_sweep(plan.specs, run_spec, store, workers=1, progress=False)
    assert summary.finished == [spec.run_id], (summary, store.errors())
    trained = json.loads((store.run_dir(spec) / "config.json").read_text())
    assert trained["agent"]["policy_kwargs"] == {"min_prob": 0.05}  # what was planned, not the edit
    record = store.record(spec)
    assert record is not None and record["settings"]["agent"]["policy_kwargs"] == {"min_prob": 0.05}
    assert record["key"] == spec.key and not store.problems  # a real record passes its check
    (edited,) = compare.validate(config).specs
    assert edited.key != spec.key and store.status(edited) == "changed"  # the next sweep retrains it


# ------------------------------------------------------------------------------------------ scaling records
def scaling_specs(root: Path) -> list[RunSpec]:
    """The runs of the scaling fixtures, with the settings they were keyed by."""
    specs = []
    for path in sorted(root.glob("runs/*/result.json")):
        record = json.loads(path.read_text())
        specs.append(RunSpec.from_dict(record["spec"]).with_settings(record["settings"]))
    return specs


def scaling_copy(tmp_path: Path) -> tuple[RunStore, list[RunSpec]]:
    for path in SCALING_RECORDS.glob("runs/*/result.json"):
        target = tmp_path / "runs" / path.parent.name / "result.json"
        target.parent.mkdir(parents=True)
        target.write_text(path.read_text())
    return scaling.open_store(tmp_path), scaling_specs(tmp_path)


def test_scaling_fixtures_are_sound_and_read_by_the_report(tmp_path: Path) -> None:
    store, specs = scaling_copy(tmp_path)
    assert [store.status(spec) for spec in specs] == ["done", "done"]
    rows = scaling.finished_rows(store, specs)
    assert [(r.size, r.solved_episode, r.episodes) for r in rows] == [(4, 7, 7), (6, None, 163)]


SCALING_CORRUPTIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    # edits of the deepsea-4 record: flags "1111110", solved at episode 7
    "solved_episode edited": (_set("solved_episode", 5), "solved_episode=5 disagrees with 7"),
    "solved_episode removed": (_set("solved_episode", None), "solved_episode=None disagrees with 7"),
    "a flag flipped": (_set("bad_flags", "1111111"), "solved_episode=7 disagrees with None"),
    "flags truncated": (_set("bad_flags", "111111"), "episodes=7 disagrees with 6"),
    "flags not 0/1": (_set("bad_flags", "111111x"), "bad_flags must be one 0/1 character per episode"),
    "flags a list": (_set("bad_flags", [1, 1, 1, 1, 1, 1, 0]), "bad_flags=[1, 1"),
    "total edited": (_set("total_bad_episodes", 5), "total_bad_episodes=5 disagrees with 6"),
    "beat_dithering flipped": (_set("beat_dithering", False), "beat_dithering=False disagrees with True"),
    "logged counts edited": (lambda r: r["bad_counts_logged"].pop(), "bad_counts_logged="),
    "size edited": (_set("size", 5), "size=5 disagrees with 4"),
    "horizon edited": (_set("horizon", 100), "horizon=100 disagrees with 10000"),
    "trained_steps edited": (_set("trained_steps", 40), "steps_per_second="),
    "seed edited": (_set("seed", 3), "seed=3 disagrees with 0"),
}


@pytest.mark.parametrize("name", sorted(SCALING_CORRUPTIONS))
def test_an_edited_scaling_record_is_not_reported(tmp_path: Path, name: str) -> None:
    """Edited per-episode flags changed bsuite's score while the solve table disagreed; an edited solve episode
    was reported as the truth."""
    change, message = SCALING_CORRUPTIONS[name]
    store, specs = scaling_copy(tmp_path)
    target = next(s for s in specs if s.env == "deepsea-4")
    edit(store, target, change)
    rows = scaling.finished_rows(RunStore(tmp_path), specs)  # the reader checks, however the store was opened
    assert [r.size for r in rows] == [6]
    fresh = scaling.open_store(tmp_path)
    assert fresh.status(target) == "missing"
    (problem,) = fresh.problems
    assert message in problem and problem.endswith("; the run is retrained"), problem


def test_scaling_report_ignores_runs_outside_its_grid(tmp_path: Path) -> None:
    store, specs = scaling_copy(tmp_path)
    pre_key = json.loads(store.result_path(specs[0]).read_text())
    for name in ("settings", "key"):
        del pre_key[name]
    pre_key["spec"]["seed"] = pre_key["seed"] = 5
    write_json_atomic(store.runs_dir / "deepsea-4__ppo__s5" / "result.json", pre_key)
    config = scaling.ScalingConfig(agents=["ppo"], sizes=[4, 6], seeds=2, out=str(tmp_path))
    text = scaling.write_outputs(config, store, specs, "cmd")
    table = list(csv.DictReader((tmp_path / "scaling.csv").open()))
    assert [(r["size"], r["seed"]) for r in table] == [("4", "0"), ("6", "1")]
    assert "2 of 4 runs finished (1 stored results of runs outside this grid ignored)" in text


def test_scaling_check_needs_the_protocol_options() -> None:
    record = json.loads(next(SCALING_RECORDS.glob("runs/deepsea-4*/result.json")).read_text())
    broken = copy.deepcopy(record)
    broken["spec"]["options"]["horizon"] = "forever"
    with pytest.raises(RecordError, match="horizon='forever' is not one of"):
        scaling.check_scaling_record(broken)
    broken = copy.deepcopy(record)
    del broken["spec"]["options"]["max_episodes"]
    with pytest.raises(RecordError, match="max_episodes=None must be an integer"):
        scaling.check_scaling_record(broken)
