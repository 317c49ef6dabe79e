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

from rlfloor.checks import check_int
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
        # (tasks, runs) -> (runs, tasks); no task kept gives (0, 0), not a reshape of nothing
        scores[agent] = np.asarray(columns, dtype=float).T if tasks else np.empty((0, 0))
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


# --- Paired per-seed statistics and steps to solve (issues 18 and 20) ---------------------------------------------

TIE_TOLERANCE = 0.01
"""Half-width of a tie: 1% of the normalized score range [random, optimal] (or of the budget, for steps to solve).
Issue 20's bar for the stationary probes is "no seed worse than stock by more than 1%"."""

PAIRED_NOTE = (
    "Final score of each seed minus its baseline's on the same seed (same env randomness and initial weights), "
    "mean and median with 95% percentile bootstrap CIs (seeds resampled within tasks); tie: within 0.01 "
    "(1% of the [random, optimal] range)."
)


@dataclass(frozen=True)
class PairedDifference:
    """Per-seed differences ``method - baseline`` on one task, or pooled over tasks.

    ``mean`` and ``median`` carry 95% percentile bootstrap CIs (seeds resampled within each task, as rliable's
    stratified bootstrap does); ``improved``/``tied``/``worse`` count the seeds whose difference is beyond the
    tolerance in the better direction, within it, or beyond it in the worse direction.
    """

    mean: Interval
    median: Interval
    improved: int
    tied: int
    worse: int

    @property
    def counts(self) -> str:
        """``improved / tied / worse``."""
        return f"{self.improved} / {self.tied} / {self.worse}"


def paired_statistics(
    x: np.ndarray,
    y: np.ndarray,
    tolerance: float = TIE_TOLERANCE,
    higher_is_better: bool = True,
    reps: int = 2000,
    seed: int = 0,
) -> tuple[list[PairedDifference], PairedDifference]:
    """Paired differences ``x - y`` of two methods that share seeds, per task and pooled over tasks.

    Row ``i`` of ``x`` and of ``y`` must be the same seed (same env randomness and initial weights), as
    :func:`score_matrices` arranges them when both methods ran the same seeds.

    :param x: ``(runs, tasks)`` scores of the method.
    :param y: ``(runs, tasks)`` scores of its baseline, same seeds in the same rows.
    :param tolerance: ``|x - y| <= tolerance`` is a tie.
    :param higher_is_better: False for costs such as steps to solve (then a negative difference is an improvement).
    :param reps: bootstrap resamples; ``seed``: seed of the bootstrap (results are reproducible).
    :return: one :class:`PairedDifference` per task (columns), and the pooled one (mean and median over every
        run of every task; counts summed).
    """
    from rliable import library as rly

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 2 or x.size == 0:
        raise ValueError(f"paired scores must be non-empty (runs, tasks) arrays of one shape, got {x.shape}, {y.shape}")
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        raise ValueError("paired scores must be finite (NaN or inf found)")
    if not tolerance >= 0:
        raise ValueError(f"tolerance={tolerance!r} must be >= 0")
    check_int("reps", reps, 1)
    diff = x - y
    tasks = diff.shape[1]

    def statistics(d: np.ndarray) -> np.ndarray:
        return np.concatenate([d.mean(axis=0), np.median(d, axis=0), [d.mean(), np.median(d)]])

    with _seeded_global_numpy(seed) as random_state:
        points, cis = rly.get_interval_estimates({"d": diff}, statistics, reps=reps, random_state=random_state)
    point, ci = points["d"], cis["d"]

    def interval(i: int) -> Interval:
        return Interval(float(point[i]), float(ci[0, i]), float(ci[1, i]))

    gain = diff if higher_is_better else -diff
    improved, worse = (gain > tolerance).sum(axis=0), (gain < -tolerance).sum(axis=0)
    tied = diff.shape[0] - improved - worse
    per_task = [
        PairedDifference(interval(t), interval(tasks + t), int(improved[t]), int(tied[t]), int(worse[t]))
        for t in range(tasks)
    ]
    pooled = PairedDifference(
        interval(2 * tasks), interval(2 * tasks + 1), int(improved.sum()), int(tied.sum()), int(worse.sum())
    )
    return per_task, pooled


def shared_seed_pairs(
    rows: Sequence[Mapping[str, Any]], pairs: Sequence[tuple[str, str]], tasks: Sequence[str]
) -> list[tuple[str, str]]:
    """The ``(method, baseline)`` pairs that ran exactly the same seeds on every task (so they can be paired)."""
    seeds: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        seeds.setdefault((row["agent"], row["env"]), []).append(int(row["seed"]))
    return [
        (x, y)
        for x, y in pairs
        if all(sorted(seeds.get((x, t), [])) == sorted(seeds.get((y, t), [])) != [] for t in tasks)
    ]


def paired_table(
    rows: Sequence[Mapping[str, Any]],
    metric: str,
    pairs: Sequence[tuple[str, str]],
    tasks: Sequence[str],
    tolerance: float = TIE_TOLERANCE,
    higher_is_better: bool = True,
    reps: int = 2000,
) -> str | None:
    """Markdown table of :func:`paired_statistics` of ``metric`` for each pair: one row per task, then all tasks.

    Pairs that did not run the same seeds on every task are left out; ``None`` when none is left.
    """
    paired = shared_seed_pairs(rows, pairs, tasks)
    if not paired or not tasks:
        return None
    table = []
    for x, y in paired:
        scores, kept = score_matrices(rows, metric, [x, y], tasks)
        if list(kept) != list(tasks):
            continue
        per_task, pooled = paired_statistics(scores[x], scores[y], tolerance, higher_is_better, reps)
        named = [*zip(tasks, per_task, strict=True), (f"all {len(tasks)} tasks", pooled)]
        for task, stat in named:
            table.append([f"`{x}`", f"`{y}`", task, stat.mean, stat.median, stat.counts])
    if not table:
        return None
    counts = "improved / tied / worse" if higher_is_better else "faster / tied / slower"
    header = ["agent", "over", "task", "mean diff [95% CI]", "median diff [95% CI]", counts]
    return markdown_table(header, table)


def solve_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows that record steps to solve, with ``solve_fraction`` (steps / budget) and ``solved`` as 0/1 added.

    Results written before steps to solve existed have no such field; their runs' learning curves are bin means,
    not the 100-episode windows the definition needs, so they are left out (reported as n/a), not guessed.
    """
    out = []
    for row in rows:
        steps, solved, budget = row.get("steps_to_solve"), row.get("solved"), row.get("timesteps")
        if isinstance(steps, int | float) and isinstance(solved, bool) and isinstance(budget, int) and budget > 0:
            out.append({**row, "solve_fraction": float(steps) / budget, "solved_flag": float(solved)})
    return out


def per_task_intervals(scores: ScoreDict, reps: int = 2000, seed: int = 0) -> dict[str, list[dict[str, Interval]]]:
    """Median and IQM over the runs of each task separately, with 95% stratified bootstrap CIs.

    :param scores: ``{method: (runs, tasks)}``.
    :return: ``{method: [{"median": ..., "iqm": ...} per task]}``.
    """
    from rliable import library as rly
    from scipy import stats

    def statistics(x: np.ndarray) -> np.ndarray:
        return np.concatenate([np.median(x, axis=0), stats.trim_mean(x, 0.25, axis=0)])

    with _seeded_global_numpy(seed) as random_state:
        points, cis = rly.get_interval_estimates(dict(scores), statistics, reps=reps, random_state=random_state)
    out = {}
    for method, array in scores.items():
        tasks = array.shape[1]
        out[method] = [
            {
                name: Interval(float(points[method][i]), float(cis[method][0, i]), float(cis[method][1, i]))
                for name, i in (("median", t), ("iqm", tasks + t))
            }
            for t in range(tasks)
        ]
    return out


def format_steps(steps: float, budget: float) -> str:
    """Steps in a short form (``45k``, ``1.2M``); ``+`` marks a value at the budget (censored: at least that)."""
    text = f"{steps / 1e6:.3g}M" if steps >= 1e6 else f"{steps / 1e3:.3g}k" if steps >= 1e3 else f"{steps:.0f}"
    return text + ("+" if steps >= budget else "")


def steps_to_solve_report(
    rows: Sequence[Mapping[str, Any]],
    agents: Sequence[str],
    tasks: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    reps: int = 2000,
    figure: Path | None = None,
) -> tuple[list[str], Path | None]:
    """Markdown per task: final score, AUC and steps to solve of each agent, with CIs; paired steps vs baselines.

    Steps to solve are censored at the budget (an unsolved run counts as the budget): the median and IQM
    are then lower bounds, marked ``+`` where they reach the budget, and the number solved is shown beside them.
    ``figure``: where to draw the per-task plot of steps to solve (:func:`save_steps_to_solve`).

    :param rows: per-run records (``final_score``, ``auc_score``, ``steps_to_solve``, ``solved``, ``timesteps``).
    :return: the Markdown lines and the figure's path (``None`` when nothing was drawn).
    """
    from rlfloor.experiment.solve import SOLVE_THRESHOLD, SOLVE_WINDOW

    if not tasks:
        return [], None
    finals, kept = score_matrices(rows, "final_score", agents, tasks)
    if not kept:  # no task where every agent has the same number of runs
        return [], None
    aucs, _ = score_matrices(rows, "auc_score", agents, kept)
    final_ci, auc_ci = per_task_intervals(finals, reps), per_task_intervals(aucs, reps)
    solvable = solve_rows([r for r in rows if r["env"] in kept])
    fractions, solve_tasks = score_matrices(solvable, "solve_fraction", agents, kept)
    solved, _ = score_matrices(solvable, "solved_flag", agents, solve_tasks)
    steps_ci = per_task_intervals(fractions, reps) if solve_tasks else {}
    budgets = {r["env"]: int(r["timesteps"]) for r in solvable}
    table = []
    for t, task in enumerate(kept):
        for agent in agents:
            cells = [task, f"`{agent}`", final_ci[agent][t]["iqm"], auc_ci[agent][t]["iqm"]]
            if task in solve_tasks:
                s, budget = solve_tasks.index(task), budgets[task]
                median, iqm = steps_ci[agent][s]["median"], steps_ci[agent][s]["iqm"]
                cells += [
                    f"{int(solved[agent][:, s].sum())}/{solved[agent].shape[0]}",
                    " ".join(
                        [
                            format_steps(median.value * budget, budget),
                            f"[{format_steps(median.low * budget, budget)},",
                            f"{format_steps(median.high * budget, budget)}]",
                        ]
                    ),
                    format_steps(iqm.value * budget, budget),
                ]
            else:
                cells += ["n/a", "n/a", "n/a"]
            table.append(cells)
    header = ["task", "agent", "final IQM [95% CI]", "AUC IQM [95% CI]", "solved", "median steps [95% CI]"]
    lines = [
        "### Per task: final score, AUC and steps to solve",
        "",
        f"Steps to solve: the first training step at which the mean normalized score of the last {SOLVE_WINDOW} "
        f"finished training episodes reaches {SOLVE_THRESHOLD}; an unsolved run counts as the budget (censored, `+`: "
        "at least this). n/a: runs recorded before steps to solve were stored.",
        "",
        markdown_table([*header, "IQM steps"], table),
        "",
    ]
    paired = paired_table(solvable, "solve_fraction", pairs, solve_tasks, higher_is_better=False, reps=reps)
    if paired is not None:
        lines += [
            "### Steps to solve: paired per-seed differences over the baseline",
            "",
            "Differences in fractions of the budget (negative: solved sooner); tie: within 1% of the budget. A run "
            "unsolved on one side makes its difference a bound (its steps are censored at the budget).",
            "",
            paired,
            "",
        ]
    path = None
    if figure is not None and solve_tasks:
        steps = {t: {a: fractions[a][:, i] * budgets[t] for a in agents} for i, t in enumerate(solve_tasks)}
        flags = {t: {a: solved[a][:, i] > 0.5 for a in agents} for i, t in enumerate(solve_tasks)}
        path = save_steps_to_solve(steps, flags, {t: budgets[t] for t in solve_tasks}, figure)
    return lines, path


def save_steps_to_solve(
    steps: Mapping[str, Mapping[str, np.ndarray]],
    solved: Mapping[str, Mapping[str, np.ndarray]],
    budgets: Mapping[str, int],
    path: Path,
) -> Path:
    """Steps to solve by task (x) and method (side by side), one dot per run, as bsuite's scaling plots draw them.

    Solved runs are filled dots, censored runs hollow triangles at the budget (dashed line per task); a bar marks
    each method's median. The y axis is logarithmic.

    :param steps: ``{task: {method: (runs,) steps}}`` (censored runs at the budget).
    :param solved: ``{task: {method: (runs,) bool}}``.
    :param budgets: ``{task: budget}``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(steps)
    methods = sorted({m for per_task in steps.values() for m in per_task})
    colors = method_colors(methods)
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.5 + len(tasks) * max(1.2, 0.4 * len(methods))), 4.5))
    for i, task in enumerate(tasks):
        ax.hlines(budgets[task], i - 0.45, i + 0.45, colors="grey", linestyles="dashed", linewidth=1)
        for j, method in enumerate(methods):
            if method not in steps[task]:
                continue
            values = np.asarray(steps[task][method], dtype=float)
            done = np.asarray(solved[task][method], dtype=bool)
            x = i - 0.4 + width * (j + 0.5)
            jitter = np.linspace(-0.3, 0.3, len(values)) * width if len(values) > 1 else np.zeros(1)
            color = colors[method]
            ax.scatter(x + jitter[done], values[done], s=18, color=color, zorder=3)
            ax.scatter(x + jitter[~done], values[~done], s=24, marker="^", facecolors="none", edgecolors=color)
            ax.hlines(np.median(values), x - width / 2, x + width / 2, colors=color, linewidth=2.5)
    ax.set_yscale("log")
    ax.set_xticks(range(len(tasks)), tasks, rotation=20, ha="right", fontsize="small")
    ax.set_ylabel("steps to solve (log)")
    ax.set_title("Steps to solve per run (bars: medians)", fontsize="medium")
    handles = [plt.Line2D([], [], color=colors[m], marker="o", linestyle="", label=m) for m in methods]
    handles.append(plt.Line2D([], [], color="grey", marker="^", markerfacecolor="none", linestyle="", label="unsolved"))
    handles.append(plt.Line2D([], [], color="grey", linestyle="dashed", label="budget"))
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path)
