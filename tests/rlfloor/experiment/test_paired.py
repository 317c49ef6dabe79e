"""Paired per-seed statistics (issue 20, item 3) against inputs whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from rlfloor.experiment import report

pytest.importorskip("rliable")


def test_identical_agents_tie_on_every_seed_with_a_zero_interval() -> None:
    y = np.random.default_rng(1).uniform(size=(10, 3))
    per_task, pooled = report.paired_statistics(y, y.copy(), reps=300)
    for stat in [*per_task, pooled]:
        assert (stat.mean.value, stat.mean.low, stat.mean.high) == (0.0, 0.0, 0.0)
        assert (stat.median.value, stat.median.low, stat.median.high) == (0.0, 0.0, 0.0)
        assert stat.improved == stat.worse == 0
    assert [s.tied for s in per_task] == [10, 10, 10] and pooled.tied == 30


def test_a_shifted_agent_improves_every_seed() -> None:
    y = np.random.default_rng(2).uniform(size=(8, 2))
    per_task, pooled = report.paired_statistics(y + 0.1, y, reps=300)
    assert all(s.counts == "8 / 0 / 0" for s in per_task) and pooled.counts == "16 / 0 / 0"
    assert pooled.mean.value == pytest.approx(0.1) and pooled.mean.low == pytest.approx(0.1)
    # the same shift is a cost when lower is better (steps to solve)
    _, slower = report.paired_statistics(y + 0.1, y, higher_is_better=False, reps=300)
    assert slower.counts == "0 / 0 / 16"


def test_tolerance_splits_improved_tied_worse() -> None:
    y = np.zeros((5, 1))
    x = np.array([[0.02], [0.01], [0.0], [-0.01], [-0.5]])
    (stat,), _ = report.paired_statistics(x, y, tolerance=0.01, reps=200)
    assert (stat.improved, stat.tied, stat.worse) == (1, 3, 1)


def test_interval_contains_the_true_mean_and_excludes_zero_for_a_clear_effect() -> None:
    rng = np.random.default_rng(3)
    y = rng.uniform(size=(40, 2))
    x = y + rng.normal(0.3, 0.2, size=(40, 2))  # true mean difference 0.3 on both tasks
    per_task, pooled = report.paired_statistics(x, y, reps=1000)
    for stat in [*per_task, pooled]:
        assert stat.mean.low < 0.3 < stat.mean.high
        assert stat.mean.low > 0.0
        assert stat.mean.high - stat.mean.low < 0.3  # 40 seeds: a CI of about +-2 SE = +-0.06
    # the pooled interval is narrower than either task's (twice the runs)
    assert pooled.mean.high - pooled.mean.low < min(s.mean.high - s.mean.low for s in per_task)


def test_paired_statistics_reproducible_and_checked() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.uniform(size=(6, 2)), rng.uniform(size=(6, 2))
    assert report.paired_statistics(x, y, reps=200) == report.paired_statistics(x, y, reps=200)
    with pytest.raises(ValueError, match="one shape"):
        report.paired_statistics(x, y[:5])
    with pytest.raises(ValueError, match="finite"):
        report.paired_statistics(np.full((2, 1), np.nan), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="tolerance"):
        report.paired_statistics(x, y, tolerance=-0.1)


def _rows(agent: str, values: dict[str, list[float]], seeds: list[int] | None = None) -> list[dict[str, object]]:
    return [
        {"env": env, "agent": agent, "seed": seed, "final_score": value}
        for env, column in values.items()
        for seed, value in zip(seeds or range(len(column)), column, strict=True)
    ]


def test_paired_table_pairs_only_agents_that_share_seeds() -> None:
    rows = _rows("stock", {"a": [0.1, 0.2, 0.3], "b": [0.5, 0.5, 0.5]})
    rows += _rows("floor", {"a": [0.6, 0.2, 0.3], "b": [0.5, 0.5, 0.4]})
    rows += _rows("other", {"a": [0.1, 0.2, 0.3], "b": [0.5, 0.5, 0.5]}, seeds=[0, 1, 5])
    assert report.shared_seed_pairs(rows, [("floor", "stock"), ("other", "stock")], ["a", "b"]) == [("floor", "stock")]
    table = report.paired_table(rows, "final_score", [("floor", "stock"), ("other", "stock")], ["a", "b"], reps=200)
    assert table is not None
    lines = table.splitlines()
    assert len(lines) == 2 + 3  # header, rule, tasks a and b, all tasks
    assert "| `floor` | `stock` | a | 0.167" in lines[2] and lines[2].endswith("| 1 / 2 / 0 |")
    assert lines[3].endswith("| 0 / 2 / 1 |") and "all 2 tasks" in lines[4] and lines[4].endswith("| 1 / 4 / 1 |")
    assert report.paired_table(rows, "final_score", [("other", "stock")], ["a", "b"]) is None
