"""Compare exploration methods: an env x agent x seed grid, with rliable statistics.

    python scripts/compare.py                                   # the default comparison (~10 min, 2 cores)
    python scripts/compare.py --envs deepsea-6 deceptive-chain --agents ppo ppo-floor --seeds 10

Runs go in parallel over CPU cores (``--backend ray`` runs them on a Ray cluster).
Every finished run is written atomically to ``{out}/runs/{env}__{agent}__s{seed}/``;
running the same command again resumes and skips finished runs; a crashing run is
recorded with its traceback (``error.json``) and the others go on. The output folder
then holds ``results.csv`` (one row per run), ``curves.csv`` (learning curves),
``report.md`` (IQM with 95% stratified bootstrap CIs, probability of improvement over
stock PPO/A2C, per-task means) and ``figures/*.png``.

The score of a run is its final normalized score: the mean return of its training
episodes in the last quarter of the budget, normalized per task to [random, optimal].
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ (for train.py), also in workers

from train import TrainConfig, check_compatible, train

from agents import get_agent, load_presets
from envs import suite
from rlfloor import report
from rlfloor.config import parse_config
from rlfloor.sweep import RunSpec, RunStore, grid, run_sweep

DEFAULT_ENVS = ["deepsea-6", "switching-bandit", "deceptive-chain", "symmetric-goals"]
# The default run takes half of each task's suite budget so that it fits in ~10 minutes on
# 2 cores; the bandit's switch (every 10k pulls) still happens once within its 20k steps.
DEFAULT_AGENTS = ["ppo", "ppo-floor", "a2c", "a2c-floor", "ppo-ent-adaptive"]
METRICS = ("final_score", "auc_score")


@dataclass
class CompareConfig:
    envs: list[str] = field(default_factory=lambda: list(DEFAULT_ENVS), metadata={"help": "suite names"})
    agents: list[str] = field(default_factory=lambda: list(DEFAULT_AGENTS), metadata={"help": "agent presets"})
    seeds: int = field(default=3, metadata={"help": "number of seeds per (env, agent): seeds 0..N-1"})
    timesteps: int | None = field(
        default=None, metadata={"help": "budget of every run in env steps; none = each task's suite budget"}
    )
    budget_scale: float = field(
        default=0.5, metadata={"help": "multiplies the suite budgets (when --timesteps is none)"}
    )
    out: str = field(default="results/default", metadata={"help": "results folder (resumed if it exists)"})
    workers: int | None = field(default=None, metadata={"help": "parallel runs (default: number of CPUs)"})
    backend: str = field(default="local", metadata={"help": "local (process pool) or ray"})
    address: str | None = field(default=None, metadata={"help": "Ray cluster address; none starts a local Ray"})
    cpus_per_run: float = field(default=1.0, metadata={"help": "CPUs reserved per run on Ray"})
    presets: str | None = field(default=None, metadata={"help": "JSON file of extra agent presets"})
    eval_episodes: int = field(default=0, metadata={"help": "deterministic evaluation episodes per run"})
    metrics: bool = field(default=True, metadata={"help": "log exploration metrics to TensorBoard per run"})
    bootstrap_reps: int = field(default=2000, metadata={"help": "bootstrap resamples for the confidence intervals"})
    max_retries: int = field(default=2, metadata={"help": "retries of a run whose worker process died"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar over the grid"})


def run_one(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """Worker entry point: one training run of the grid (see scripts/train.py)."""
    options = dict(spec.options)
    config = TrainConfig(
        env=spec.env,
        agent=spec.agent,
        seed=spec.seed,
        timesteps=spec.timesteps,
        presets=options.get("presets"),
        eval_episodes=options.get("eval_episodes", 0),
        metrics=options.get("metrics", True),
        save_model=False,
        progress_bar=False,
    )
    return train(config, run_dir)


def validate(config: CompareConfig) -> list[RunSpec]:
    """Check names and numbers before anything runs; return the grid."""
    if config.seeds < 1:
        raise ValueError(f"--seeds={config.seeds} must be >= 1")
    if config.timesteps is not None and config.timesteps <= 0:
        raise ValueError(f"--timesteps={config.timesteps} must be positive (or none)")
    presets = load_presets(config.presets) if config.presets else None
    for env in config.envs:
        suite.get_entry(env)  # raises with the known names
    for name in config.agents:
        get_agent(name, presets)  # raises with the known names
    options: dict[str, Any] = {"eval_episodes": config.eval_episodes, "metrics": config.metrics}
    if config.presets:
        options["presets"] = str(Path(config.presets).resolve())

    if not (config.budget_scale > 0):
        raise ValueError(f"--budget-scale={config.budget_scale} must be > 0")

    def budget(env: str) -> int:
        return config.timesteps or max(1, round(suite.get_entry(env).budget * config.budget_scale))

    specs = []
    for spec in grid(config.envs, config.agents, range(config.seeds), budget, options):
        try:
            check_compatible(get_agent(spec.agent, presets), suite.get_entry(spec.env), spec.env)
        except ValueError:
            continue  # e.g. stock PPO on a masked env: not a valid pair, left out of the grid
        specs.append(spec)
    if not specs:
        raise ValueError("no valid (env, agent) pair: masked envs need ppo-mask* agents, the others need the rest")
    return specs


def write_csv_atomic(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write a CSV through a temporary file and ``os.replace``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buffer.getvalue())
    os.replace(tmp, path)


def write_tables(store: RunStore, results: list[dict[str, Any]]) -> None:
    """results.csv: one row per run; curves.csv: one row per (run, curve point)."""
    columns = ["env", "agent", "seed", "timesteps", "final_score", "auc_score", "final_return", "episodes"]
    columns += ["eval_score", "eval_return", "wall_time"]
    write_csv_atomic(store.root / "results.csv", columns, [[r.get(c, "") for c in columns] for r in results])
    curve_rows = []
    for r in results:
        curve = r["curve"]
        for i, (step, ret, score) in enumerate(zip(curve["steps"], curve["return"], curve["score"], strict=True)):
            curve_rows.append([r["env"], r["agent"], r["seed"], i, step, step / r["timesteps"], ret, score])
    write_csv_atomic(
        store.root / "curves.csv",
        ["env", "agent", "seed", "point", "step", "fraction", "return", "score"],
        curve_rows,
    )


def verdict(interval: report.Interval) -> str:
    """Plain reading of P(method > baseline) and its 95% CI."""
    if interval.low > 0.5:
        return "helps"
    if interval.high < 0.5:
        return "costs"
    return "neutral / inconclusive"


def build_report(config: CompareConfig, specs: list[RunSpec], store: RunStore, command: str) -> str:
    """Compute the statistics, write report.md and the figures; return the Markdown."""
    wanted = {spec.run_id for spec in specs}
    results = [r for r in store.results() if RunSpec.from_dict(r["spec"]).run_id in wanted]
    for r in results:  # a run without any episode in its last quarter scores as random (noted below)
        if math.isnan(r["final_score"]):
            r["final_score"] = r["auc_score"] = 0.0
    write_tables(store, results)
    # Agents without any finished run (all failed, or no valid env) cannot enter the statistics.
    agents = [a for a in config.agents if any(r["agent"] == a for r in results)]
    presets = load_presets(config.presets) if config.presets else None
    lines = [
        "# rlfloor comparison",
        "",
        f"Command: `{command}`",
        "",
        f"Grid: {len(config.envs)} envs x {len(config.agents)} agents x {config.seeds} seeds; "
        f"{len(results)} of {len(specs)} runs finished. Score: final normalized score (training "
        "episodes of the last 25% of the budget; 0 = random policy, 1 = optimal). "
        f"Intervals: 95% stratified bootstrap ({config.bootstrap_reps} resamples).",
        "",
    ]
    errors = [e for e in store.errors() if RunSpec.from_dict(e["spec"]).run_id in wanted]
    if errors:
        lines += ["**Failed runs** (see `runs/*/error.json`):", ""]
        lines += [f"- `{RunSpec.from_dict(e['spec']).run_id}`: {_last_line(e['traceback'])}" for e in errors]
        lines.append("")

    # Agents are compared on the tasks they can run: masked envs form their own group.
    groups: dict[bool, list[str]] = {}
    for agent in agents:
        groups.setdefault(get_agent(agent, presets).uses_masks, []).append(agent)
    figures_done = False
    for uses_masks, group in groups.items():
        envs = [e for e in config.envs if suite.get_entry(e).action_masks == uses_masks]
        scores, tasks = report.score_matrices(results, "final_score", group, envs)
        if not tasks:
            continue
        title = "masked tasks" if uses_masks else "tasks"
        intervals = report.aggregate_intervals(scores, reps=config.bootstrap_reps)
        lines += _aggregate_section(scores, intervals, tasks, group, presets, config, title, results)
        if not figures_done:
            curves, steps = _curves(results, group, tasks)
            paths = report.save_figures(scores, curves, steps, store.root / "figures", intervals, reps=500)
            lines += ["Figures: " + ", ".join(f"[{p.stem}](figures/{p.name})" for p in paths), ""]
            figures_done = True
    text = "\n".join(lines) + "\n"
    tmp = store.root / ".report.md.tmp"
    tmp.write_text(text)
    os.replace(tmp, store.root / "report.md")
    return text


def _aggregate_section(
    scores: report.ScoreDict,
    intervals: dict[str, dict[str, report.Interval]],
    tasks: list[str],
    group: list[str],
    presets: Any,
    config: CompareConfig,
    title: str,
    results: list[dict[str, Any]],
) -> list[str]:
    auc_scores, _ = report.score_matrices(results, "auc_score", group, tasks)
    auc = report.aggregate_intervals(auc_scores, reps=config.bootstrap_reps)
    rows = [
        [f"`{a}`", get_agent(a, presets).description, intervals[a]["iqm"], intervals[a]["mean"], auc[a]["iqm"]]
        for a in group
    ]
    lines = [f"## Aggregate over {len(tasks)} {title}: {', '.join(tasks)}", ""]
    lines += [report.markdown_table(["agent", "what", "IQM [95% CI]", "mean [95% CI]", "AUC IQM [95% CI]"], rows), ""]

    pairs = []
    for agent in group:
        baseline = get_agent(agent, presets).baseline
        if baseline is not None and baseline in scores:
            pairs.append((agent, baseline))
    if pairs:
        probabilities = report.improvement_probabilities(scores, pairs, reps=config.bootstrap_reps)
        rows = [[f"`{x}`", f"`{y}`", probabilities[(x, y)], verdict(probabilities[(x, y)])] for x, y in pairs]
        lines += ["### Probability of improvement over the stock baseline", ""]
        lines += [report.markdown_table(["agent", "over", "P(agent > baseline) [95% CI]", "reading"], rows), ""]

    means = report.per_task_means(scores, tasks)
    rows = [[f"`{a}`", *[f"{means[a][t]:.2f}" for t in tasks]] for a in group]
    lines += ["### Mean final score per task", "", report.markdown_table(["agent", *tasks], rows), ""]
    return lines


def _curves(results: list[dict[str, Any]], agents: list[str], tasks: list[str]) -> tuple[dict[str, np.ndarray], Any]:
    """Learning curves as ``{agent: (runs, tasks, points)}`` over the fraction of the budget."""
    by_cell: dict[tuple[str, str], list[tuple[int, list[float]]]] = {}
    points = 0
    for r in results:
        if r["agent"] in agents and r["env"] in tasks:
            by_cell.setdefault((r["agent"], r["env"]), []).append((r["seed"], r["curve"]["score"]))
            points = len(r["curve"]["score"])
    curves = {}
    for agent in agents:
        per_task = [[c for _, c in sorted(by_cell[(agent, t)])] for t in tasks]
        curves[agent] = np.nan_to_num(np.asarray(per_task, dtype=float).transpose(1, 0, 2), nan=0.0)
    return curves, np.arange(1, points + 1) / points


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def main() -> None:
    config = parse_config(CompareConfig, description=__doc__)
    command = " ".join(["python", "scripts/compare.py", *sys.argv[1:]])
    try:
        specs = validate(config)
    except ValueError as error:
        sys.exit(f"error: {error}")
    if config.backend == "ray":  # scripts/ is not installed on Ray nodes: send train.py's code with the tasks
        from rlfloor.ray_backend import ship_by_value

        try:
            ship_by_value(sys.modules["train"])
        except ImportError as error:
            sys.exit(f"error: {error}")
    store = RunStore(Path(config.out))
    print(f"{len(specs)} runs in {config.out} ({config.backend} backend)", flush=True)
    try:
        summary = run_sweep(
            specs,
            run_one,
            store,
            backend=config.backend,
            workers=config.workers,
            max_retries=config.max_retries,
            progress=config.progress,
            ray_address=config.address,
            ray_resources={"num_cpus": config.cpus_per_run},
        )
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are saved; run the same command again to resume", file=sys.stderr)
        sys.exit(130)
    print(f"sweep: {summary}")
    text = build_report(config, specs, store, command)
    print(text)
    print(f"report: {store.root / 'report.md'}")
    if summary.failed:
        print(f"{len(summary.failed)} runs failed: {', '.join(summary.failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
