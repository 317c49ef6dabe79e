"""Report statistics against hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlfloor.experiment import report

pytest.importorskip("rliable")


def test_score_matrices_are_rectangular_and_ordered_by_seed() -> None:
    rows = [
        {"env": "a", "agent": "x", "seed": 1, "s": 0.2},
        {"env": "a", "agent": "x", "seed": 0, "s": 0.1},
        {"env": "a", "agent": "y", "seed": 0, "s": 0.5},
        {"env": "a", "agent": "y", "seed": 1, "s": 0.6},
        {"env": "b", "agent": "x", "seed": 0, "s": 0.9},  # y has no run on b: b is dropped
    ]
    scores, tasks = report.score_matrices(rows, "s", ["x", "y"], ["a", "b"])
    assert tasks == ["a"]
    assert scores["x"].tolist() == [[0.1], [0.2]]
    assert scores["y"].shape == (2, 1)


def test_iqm_and_mean_match_hand_computation() -> None:
    x = np.array([[0.0, 0.9], [0.1, 0.8], [0.2, 0.7], [1.0, 0.3]])  # (runs=4, tasks=2)
    intervals = report.aggregate_intervals({"x": x}, reps=200)
    ordered = np.sort(x.ravel())  # 0, .1, .2, .3, .7, .8, .9, 1 -> middle half .2 .3 .7 .8
    assert intervals["x"]["iqm"].value == pytest.approx(ordered[2:6].mean())
    assert intervals["x"]["mean"].value == pytest.approx(x.mean())
    assert intervals["x"]["median"].value == pytest.approx(np.median(x))
    for interval in intervals["x"].values():
        assert interval.low <= interval.value <= interval.high
    # reproducible: same seed, same intervals
    assert report.aggregate_intervals({"x": x}, reps=200) == intervals


def test_probability_of_improvement_matches_hand_computation() -> None:
    x = np.array([[1.0, 0.5], [2.0, 0.5]])
    y = np.array([[0.0, 0.5], [1.0, 0.7]])
    # task 0: pairs (1>0) (1=1 -> .5) (2>0) (2>1) -> 3.5/4; task 1: (.5=.5 -> .5) (.5<.7) twice -> 1/4
    expected = (3.5 / 4 + 1 / 4) / 2
    result = report.improvement_probabilities({"x": x, "y": y}, [("x", "y")], reps=200)
    assert result[("x", "y")].value == pytest.approx(expected)
    assert result[("x", "y")].low <= expected <= result[("x", "y")].high


def test_markdown_table() -> None:
    table = report.markdown_table(["a", "b"], [[1, "x"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x |"]


def test_task_curves_draw_every_method_even_when_groups_run_different_tasks(tmp_path: Path) -> None:
    # 11 methods (more than one 10-colour cycle), and a masked task that only 3 of them run: the
    # published probe comparison's shape, which once failed with a KeyError on the 11th method.
    rng = np.random.default_rng(0)
    plain = [f"m{i}" for i in range(8)]
    masked = ["mask-a", "mask-b", "mask-c"]
    curves = {
        "task": {m: rng.random((3, 5)) for m in plain},
        "masked-task": {m: rng.random((3, 5)) for m in masked},
    }
    steps = {task: np.arange(1, 6) * 100 for task in curves}
    path = report.save_task_curves(curves, steps, tmp_path / "task_curves.png", {"task": "score"}, reps=20)
    assert path.stat().st_size > 0 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_aggregate_figures_with_more_methods_than_one_colour_cycle(tmp_path: Path) -> None:
    # 12 methods on one group of tasks (the intrinsic presets joined the probe comparison): the
    # aggregate figures once failed there with "zip() argument 2 is shorter than argument 1".
    rng = np.random.default_rng(1)
    methods = [f"m{i}" for i in range(12)]
    scores = {m: rng.random((4, 3)) for m in methods}
    intervals = report.aggregate_intervals(scores, reps=20)
    curves = {m: rng.random((4, 3, 5)) for m in methods}
    paths = report.save_figures(scores, curves, np.arange(1, 6) * 100, tmp_path, intervals, reps=20)
    assert len(paths) == 3 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    colors = report.method_colors(methods)
    assert len({tuple(c) for c in colors.values()}) == 12  # every method its own colour


def test_method_colors_keep_tab10_up_to_ten_methods() -> None:
    colors = report.method_colors(["a", "b", "c"])
    import matplotlib.pyplot as plt

    assert colors["b"] == plt.get_cmap("tab10")(1)
