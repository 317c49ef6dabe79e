"""Compare exploration methods: an env x agent x seed grid, with rliable statistics.

    rlfloor-compare                                   # the default comparison (~10 min, 2 cores)
    rlfloor-compare --envs deepsea-6 deceptive-chain --agents ppo ppo-floor --seeds 10
    rlfloor-compare --envs core CartPole-v1 minigrid:MiniGrid-Empty-5x5-v0 --optimal CartPole-v1=500

(``python scripts/compare.py`` is the same command.) ``--envs`` takes suite names, suite tags (``core``,
``external``, ...), registered Gymnasium ids and ``module:EnvId``. Runs go in parallel over CPU cores
(``--backend ray`` runs them on a Ray cluster). Every run is planned once, here, before anything is written
(every name resolved once, every (env, agent) pair built once without training, every setting checked; a
refusal is one line, exit status 2) and shipped to its worker as that plan. Every finished run is written
atomically to ``{out}/runs/{env}__{agent}__s{seed}/`` and keyed by its resolved settings: running the same
command again reuses exactly the runs whose settings are unchanged and retrains (and names) the others. A
crashing run is recorded with its traceback (``error.json``) and the others go on. The output folder then
holds ``results.csv`` (one row per run), ``curves.csv``, ``report.md`` (IQM with 95% stratified bootstrap CIs,
probability of improvement over stock PPO/A2C, per-task means, the normalization of each task) and
``figures/*.png``.

The score of a run is its final normalized score: the mean return of its training episodes in the last
quarter of the budget, normalized per task to [random, optimal]. A task without both references (a
Gymnasium id without ``--optimal``) is reported in raw returns; its random reference is measured once
(``--random-episodes`` uniform-random episodes) and cached in ``{out}/references.json``.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import tyro

from agents import AgentSpec, exploration_callbacks, get_agent, load_presets
from envs import resolve
from envs.references import PROTOCOL, measure_random_return
from envs.scoring import normalized_score
from rlfloor.checks import check_int, check_number
from rlfloor.experiment import RunSpec, RunStore, grid, plan_spec, report, run_spec, write_text_atomic
from rlfloor.experiment.cli import MAX_SEEDS, SweepOptions, check_out, checked, exit_if_failed, refuse, run_sweep_cli
from rlfloor.experiment.records import check_run_record
from rlfloor.experiment.references import cached_random_return
from rlfloor.experiment.run import MAX_EPISODES, Planner, check_compatible
from rlfloor.experiment.store import record_spec

DEFAULT_ENVS = ["deepsea-6", "switching-bandit", "deceptive-chain", "symmetric-goals"]
# The default run takes half of each task's suite budget so that it fits in ~10 minutes on
# 2 cores; the bandit's switch (every 10k pulls) still happens once within its 20k steps.
# One preset of each family against stock: constant floor, adaptive floor, adaptive entropy, count bonus.
DEFAULT_AGENTS = ["ppo", "ppo-floor", "ppo-floor-adaptive", "ppo-ent-adaptive", "ppo-count", "a2c", "a2c-floor"]
MAX_BOOTSTRAP_REPS = 100_000  # twice rliable's default (50,000 in get_interval_estimates); more only waits
DEFAULT_BUDGET = 50_000  # steps of a run on an env outside the suite (before --budget-scale)
CHECK_RECORD = functools.partial(check_run_record, score=normalized_score)
"""The check of this command's records (scores recomputed with the suite's score function)."""


@dataclass
class CompareConfig:
    """Compare agent presets on a grid of envs and seeds."""

    envs: list[str] = field(default_factory=lambda: list(DEFAULT_ENVS))
    """suite names, suite tags (core, external, ...), Gymnasium ids or module:EnvId"""
    agents: list[str] = field(default_factory=lambda: list(DEFAULT_AGENTS))
    """agent presets"""
    seeds: int = 3
    """number of seeds per (env, agent): seeds 0..N-1"""
    timesteps: int | None = None
    """budget of every run in env steps; None = each task's suite budget times --budget-scale"""
    budget_scale: float = 0.5
    """multiplies the suite budgets (when --timesteps is None); 50000 steps for envs outside the suite"""
    out: str = "results/default"
    """results folder (resumed if it exists)"""
    presets: str | None = None
    """JSON file of extra agent presets"""
    references: str | None = None
    """JSON file of reference returns: {"env": {"random": r, "optimal": o}}"""
    optimal: list[str] = field(default_factory=list)
    """optimal reference returns as ENV=VALUE (e.g. CartPole-v1=500); override --references"""
    random_episodes: int = 1000
    """uniform-random episodes measuring a missing random reference (cached in the results folder)"""
    eval_episodes: int = 0
    """deterministic evaluation episodes per run"""
    metrics: bool = True
    """log exploration metrics to TensorBoard per run (not part of a run's key)"""
    allow_no_change: bool = False
    """accept non-stationary tasks whose budget ends before their first change (they then train one phase)"""
    bootstrap_reps: int = 2000
    """bootstrap resamples for the confidence intervals"""
    sweep: Annotated[SweepOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=SweepOptions)
    """how the grid is run (none of these changes a run's results)"""


@dataclass
class Plan:
    """The validated comparison: its runs (each carrying its plan) and the names resolved once."""

    specs: list[RunSpec]
    envs: list[str]
    planner: Planner
    references: dict[str, dict[str, float]]
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)

    def env(self, name: str) -> resolve.ResolvedEnv:
        """The env called ``name`` (resolved once)."""
        return self.planner.env(name)  # type: ignore[return-value]

    def agent(self, name: str) -> AgentSpec:
        """The agent called ``name`` (resolved once, from the presets file read once)."""
        return self.planner.agent(name)  # type: ignore[return-value]


def check_flags(config: CompareConfig) -> None:
    """The numbers and lists of the command line (one-line ``ValueError``)."""
    if not config.envs:
        raise ValueError("--envs needs at least one env")
    if not config.agents:
        raise ValueError("--agents needs at least one preset")
    for flag, names in (("--envs", config.envs), ("--agents", config.agents)):
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"{flag} names {repeated} more than once")
    check_int("--seeds", config.seeds, 1, MAX_SEEDS)
    if config.timesteps is not None:
        check_int("--timesteps", config.timesteps, 1)
    check_number("--budget-scale", config.budget_scale, 0, None, low_open=True)
    config.sweep.check()
    check_int("--random-episodes", config.random_episodes, 2, MAX_EPISODES)
    check_int("--eval-episodes", config.eval_episodes, 0, MAX_EPISODES)
    check_int("--bootstrap-reps", config.bootstrap_reps, 1, MAX_BOOTSTRAP_REPS)
    check_out(config.out)


def validate(config: CompareConfig) -> Plan:
    """Check everything before any work and plan every run once (see the module docstring)."""
    check_flags(config)
    presets = load_presets(config.presets) if config.presets else None  # read once
    references = resolve.merge_references(
        resolve.load_references(config.references), resolve.parse_assignments(config.optimal, "optimal")
    )
    planner = Planner(
        functools.partial(resolve.resolve, references=references), functools.partial(get_agent, presets=presets)
    )
    for name in config.agents:
        planner.agent(name)  # raises with the known names
    env_names = resolve.expand(config.envs)
    for env in env_names:
        planner.env(env)  # raises with what is accepted, or names the extra to install
    unused = sorted(set(references) - set(env_names))
    if unused:
        raise ValueError(f"references given for envs not in the grid: {unused}")
    plan = Plan([], env_names, planner, references)
    plan.specs = grid_specs(config, plan)
    return plan


def observation_problem(agent: AgentSpec, env: resolve.ResolvedEnv, spaces: dict[str, Any]) -> str | None:
    """Why ``agent``'s exploration components cannot observe ``env`` (e.g. exact counts of a continuous
    observation), or ``None``. The env is built once per name (``spaces`` caches its observation space)."""
    if agent.intrinsic is None:
        return None
    if env.name not in spaces:
        instance = env.make()
        spaces[env.name] = instance.observation_space
        instance.close()
    try:
        exploration_callbacks(agent, spaces[env.name])
    except ValueError as error:
        return str(error)
    return None


def grid_specs(config: CompareConfig, plan: Plan) -> list[RunSpec]:
    """The runs of valid (env, agent) pairs, each planned once (:func:`rlfloor.experiment.run.plan_spec`)."""

    def budget(env: str) -> int:
        suite_budget = plan.env(env).budget
        return config.timesteps or max(1, round((suite_budget or DEFAULT_BUDGET) * config.budget_scale))

    options: dict[str, Any] = {"eval_episodes": config.eval_episodes, "metrics": config.metrics}
    if config.allow_no_change:  # only when given: the options of earlier runs stay as they were
        options["allow_no_change"] = True
    spaces: dict[str, Any] = {}
    left_out: dict[tuple[str, str], str] = {}
    specs = []
    for spec in grid(plan.envs, config.agents, range(config.seeds), budget, options):
        agent, env = plan.agent(spec.agent), plan.env(spec.env)
        try:
            check_compatible(agent, env)
        except ValueError:
            continue  # e.g. stock PPO on a masked env: not a valid pair, left out of the grid
        problem = observation_problem(agent, env, spaces)
        if problem is not None:
            left_out[(spec.env, spec.agent)] = problem
            continue
        specs.append(plan_spec(spec, plan.planner))
    if not specs:
        raise ValueError(
            f"no valid (env, agent) pair among --envs {plan.envs} and --agents {config.agents}: masked envs "
            "need ppo-mask* agents, the others need the rest"
            + (f" (left out: {'; '.join(left_out.values())})" if left_out else "")
        )
    for (env_name, agent_name), problem in left_out.items():
        print(f"left out {env_name} x {agent_name}: {problem}", file=sys.stderr)
    return specs


def measure_references(config: CompareConfig, plan: Plan, root: Path) -> None:
    """Measure (once; cached in the results folder ``root``) the random reference of every env that lacks one,
    and hand it to the runs' plans (their keys include it). A given optimal reference at or below the measured
    random one is refused before anything is written."""
    for name in plan.envs:
        env = plan.env(name)
        if env.random_return is not None:
            continue
        print(f"random reference of {name}: {config.random_episodes} uniform-random episodes ...", flush=True)
        measure = functools.partial(measure_random_return, env.make)
        episodes = config.random_episodes
        given = plan.references.get(name, {})

        def check(measured: Mapping[str, Any], name: str = name, given: Mapping[str, float] = given) -> None:
            resolve.check_references(name, {**given, "random": measured["mean"]})

        measured, cached = cached_random_return(root, name, env.record(), measure, PROTOCOL, episodes, check)
        print(f"  {measured['mean']:.4g} (SE {measured['se']:.3g}){' cached' if cached else ''}", flush=True)
        plan.measured[name] = measured
        plan.references.setdefault(name, {})["random"] = measured["mean"]
        plan.planner.envs[name] = resolve.resolve(name, plan.references)  # as given: the key of earlier versions
    if plan.measured:
        specs = []
        for spec in plan.specs:
            run = dataclasses.replace(spec.plan, env=plan.env(spec.env))
            specs.append(spec.with_settings(run.key_settings(), run))
        plan.specs = specs


def open_store(out: str | Path) -> RunStore:
    """The results folder of a comparison: its records checked by :data:`CHECK_RECORD` before any reuse or
    report (a record that contradicts itself is reported and retrained)."""
    return RunStore(Path(out), check=CHECK_RECORD)


def normalization(name: str, plan: Plan) -> tuple[bool, str]:
    """Whether a task's scores are normalized, and one line saying with which references."""
    env = plan.env(name)
    measured = plan.measured.get(name)
    random_text = (
        f"random {env.random_return:.4g} (measured: {measured['episodes']} uniform-random episodes, "
        f"SE {measured['se']:.3g})"
        if measured
        else f"random {env.random_return:.4g} ({env.references})"
        if env.random_return is not None
        else "no random reference"
    )
    if env.optimal_return is None:
        return False, f"raw returns (no optimal reference); {random_text}"
    source = "given" if "optimal" in plan.references.get(name, {}) else env.references
    return True, f"normalized to [random, optimal]: {random_text}, optimal {env.optimal_return:.4g} ({source})"


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    """A CSV document."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_tables(store: RunStore, results: list[dict[str, Any]]) -> None:
    """results.csv: one row per run; curves.csv: one row per (run, curve point)."""
    columns = ["env", "agent", "seed", "timesteps", "final_score", "auc_score", "final_return", "auc_return"]
    columns += ["episodes", "eval_score", "eval_return", "wall_time", "steps_to_solve", "solved"]
    write_text_atomic(store.root / "results.csv", csv_text(columns, [[r.get(c, "") for c in columns] for r in results]))
    header = ["env", "agent", "seed", "point", "step", "fraction", "return", "score"]
    rows = []
    for r in results:
        curve = r["curve"]
        for i, (step, ret, score) in enumerate(zip(curve["steps"], curve["return"], curve["score"], strict=True)):
            rows.append([r["env"], r["agent"], r["seed"], i, step, step / r["timesteps"], ret, score])
    write_text_atomic(store.root / "curves.csv", csv_text(header, rows))


def verdict(interval: report.Interval) -> str:
    """Plain reading of P(method > baseline) and its 95% CI."""
    if interval.low > 0.5:
        return "helps"
    if interval.high < 0.5:
        return "costs"
    return "neutral / inconclusive"


def build_report(config: CompareConfig, plan: Plan, store: RunStore, command: str) -> str:
    """Compute the statistics, write report.md and the figures; return the Markdown."""
    with store.report_lock():
        return _build_report(config, plan, store, command)


def _build_report(config: CompareConfig, plan: Plan, store: RunStore, command: str) -> str:
    if store.check is not CHECK_RECORD:  # the report reads checked records only, however the store was opened
        store = RunStore(store.root, CHECK_RECORD, store.problems)
    keys = {spec.run_id: spec.key for spec in plan.specs}
    results = store.finished(plan.specs)  # the grid's runs with their current settings, records that pass
    outside = store.outside(plan.specs)
    normalized = {env: normalization(env, plan) for env in plan.envs}
    for r in results:  # a run without any episode in its last quarter scores as random (noted below)
        if normalized[r["env"]][0] and math.isnan(r["final_score"]):
            r["final_score"] = r["auc_score"] = 0.0
    write_tables(store, results)
    agents = [a for a in config.agents if any(r["agent"] == a for r in results)]
    lines = [
        "# rlfloor comparison",
        "",
        f"Command: `{command}`",
        "",
        f"Grid: {len(plan.envs)} envs x {len(config.agents)} agents x {config.seeds} seeds; "
        f"{len(results)} of {len(plan.specs)} runs finished"
        + (f" ({len(outside)} stored results of runs outside this grid ignored)" if outside else "")
        + ". Score: final normalized score (training "
        "episodes of the last 25% of the budget; 0 = random policy, 1 = optimal). "
        f"Intervals: 95% stratified bootstrap ({config.bootstrap_reps} resamples).",
        "",
        "### Normalization per task",
        "",
        report.markdown_table(["task", "normalization"], [[f"`{e}`", normalized[e][1]] for e in plan.envs]),
        "",
    ]
    if store.problems:
        lines += ["**Corrupt files** (their runs were retrained):", ""] + [f"- {p}" for p in store.problems] + [""]
    errors = [e for e in store.errors() if record_spec(e).run_id in keys]
    if errors:
        lines += ["**Failed runs** (see `runs/*/error.json`):", ""]
        lines += [f"- `{record_spec(e).run_id}`: {_last_line(e['traceback'])}" for e in errors]
        lines.append("")
    # Agents are compared on the tasks they can run: masked envs form their own group.
    env_resolver, agent_resolver = plan.env, plan.agent
    groups: dict[bool, list[str]] = {}
    for agent in agents:
        groups.setdefault(agent_resolver(agent).uses_masks, []).append(agent)
    figures: list[Path] = []
    for uses_masks, group in groups.items():
        envs = [e for e in plan.envs if env_resolver(e).action_masks == uses_masks]
        scored = [e for e in envs if normalized[e][0]]
        raw = [e for e in envs if not normalized[e][0]]
        scores, tasks = report.score_matrices(results, "final_score", group, scored)
        title = "masked tasks" if uses_masks else "tasks"
        if tasks:
            intervals = report.aggregate_intervals(scores, reps=config.bootstrap_reps)
            lines += _aggregate_section(scores, intervals, tasks, group, agent_resolver, config, title, results)
            if not figures:
                curves, steps = _curves(results, group, tasks)
                figures += report.save_figures(scores, curves, steps, store.root / "figures", intervals, reps=500)
            pairs = [(a, b) for a in group if (b := agent_resolver(a).baseline) is not None and b in group]
            figure = store.root / "figures" / ("steps_to_solve_masked.png" if uses_masks else "steps_to_solve.png")
            solve_lines, solve_figure = report.steps_to_solve_report(
                results, group, tasks, pairs, config.bootstrap_reps, figure
            )
            lines += solve_lines
            figures += [solve_figure] if solve_figure is not None else []
        if raw:
            returns, raw_tasks = report.score_matrices(results, "final_return", group, raw)
            if raw_tasks:
                means = report.per_task_means(returns, raw_tasks)
                rows = [[f"`{a}`", *[f"{means[a][t]:.4g}" for t in raw_tasks]] for a in group]
                lines += [f"### Mean final raw return per task ({title} without both references)", ""]
                lines += [report.markdown_table(["agent", *raw_tasks], rows), ""]
    panels, panel_steps, labels = _task_curves(results, plan.envs, normalized)
    if panels:
        figures.append(report.save_task_curves(panels, panel_steps, store.root / "figures" / "task_curves.png", labels))
    if figures:
        lines += ["Figures: " + ", ".join(f"[{p.stem}](figures/{p.name})" for p in figures), ""]
    text = "\n".join(lines) + "\n"
    write_text_atomic(store.root / "report.md", text)
    return text


def _aggregate_section(
    scores: report.ScoreDict,
    intervals: dict[str, dict[str, report.Interval]],
    tasks: list[str],
    group: list[str],
    agent_resolver: Callable[[str], AgentSpec],
    config: CompareConfig,
    title: str,
    results: list[dict[str, Any]],
) -> list[str]:
    auc_scores, _ = report.score_matrices(results, "auc_score", group, tasks)
    auc = report.aggregate_intervals(auc_scores, reps=config.bootstrap_reps)
    rows = [
        [f"`{a}`", agent_resolver(a).description, intervals[a]["iqm"], intervals[a]["mean"], auc[a]["iqm"]]
        for a in group
    ]
    lines = [f"## Aggregate over {len(tasks)} {title}: {', '.join(tasks)}", ""]
    lines += [report.markdown_table(["agent", "what", "IQM [95% CI]", "mean [95% CI]", "AUC IQM [95% CI]"], rows), ""]
    pairs = []
    for agent in group:
        baseline = agent_resolver(agent).baseline
        if baseline is not None and baseline in scores:
            pairs.append((agent, baseline))
    if pairs:
        probabilities = report.improvement_probabilities(scores, pairs, reps=config.bootstrap_reps)
        rows = [[f"`{x}`", f"`{y}`", probabilities[(x, y)], verdict(probabilities[(x, y)])] for x, y in pairs]
        lines += ["### Probability of improvement over the stock baseline", ""]
        lines += [report.markdown_table(["agent", "over", "P(agent > baseline) [95% CI]", "reading"], rows), ""]
        paired = report.paired_table(results, "final_score", pairs, tasks, reps=config.bootstrap_reps)
        if paired is not None:  # agents sharing seeds with their baseline: per-seed differences (issue 20)
            lines += ["### Paired per-seed differences over the stock baseline", "", report.PAIRED_NOTE, "", paired, ""]
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


def _task_curves(
    results: list[dict[str, Any]], envs: list[str], normalized: Mapping[str, tuple[bool, str]]
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray], dict[str, str]]:
    """Per task: ``{agent: (runs, points)}`` curves (scores or raw returns), their steps and y labels."""
    panels: dict[str, dict[str, np.ndarray]] = {}
    steps: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for env in envs:
        metric = "score" if normalized[env][0] else "return"
        rows = [r for r in results if r["env"] == env]
        by_agent: dict[str, list[tuple[int, list[float]]]] = {}
        for r in rows:
            by_agent.setdefault(r["agent"], []).append((r["seed"], r["curve"][metric]))
        lengths = {len(c) for runs in by_agent.values() for _, c in runs}
        if not by_agent or len(lengths) != 1:
            continue
        panels[env] = {
            agent: np.nan_to_num(np.asarray([c for _, c in sorted(runs)], dtype=float))
            for agent, runs in by_agent.items()
        }
        steps[env] = np.asarray(rows[0]["curve"]["steps"], dtype=float)
        labels[env] = "normalized score (IQM)" if metric == "score" else "raw return (IQM)"
    return panels, steps, labels


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def main(args: Sequence[str] | None = None) -> None:
    """The ``rlfloor-compare`` command."""
    config = tyro.cli(CompareConfig, prog="rlfloor-compare", description=__doc__, args=args)
    command = " ".join(["rlfloor-compare", *(sys.argv[1:] if args is None else args)])
    plan = checked(lambda: validate(config))
    checked(lambda: measure_references(config, plan, Path(config.out)))  # written only once checked
    store = open_store(config.out)
    try:
        summary = run_sweep_cli(plan.specs, run_spec, store, config.sweep)
    except (ValueError, ImportError) as error:
        refuse(error)
    text = build_report(config, plan, store, command)
    print(text)
    print(f"report: {store.root / 'report.md'}")
    exit_if_failed(summary)


__all__ = ["CompareConfig", "Plan", "build_report", "main", "validate"]
