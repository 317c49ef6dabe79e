"""Statistics and figures for a comparison, following rliable's protocol.

Small pure functions over score arrays shaped ``(runs, tasks)`` (one array per
method); rliable does the statistics (IQM, stratified bootstrap confidence intervals,
probability of improvement, performance profiles) and its plotting helpers draw the
figures. Needs the optional ``report`` extra (rliable, matplotlib, pandas).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlfloor.experiment.store import atomic_path

ScoreDict = dict[str, np.ndarray]

# rliable hands arch a RandomState (for reproducible bootstraps); arch 7 warns that it prefers a Generator.
warnings.filterwarnings("ignore", message="random_state is deprecated", category=FutureWarning)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def score_matrices(
    rows: Sequence[Mapping[str, Any]], metric: str, agents: Sequence[str], envs: Sequence[str]
) -> tuple[ScoreDict, list[str]]:
    """Arrange per-run results into rliable's ``{agent: (runs, tasks)}`` arrays.

    Tasks are kept only when every agent has the same number (>= 1) of finished runs on
    them, so the arrays are rectangular; the runs of each (agent, task) are ordered by seed.

    :param rows: per-run records with keys ``env``, ``agent``, ``seed`` and ``metric``.
    :return: the score dict and the list of tasks (columns) kept.
    """
    by_cell: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in rows:
        by_cell.setdefault((row["agent"], row["env"]), []).append((int(row["seed"]), float(row[metric])))
    tasks = []
    for env in envs:
        counts = {len(by_cell.get((agent, env), [])) for agent in agents}
        if len(counts) == 1 and counts != {0}:
            tasks.append(env)
    scores = {}
    for agent in agents:
        columns = [[value for _, value in sorted(by_cell[(agent, env)])] for env in tasks]
        scores[agent] = np.asarray(columns, dtype=float).T.reshape(-1, len(tasks))
    return scores, tasks


@contextlib.contextmanager
def _seeded_global_numpy(seed: int) -> Iterator[np.random.RandomState]:
    """Seed numpy's global RNG for the duration of a bootstrap, then restore it.

    rliable 1.2's ``StratifiedBootstrap`` draws its resampling indices from the global
    ``np.random`` and ignores the ``random_state`` it is given; without this, the
    confidence intervals would change from run to run.
    """
    saved = np.random.get_state()  # noqa: NPY002  (rliable reads the legacy global RNG)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield np.random.RandomState(seed)
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def aggregate_intervals(scores: ScoreDict, reps: int = 2000, seed: int = 0) -> dict[str, dict[str, Interval]]:
    """IQM, mean and median across all runs and tasks, with 95% stratified bootstrap CIs.

    :param scores: ``{method: (runs, tasks)}`` normalized scores.
    :param reps: bootstrap resamples.
    :param seed: seed of the bootstrap's random state (results are reproducible).
    """
    from rliable import library as rly
    from rliable import metrics

    def aggregate(x: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(x), metrics.aggregate_mean(x), metrics.aggregate_median(x)])

    with _seeded_global_numpy(seed) as random_state:
        points, cis = rly.get_interval_estimates(scores, aggregate, reps=reps, random_state=random_state)
    names = ("iqm", "mean", "median")
    return {
        method: {
            name: Interval(float(points[method][i]), float(cis[method][0, i]), float(cis[method][1, i]))
            for i, name in enumerate(names)
        }
        for method in scores
    }


def improvement_probabilities(
    scores: ScoreDict, pairs: Sequence[tuple[str, str]], reps: int = 2000, seed: int = 0
) -> dict[tuple[str, str], Interval]:
    """P(X > Y) for each ``(X, Y)`` pair, with 95% stratified bootstrap CIs (rliable)."""
    from rliable import library as rly
    from rliable import metrics

    if not pairs:
        return {}
    pair_scores = {f"{x},{y}": (scores[x], scores[y]) for x, y in pairs}
    with _seeded_global_numpy(seed) as random_state:
        points, cis = rly.get_interval_estimates(
            pair_scores, metrics.probability_of_improvement, reps=reps, random_state=random_state
        )
    out = {}
    for x, y in pairs:
        low, high = np.ravel(cis[f"{x},{y}"])
        out[(x, y)] = Interval(float(np.ravel(points[f"{x},{y}"])[0]), float(low), float(high))
    return out


def per_task_means(scores: ScoreDict, tasks: Sequence[str]) -> dict[str, dict[str, float]]:
    """Mean score over runs for each method and task."""
    return {method: dict(zip(tasks, array.mean(axis=0).tolist(), strict=True)) for method, array in scores.items()}


def curve_intervals(
    curves: Mapping[str, np.ndarray], reps: int = 500, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """IQM over runs and tasks at each point of a learning curve, with bootstrap CIs.

    :param curves: ``{method: (runs, tasks, points)}`` normalized scores.
    :return: ``(points, cis)``: ``points[m]`` has shape ``(points,)``, ``cis[m]`` ``(2, points)``.
    """
    from rliable import library as rly
    from rliable import metrics

    def iqm_per_point(x: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(x[..., i]) for i in range(x.shape[-1])])

    with _seeded_global_numpy(seed) as random_state:
        return rly.get_interval_estimates(dict(curves), iqm_per_point, reps=reps, random_state=random_state)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def method_colors(methods: Sequence[str]) -> dict[str, Any]:
    """One colour per method: matplotlib's ``tab10`` for up to 10 methods, ``tab20`` (cycled) beyond."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    palette = plt.get_cmap("tab10" if len(methods) <= 10 else "tab20")
    return {method: palette(i % palette.N) for i, method in enumerate(methods)}


def save_figures(
    scores: ScoreDict,
    curves: Mapping[str, np.ndarray] | None,
    curve_steps: np.ndarray | None,
    out_dir: Path,
    intervals: Mapping[str, Mapping[str, Interval]],
    reps: int = 500,
) -> list[Path]:
    """Write the three standard figures as PNG; returns their paths.

    * ``interval_estimates.png``: IQM / mean / median with 95% CIs per method;
    * ``performance_profiles.png``: fraction of runs above each score threshold, with CIs;
    * ``sample_efficiency.png``: IQM score over training steps with CI bands (when curves are given).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rliable import library as rly
    from rliable import plot_utils

    out_dir.mkdir(parents=True, exist_ok=True)
    methods = list(scores)
    colors = method_colors(methods)
    paths = []

    names = ("iqm", "mean", "median")
    points = {m: np.array([intervals[m][n].value for n in names]) for m in methods}
    cis = {m: np.array([[intervals[m][n].low for n in names], [intervals[m][n].high for n in names]]) for m in methods}
    fig, _ = plot_utils.plot_interval_estimates(
        points, cis, metric_names=["IQM", "Mean", "Median"], algorithms=methods, xlabel="Normalized score"
    )
    paths.append(_save(fig, out_dir / "interval_estimates.png"))

    thresholds = np.linspace(0.0, 1.0, 41)
    with _seeded_global_numpy(0):
        profiles, profile_cis = rly.create_performance_profile(scores, thresholds, reps=reps)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_utils.plot_performance_profiles(
        profiles,
        thresholds,
        performance_profile_cis=profile_cis,
        colors=colors,
        xlabel=r"Normalized score $(\tau)$",
        ax=ax,
    )
    ax.legend(loc="lower left", fontsize="small")  # labels set by rliable, one per method
    paths.append(_save(fig, out_dir / "performance_profiles.png"))

    if curves is not None and curve_steps is not None:
        curve_points, curve_cis = curve_intervals(curves, reps=reps)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        plot_utils.plot_sample_efficiency_curve(
            curve_steps,
            curve_points,
            curve_cis,
            algorithms=methods,
            colors=colors,
            xlabel="Fraction of training budget",
            ylabel="IQM normalized score",
            ax=ax,
        )
        ax.legend(loc="upper left", fontsize="small")
        paths.append(_save(fig, out_dir / "sample_efficiency.png"))
    return paths


def save_task_curves(
    curves: Mapping[str, Mapping[str, np.ndarray]],
    steps: Mapping[str, np.ndarray],
    path: Path,
    ylabels: Mapping[str, str],
    reps: int = 500,
) -> Path:
    """One panel per task: each method's IQM over runs at every curve point, with 95% bootstrap CI bands.

    :param curves: ``{task: {method: (runs, points)}}`` (normalized scores, or raw returns).
    :param steps: ``{task: (points,)}`` environment steps of the curve points.
    :param ylabels: ``{task: label}`` saying what is drawn (normalized score or raw return).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(curves)
    columns = min(3, max(1, len(tasks)))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.4 * rows), squeeze=False)
    methods = sorted({m for per_task in curves.values() for m in per_task})
    colors = method_colors(methods)
    handles: dict[str, Any] = {}
    for ax, task in zip(axes.flat, tasks, strict=False):
        per_method = {m: np.asarray(c, dtype=float)[:, None, :] for m, c in curves[task].items()}
        points, cis = curve_intervals(per_method, reps=reps)
        for method in per_method:
            (handles[method],) = ax.plot(steps[task], points[method], color=colors[method], label=method)
            ax.fill_between(steps[task], cis[method][0], cis[method][1], color=colors[method], alpha=0.2)
        ax.set_title(task, fontsize="medium")
        ax.set_xlabel("env steps")
        ax.set_ylabel(ylabels.get(task, "score"))
    for ax in list(axes.flat)[len(tasks) :]:
        ax.set_visible(False)
    # One legend for the figure: tasks may be run by different groups of methods (masked envs).
    fig.legend([handles[m] for m in methods], methods, loc="lower center", ncol=min(6, len(methods)), fontsize="small")
    fig.tight_layout(rect=(0, 0.04 * (1 + (len(methods) - 1) // 6), 1, 1))
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
