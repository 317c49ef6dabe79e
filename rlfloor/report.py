"""Deprecated location: the report helpers moved to :mod:`rlfloor.experiment.report` (re-exported here)."""

from rlfloor.experiment.report import (
    Interval,
    ScoreDict,
    aggregate_intervals,
    curve_intervals,
    improvement_probabilities,
    markdown_table,
    per_task_means,
    save_figures,
    save_task_curves,
    score_matrices,
)

__all__ = [
    "Interval",
    "ScoreDict",
    "aggregate_intervals",
    "curve_intervals",
    "improvement_probabilities",
    "markdown_table",
    "per_task_means",
    "save_figures",
    "save_task_curves",
    "score_matrices",
]
