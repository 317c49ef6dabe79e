"""Steps to solve (issue 18, item 3): the definition, censoring, and the report of stored results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rlfloor.experiment import report
from rlfloor.experiment.solve import SOLVE_THRESHOLD, SOLVE_WINDOW, solve_fields, steps_to_solve


def episodes(returns: list[float], length: int = 10) -> list[tuple[int, float]]:
    """Episodes of ``length`` steps each, ending one after the other."""
    return [(length * (i + 1), r) for i, r in enumerate(returns)]


def test_solved_at_the_end_of_the_episode_that_lifts_the_window_mean_to_the_threshold() -> None:
    assert (SOLVE_WINDOW, SOLVE_THRESHOLD) == (100, 0.9)
    # random 0, optimal 1: 50 failures then successes; the window of the last 100 reaches 0.9 once it holds
    # at most 10 failures, i.e. at the 140th episode (episodes 41..140: 10 failures, 90 successes)
    log = episodes([0.0] * 50 + [1.0] * 200)
    assert steps_to_solve(log, 0.0, 1.0, budget=10_000) == (1400, True)
    # normalization uses the references: random 10, optimal 20, returns of 19 score 0.9 exactly
    assert steps_to_solve(episodes([19.0] * 100), 10.0, 20.0, budget=5_000) == (1000, True)
    assert steps_to_solve(episodes([18.9] * 300), 10.0, 20.0, budget=5_000) == (5_000, False)


def test_unsolved_and_short_runs_are_censored_at_the_budget() -> None:
    assert steps_to_solve(episodes([1.0] * 99), 0.0, 1.0, budget=777) == (777, False)  # fewer than 100 episodes
    assert steps_to_solve([], 0.0, 1.0, budget=10) == (10, False)
    assert steps_to_solve(episodes([0.5] * 500), 0.0, 1.0, budget=10_000) == (10_000, False)
    assert steps_to_solve(episodes([1.0] * 10), 0.0, 1.0, budget=100, window=5) == (50, True)


def test_no_steps_to_solve_without_both_references_and_bad_arguments_refused() -> None:
    assert steps_to_solve(episodes([1.0] * 200), None, 1.0, budget=10) is None
    assert steps_to_solve(episodes([1.0] * 200), 0.0, None, budget=10) is None
    with pytest.raises(ValueError, match="must exceed the random one"):
        steps_to_solve(episodes([1.0]), 1.0, 1.0, budget=10)
    with pytest.raises(ValueError, match="threshold"):
        steps_to_solve([], 0.0, 1.0, budget=10, threshold=1.5)
    with pytest.raises(ValueError, match="window"):
        steps_to_solve([], 0.0, 1.0, budget=10, window=0)

    class Env:
        random_return, optimal_return = 0.0, 1.0

    log = [(end, ret, 10) for end, ret in episodes([1.0] * 100)]
    assert solve_fields(log, Env(), 5_000) == {"steps_to_solve": 1000, "solved": True}
    Env.optimal_return = None  # type: ignore[assignment]
    assert solve_fields(log, Env(), 5_000) == {"steps_to_solve": None, "solved": None}


def _row(env: str, agent: str, seed: int, steps: int | None, budget: int = 1000, **extra: Any) -> dict[str, Any]:
    row = {"env": env, "agent": agent, "seed": seed, "timesteps": budget, "final_score": 0.5, "auc_score": 0.3}
    if steps is not None:  # results stored before steps to solve existed have neither field
        row.update(steps_to_solve=steps, solved=steps < budget)
    return {**row, **extra}


def test_report_states_censoring_and_says_na_for_records_without_steps(tmp_path: Path) -> None:
    pytest.importorskip("rliable")
    rows = [_row("easy", "ppo", s, v) for s, v in enumerate([400, 500, 1000, 1000])]
    rows += [_row("easy", "ppo-x", s, v) for s, v in enumerate([200, 250, 300, 1000])]
    rows += [_row("old", agent, s, None) for agent in ("ppo", "ppo-x") for s in range(4)]
    lines, figure = report.steps_to_solve_report(
        rows, ["ppo", "ppo-x"], ["easy", "old"], [("ppo-x", "ppo")], reps=300, figure=tmp_path / "steps.png"
    )
    text = "\n".join(lines)
    assert "| easy | `ppo` | 0.500 [0.500, 0.500] | 0.300 [0.300, 0.300] | 2/4 | 750 [" in text
    assert "| easy | `ppo-x` |" in text and "| 3/4 | 275 [" in text
    assert "1k+" in text  # the upper CI bound of stock's median is censored at the budget
    assert "| old | `ppo` | 0.500 [0.500, 0.500] | 0.300 [0.300, 0.300] | n/a | n/a | n/a |" in text
    # paired: ppo-x minus ppo in fractions of the budget, seeds 0..3: -0.2, -0.25, -0.7, 0 (tie: both censored)
    paired = [line for line in text.splitlines() if line.startswith("| `ppo-x` | `ppo` | easy")]
    assert len(paired) == 1 and "| -0.28" in paired[0] and paired[0].endswith("| 3 / 1 / 0 |"), paired
    assert figure == tmp_path / "steps.png" and figure.stat().st_size > 1000


def test_report_without_any_steps_draws_nothing() -> None:
    pytest.importorskip("rliable")
    rows = [_row("old", a, s, None) for a in ("ppo", "ppo-x") for s in range(3)]
    lines, figure = report.steps_to_solve_report(rows, ["ppo", "ppo-x"], ["old"], [("ppo-x", "ppo")], reps=100)
    assert figure is None and "paired" not in "\n".join(lines)
    assert report.steps_to_solve_report(rows, ["ppo"], [], [], reps=100) == ([], None)
    assert report.steps_to_solve_report(rows[:1], ["ppo", "ppo-x"], ["old"], [], reps=100) == ([], None)


def test_per_task_intervals_are_medians_and_iqms_of_each_column() -> None:
    pytest.importorskip("rliable")
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [100.0, 40.0]])
    (first, second) = report.per_task_intervals({"m": x}, reps=200)["m"]
    assert first["median"].value == 2.5 and second["median"].value == 25.0
    assert first["iqm"].value == pytest.approx(2.5) and second["iqm"].value == pytest.approx(25.0)
    assert first["median"].low >= 1.0 and first["median"].high <= 100.0


def test_format_steps_marks_the_budget() -> None:
    assert report.format_steps(450, 1000) == "450"
    assert report.format_steps(45_000, 1_000_000) == "45k"
    assert report.format_steps(1_000_000, 1_000_000) == "1M+"
    assert report.format_steps(1_250_000, 3_000_000) == "1.25M"
