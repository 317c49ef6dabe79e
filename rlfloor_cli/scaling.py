"""bsuite's deep_sea experiment for rlfloor agents: how the episodes needed to solve DeepSea grow with its size.

    rlfloor-scaling                                   # 4 presets x N in 10 14 20 24 30 x 10 seeds
    rlfloor-scaling --agents ppo-count --sizes 10 20 --seeds 1 --workers 1
    rlfloor-scaling --sizes 10 12 14 --horizon score  # enough for the bsuite score only

(``python scripts/deepsea_scaling.py`` is the same command.)

Each run trains one agent preset on ``rlfloor/DeepSea-v1`` of size N with ``mapping_seed=42`` (bsuite's sweep,
``bsuite/experiments/deep_sea/sweep.py``: sizes 10, 12, ..., 50, 10,000 episodes each) in a single
environment, and records every episode's "bad episode" flag (the agent chose "left" while on the diagonal,
bsuite's ``_bad_episode``). bsuite's criterion (``bsuite/experiments/deep_sea/analysis.py``, bsuite 0.3.6
on PyPI): a run *solves* size N at the first episode ``e``, among the episodes bsuite's logger writes
(1, 2, ..., 10, 12, 14, 17, 20, 25, ...), where ``total_bad_episodes / e < 0.9``; it *beats dithering* if it
solves before episode ``2**N + 100``. The bsuite deep_sea score is the fraction of sizes that beat dithering
(:func:`envs.scoring.deep_sea_score`).

A run stops as soon as nothing more can change what is measured:

* at the solve episode (the solve episode and the score are settled: the first crossing cannot move);
* otherwise at the horizon: ``--horizon budget`` (default) trains up to ``--episodes`` (bsuite's 10,000),
  which answers both questions asked of a preset, the episodes-to-solve up to the budget (hence the largest
  size solved in >= 8 of 10 seeds within it) and the score; ``--horizon score`` stops an unsolved run at
  episode ``min(2**N + 99, --episodes)``, the last one that can still count for the score. That saves work
  only where ``2**N + 99 < --episodes`` (N <= 13 at bsuite's budget), and an unsolved run then says nothing
  about the episodes in between (the report marks those sizes).

Stopping early changes nothing before the stop: the budget handed to SB3 is always ``--episodes * N`` steps,
so schedules over the run (the count bonus's annealing) are those of a full bsuite run.

The harness (:mod:`rlfloor.experiment`) runs the grid: in parallel (local process pool, or Ray), each finished
run written atomically to ``{out}/runs/deepsea-{N}__{agent}__s{seed}/result.json`` and keyed by its resolved
settings, so running the same command again trains only what is missing or changed. The output folder then
holds ``scaling.csv`` (one row per run), ``report.md`` (per preset: the largest N solved in >= 8 of 10 seeds,
the bsuite deep_sea score over the sizes run, episodes-to-solve per N) and ``figures/scaling.png``
(episodes-to-solve against N, log scale, beside the ``2**N`` line of dithering, as bsuite draws it).

bsuite: Osband et al. (2020), "Behaviour Suite for Reinforcement Learning", ICLR 2020.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import gymnasium as gym
import numpy as np
import tyro
from stable_baselines3.common.callbacks import BaseCallback

from agents import get_agent, load_presets
from envs import resolve
from envs.deep_sea import MAX_SIZE
from envs.scoring import (
    BSUITE_DEEP_SEA_FORGIVENESS,
    BSUITE_DEEP_SEA_NUM_EPISODES,
    BSUITE_DEEP_SEA_SIZES,
    BSUITE_DEEP_SEA_THRESHOLD,
    bsuite_logged_episodes,
    deep_sea_score,
    deep_sea_solved_episode,
)
from rlfloor.checks import check_choice, check_int
from rlfloor.experiment import RunSpec, RunStore, plan_spec, train_run, write_text_atomic
from rlfloor.experiment.cli import MAX_SEEDS, SweepOptions, check_out, checked, exit_if_failed, refuse, run_sweep_cli
from rlfloor.experiment.records import RecordError, agree, check_run_fields, require, require_int
from rlfloor.experiment.report import markdown_table
from rlfloor.experiment.run import Plan, Planner, check_compatible
from rlfloor.experiment.store import atomic_path

ENV_ID = "rlfloor/DeepSea-v1"
MAPPING_SEED = 42  # bsuite's deep_sea sweep uses mapping_seed=42 for every size
DEFAULT_AGENTS = ["ppo-count", "ppo-rnd", "ppo", "ppo-floor"]
DEFAULT_SIZES = [10, 14, 20, 24, 30]
HORIZONS = ("budget", "score")
SOLVE_FRACTION = 0.8  # "solved in >= 8 of 10 seeds" (issue 10), as a fraction of the seeds asked for
PROTOCOL_OPTIONS = ("max_episodes", "horizon")
"""Run options read by this script's run function (the harness's run settings get the others)."""
_NAME = re.compile(r"deepsea-(\d+)")


@dataclass
class ScalingConfig:
    """bsuite's deep_sea experiment for rlfloor agent presets: episodes-to-solve against the DeepSea size."""

    agents: list[str] = field(default_factory=lambda: list(DEFAULT_AGENTS))
    """agent presets (built-ins or from --presets)"""
    sizes: list[int] = field(default_factory=lambda: list(DEFAULT_SIZES))
    """DeepSea sizes N (bsuite's sweep: 10 12 ... 50)"""
    seeds: int = 10
    """number of seeds per (preset, size): seeds 0..S-1"""
    episodes: int = BSUITE_DEEP_SEA_NUM_EPISODES
    """episode budget of a run (bsuite: 10000); a run trains at most episodes * N steps"""
    horizon: str = "budget"
    """when an unsolved run stops: budget (at --episodes) or score (at min(2**N + 99, --episodes))"""
    out: str = "results/deepsea-scaling"
    """results folder (resumed if it exists)"""
    presets: str | None = None
    """JSON file of extra agent presets"""
    metrics: bool = False
    """log exploration metrics to TensorBoard per run (slower; not part of a run's key)"""
    sweep: Annotated[SweepOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=SweepOptions)
    """how the grid is run (none of these changes a run's results)"""


# ----------------------------------------------------------------------------------------------- the runs
def env_name(size: int) -> str:
    """The grid's name of DeepSea of side ``size`` (``deepsea-N``, the suite's names for the same tasks)."""
    return f"deepsea-{size}"


def size_of(name: str) -> int:
    """``N`` of ``deepsea-N``; one-line ``ValueError`` for other names."""
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"env {name!r} is not a deepsea-N name")
    return check_int("DeepSea size", int(match.group(1)), 2, MAX_SIZE)


def deep_sea_env(name: str) -> resolve.ResolvedEnv:
    """The env resolver of the grid: ``deepsea-N`` is ``rlfloor/DeepSea-v1`` of size N at bsuite's mapping seed."""
    size = size_of(name)
    kwargs: dict[str, Any] = {"size": size, "mapping_seed": MAPPING_SEED}
    unwrapped: Any = gym.make(ENV_ID, **kwargs).unwrapped
    random_return, optimal_return = float(unwrapped.random_return), float(unwrapped.optimal_return)
    return resolve.ResolvedEnv(name, ENV_ID, kwargs, None, random_return, optimal_return, f"exact: {ENV_ID}")


def horizon_episodes(size: int, max_episodes: int, horizon: str) -> int:
    """The episode at which an unsolved run of size ``size`` stops (see the module docstring)."""
    check_choice("horizon", horizon, HORIZONS)
    if horizon == "score":
        return min(2**size + int(BSUITE_DEEP_SEA_FORGIVENESS) - 1, max_episodes)
    return max_episodes


class SolveStop(BaseCallback):
    """Records each episode's ``info["bad_episode"]`` flag; ends training once bsuite's criterion is met or at
    episode ``horizon``, whichever comes first.

    The criterion is :func:`envs.scoring.deep_sea_solved_episode` (bsuite's, read at bsuite's logged episodes),
    evaluated after every logged episode; its first crossing is the run's solve episode.
    """

    def __init__(self, horizon: int) -> None:
        super().__init__()
        self.horizon = check_int("horizon", horizon, 1)
        self.logged = frozenset(int(e) for e in bsuite_logged_episodes(horizon))
        self.flags: list[bool] = []
        self.solved_episode: int | None = None

    @property
    def done(self) -> bool:
        """True once nothing more can change the outcome (solved, or the horizon reached)."""
        return self.solved_episode is not None or len(self.flags) >= self.horizon

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "bad_episode" not in info or self.done:
                continue
            self.flags.append(bool(info["bad_episode"]))
            if len(self.flags) in self.logged:
                self.solved_episode = deep_sea_solved_episode(self.flags, num_episodes=self.horizon)
        return not self.done


def flags_text(flags: Sequence[bool]) -> str:
    """Bad-episode flags as a string of ``0``/``1``, one character per episode (compact in JSON)."""
    return "".join("1" if flag else "0" for flag in flags)


def logged_bad_counts(flags: Sequence[bool]) -> list[list[int]]:
    """``[episode, total_bad_episodes]`` at bsuite's logged episodes: the rows bsuite's logger would write."""
    if not flags:
        return []
    totals = np.cumsum(np.asarray(flags, dtype=int))
    return [[int(e), int(totals[e - 1])] for e in bsuite_logged_episodes(len(flags))]


def split_options(spec: RunSpec) -> tuple[RunSpec, dict[str, Any]]:
    """The spec as the harness's run settings see it, and this script's protocol options."""
    options = dict(spec.options)
    protocol = {name: options.pop(name) for name in PROTOCOL_OPTIONS}
    return dataclasses.replace(spec, options=tuple(sorted(options.items()))), protocol


def plan_scaling_spec(spec: RunSpec, planner: Planner) -> RunSpec:
    """``spec`` carrying its plan and its content key: the harness's resolved settings plus the stopping
    protocol. bsuite counts the episodes of one environment: a plan of several is refused."""
    harness_spec, protocol = split_options(spec)
    planned = plan_spec(harness_spec, planner)
    if planned.plan.n_envs != 1:
        raise ValueError(f"bsuite's deep_sea counts the episodes of one environment; n_envs={planned.plan.n_envs}")
    horizon_episodes(size_of(spec.env), int(protocol["max_episodes"]), str(protocol["horizon"]))
    settings = json.loads(planned.settings)
    settings["deep_sea"] = {
        **protocol,
        "threshold": BSUITE_DEEP_SEA_THRESHOLD,
        "forgiveness": BSUITE_DEEP_SEA_FORGIVENESS,
        "logging": "bsuite",
    }
    return spec.with_settings(settings, planned.plan)


def scaling_run(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """The sweep's run function: train the shipped plan with :class:`SolveStop`; return the solve episode and
    the flags."""
    _, protocol = split_options(spec)
    run = spec.plan
    if not isinstance(run, Plan):
        raise ValueError(f"run {spec.run_id} carries no plan: plan it with plan_scaling_spec() in the driver")
    size = size_of(spec.env)
    horizon = horizon_episodes(size, int(protocol["max_episodes"]), str(protocol["horizon"]))
    stop = SolveStop(horizon)
    result = train_run(run, run_dir, command=f"deepsea_scaling run {spec.run_id}", callbacks=[stop])
    for key in ("curve", "final_return", "final_score", "auc_return", "auc_score"):
        result.pop(key, None)  # a run stopped at its solve episode has no "last quarter of the budget"
    solved = stop.solved_episode
    result.update(
        size=size,
        solved_episode=solved,
        beat_dithering=solved is not None and solved < 2**size + BSUITE_DEEP_SEA_FORGIVENESS,
        horizon=horizon,
        episodes=len(stop.flags),
        total_bad_episodes=int(sum(stop.flags)),
        bad_flags=flags_text(stop.flags),
        bad_counts_logged=logged_bad_counts(stop.flags),
    )
    return result


# ----------------------------------------------------------------------------------------------- the records
def check_stop(
    size: int, horizon: int, episodes: int, solved_episode: int | None, beat_dithering: bool, trained_steps: int
) -> None:
    """What a scaling run's summary must say, given its solve episode: it stopped at the solve episode, or at
    its horizon unsolved (:class:`SolveStop`); every DeepSea episode lasts ``size`` steps in one env; it beat
    dithering iff it solved before episode ``2**size + 100``. One-line :class:`RecordError` otherwise."""
    agree("episodes", episodes, horizon if solved_episode is None else solved_episode, "where the run stops")
    agree("trained_steps", trained_steps, episodes * size, f"{episodes} episodes of {size} steps")
    beat = solved_episode is not None and solved_episode < 2**size + BSUITE_DEEP_SEA_FORGIVENESS
    agree("beat_dithering", beat_dithering, beat, "bsuite's criterion on solved_episode")


def check_scaling_record(record: Mapping[str, Any]) -> None:
    """The one check of a scaling run's ``result.json`` (the store's, before any reuse, and the report's).

    The harness's fields (:func:`rlfloor.experiment.records.check_run_fields`), then everything the report
    reads, recomputed from the per-episode flags: the size is the env's, the horizon the protocol's, the
    flags a ``0``/``1`` string whose count is ``episodes`` and whose sum is ``total_bad_episodes``,
    ``solved_episode`` is bsuite's first crossing on them, the run stopped where :class:`SolveStop` stops it
    (:func:`check_stop`), and the logged counts are bsuite's rows of the flags.

    :raises RecordError: naming the first field that is missing, of the wrong type or contradicted.
    """
    fields = check_run_fields(record)
    spec = fields.spec
    options = dict(spec.options)
    try:
        size = size_of(spec.env)
        max_episodes = check_int("spec.options.max_episodes", options.get("max_episodes"), 1)
        horizon = horizon_episodes(size, max_episodes, options.get("horizon"))  # type: ignore[arg-type]
    except ValueError as error:
        raise RecordError(str(error)) from None
    agree("timesteps", spec.timesteps, max_episodes * size, "the protocol's budget")
    agree("size", record.get("size"), size, "the env's name")
    agree("horizon", record.get("horizon"), horizon, "the protocol")
    text = require(record, "bad_flags", str)
    if not text or set(text) - {"0", "1"}:
        raise RecordError(f"bad_flags must be one 0/1 character per episode, got {text[:20]!r}")
    flags = [c == "1" for c in text]
    agree("episodes", fields.episodes, len(flags), "the count of bad_flags")
    solved = deep_sea_solved_episode(flags, num_episodes=horizon)
    if "solved_episode" not in record:
        raise RecordError("no 'solved_episode'")
    agree("solved_episode", record["solved_episode"], solved, "bsuite's criterion on bad_flags")
    check_stop(size, horizon, len(flags), solved, require(record, "beat_dithering", bool), fields.trained_steps)
    agree("total_bad_episodes", require_int(record, "total_bad_episodes", 0), sum(flags), "the sum of bad_flags")
    agree("bad_counts_logged", record.get("bad_counts_logged"), logged_bad_counts(flags), "bad_flags")


def open_store(out: str | Path) -> RunStore:
    """The results folder of a scaling sweep: its records checked by :func:`check_scaling_record` before any
    reuse or report (a record that contradicts itself is reported and retrained)."""
    return RunStore(Path(out), check=check_scaling_record)


# ----------------------------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class Row:
    """One finished run, as the report reads it."""

    agent: str
    size: int
    seed: int
    solved_episode: int | None
    episodes: int
    horizon: int
    trained_steps: int
    wall_time: float
    bad_flags: str = ""

    @property
    def flags(self) -> list[bool]:
        """Per-episode bad-episode flags."""
        return [c == "1" for c in self.bad_flags]

    @property
    def beat_dithering(self) -> bool:
        """Solved before episode ``2**N + 100`` (bsuite's score counts this size)."""
        return self.solved_episode is not None and self.solved_episode < 2**self.size + BSUITE_DEEP_SEA_FORGIVENESS

    @property
    def steps_per_second(self) -> float:
        """Training speed of the run."""
        return self.trained_steps / self.wall_time if self.wall_time > 0 else math.nan

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> Row:
        """The row of a stored ``result.json`` that passed :func:`check_scaling_record`."""
        solved = result.get("solved_episode")
        return cls(
            agent=str(result["agent"]),
            size=int(result["size"]),
            seed=int(result["seed"]),
            solved_episode=None if solved is None else int(solved),
            episodes=int(result["episodes"]),
            horizon=int(result["horizon"]),
            trained_steps=int(result["trained_steps"]),
            wall_time=float(result["wall_time"]),
            bad_flags=str(result.get("bad_flags", "")),
        )


CSV_COLUMNS = [
    "agent",
    "size",
    "seed",
    "solved_episode",
    "beat_dithering",
    "episodes",
    "horizon",
    "trained_steps",
    "total_bad_episodes",
    "wall_time",
    "steps_per_second",
]


def csv_text(rows: Sequence[Row]) -> str:
    """``scaling.csv``: one row per run (an unsolved run has an empty ``solved_episode``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        solved = "" if r.solved_episode is None else r.solved_episode
        values = [r.agent, r.size, r.seed, solved, r.beat_dithering, r.episodes, r.horizon, r.trained_steps]
        writer.writerow([*values, sum(r.flags), f"{r.wall_time:.2f}", f"{r.steps_per_second:.1f}"])
    return buffer.getvalue()


@dataclass(frozen=True)
class Cell:
    """Episodes-to-solve of one (preset, size) over its seeds."""

    solved: int
    """Runs that solved."""
    runs: int
    """Runs finished."""
    median: float
    """Median episodes-to-solve over the runs, an unsolved run counting as never (inf)."""
    low: float
    """Fewest episodes-to-solve of a solved run (nan if none solved)."""
    high: float
    """Most episodes-to-solve of a solved run (nan if none solved)."""


def cell(rows: Sequence[Row], agent: str, size: int) -> Cell:
    """Episodes-to-solve of ``agent`` at ``size``."""
    runs = [r for r in rows if r.agent == agent and r.size == size]
    solved = [float(r.solved_episode) for r in runs if r.solved_episode is not None]
    episodes = solved + [math.inf] * (len(runs) - len(solved))
    median = float(np.median(episodes)) if episodes else math.nan
    low, high = (min(solved), max(solved)) if solved else (math.nan, math.nan)
    return Cell(len(solved), len(runs), median, low, high)


def required_seeds(seeds: int) -> int:
    """Seeds that must solve a size for it to count as solved: 8 of 10, ``ceil(0.8 * seeds)`` in general."""
    return math.ceil(SOLVE_FRACTION * seeds - 1e-9)


def largest_solved(rows: Sequence[Row], agent: str, sizes: Sequence[int], seeds: int) -> int | None:
    """The largest size solved in at least :func:`required_seeds` of ``seeds`` runs (missing runs count as
    unsolved); ``None`` if no size is."""
    need = required_seeds(seeds)
    good = [size for size in sizes if cell(rows, agent, size).solved >= need]
    return max(good) if good else None


def seed_scores(rows: Sequence[Row], agent: str, sizes: Sequence[int]) -> dict[int, float]:
    """bsuite's deep_sea score (:func:`envs.scoring.deep_sea_score`) of each seed over the sizes it ran."""
    by_seed: dict[int, dict[int, list[bool]]] = {}
    for r in rows:
        if r.agent == agent and r.size in sizes and r.bad_flags:
            by_seed.setdefault(r.seed, {})[r.size] = r.flags
    return {seed: deep_sea_score(flags) for seed, flags in sorted(by_seed.items())}


def dithering_line(sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """bsuite's baseline: ``2**N`` episodes, the expected time of dithering exploration, at each integer size."""
    x = np.arange(min(sizes), max(sizes) + 1)
    return x, 2.0**x


def _episodes_text(c: Cell, need: int) -> str:
    if c.runs == 0:
        return "-"
    median = "never" if math.isinf(c.median) else f"{c.median:.0f}"
    spread = "" if c.solved == 0 else f" ({c.low:.0f}-{c.high:.0f})"
    mark = " **" if c.solved >= need else ""
    return f"{median}{spread}, {c.solved}/{c.runs}{mark}"


def report_text(
    rows: Sequence[Row],
    agents: Sequence[str],
    sizes: Sequence[int],
    seeds: int,
    episodes: int,
    command: str,
    ignored: int = 0,
) -> str:
    """``report.md``: per preset, the largest N solved, the bsuite score and episodes-to-solve per N.

    :param ignored: stored results of runs outside the grid (left out; the summary line says how many).
    """
    need = required_seeds(seeds)
    sizes = sorted(sizes)
    censored = sorted({r.size for r in rows if r.horizon < episodes})
    lines = [
        "# bsuite deep_sea scaling",
        "",
        f"Command: `{command}`",
        "",
        f"Grid: {len(agents)} presets x sizes {', '.join(map(str, sizes))} x {seeds} seeds on `{ENV_ID}` "
        f"(mapping_seed={MAPPING_SEED}, bsuite's sweep); {len(rows)} of {len(agents) * len(sizes) * seeds} runs "
        f"finished{f' ({ignored} stored results of runs outside this grid ignored)' if ignored else ''}. "
        f"Budget: {episodes} episodes per run (bsuite: {BSUITE_DEEP_SEA_NUM_EPISODES}).",
        "",
        f"Solved (bsuite, `analysis.py`): the first logged episode e with total_bad_episodes / e < "
        f"{BSUITE_DEEP_SEA_THRESHOLD}; bsuite's deep_sea score is the fraction of sizes solved before episode "
        f"2^N + {BSUITE_DEEP_SEA_FORGIVENESS:g} (beating dithering). A run stops at its solve episode.",
        "",
    ]
    if censored:
        lines += [
            f"Sizes {', '.join(map(str, censored))}: unsolved runs stopped at episode 2^N + 99 (`--horizon score`), "
            "so there a size counts as solved only within that many episodes.",
            "",
        ]
    score_sizes = ", ".join(map(str, sizes))
    bsuite_sizes = f"{BSUITE_DEEP_SEA_SIZES[0]}..{BSUITE_DEEP_SEA_SIZES[-1]}"
    header = [
        "preset",
        f"largest N solved in >= {need}/{seeds} seeds",
        f"bsuite deep_sea score, N in {{{score_sizes}}}: mean over seeds [min, max]",
        "steps/s (median)",
    ]
    table = []
    for agent in agents:
        largest = largest_solved(rows, agent, sizes, seeds)
        scores = seed_scores(rows, agent, sizes)
        values = list(scores.values())
        score = f"{np.mean(values):.2f} [{min(values):.2f}, {max(values):.2f}]" if values else "-"
        speeds = [r.steps_per_second for r in rows if r.agent == agent]
        speed = f"{np.median(speeds):.0f}" if speeds else "-"
        table.append([f"`{agent}`", "none" if largest is None else str(largest), score, speed])
    lines += ["## Per preset", "", markdown_table(header, table), ""]
    lines += [
        f"The score is bsuite's over the sizes run here, not over bsuite's 21 sizes ({bsuite_sizes}); bsuite scores "
        "one run per size, so each seed gives one score and the table shows their mean and range.",
        "",
        "## Episodes to solve",
        "",
        "Median over seeds (an unsolved run counts as never), range over the solved runs, and solved/runs; "
        f"`**` marks a size solved in >= {need} of {seeds} seeds. Dithering needs about 2^N episodes.",
        "",
    ]
    header = ["N", "2^N", *[f"`{a}`" for a in agents]]
    table = [[str(n), str(2**n), *[_episodes_text(cell(rows, a, n), need) for a in agents]] for n in sizes]
    lines += [markdown_table(header, table), "", "Figure: [scaling](figures/scaling.png)", ""]
    return "\n".join(lines)


def scaling_figure(rows: Sequence[Row], agents: Sequence[str], sizes: Sequence[int], episodes: int) -> Any:
    """Episodes-to-solve against N (log y) per preset, per-seed points, beside bsuite's ``2**N`` line.

    As bsuite's ``plot_scaling``: solved runs are points at their solve episode, unsolved runs crosses at the
    episode they stopped at; the dashed black line is ``2**N``. Lines join the per-size medians; each preset is
    shifted a little sideways so that the presets do not hide one another.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(sizes)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = plt.get_cmap("tab10")
    width = 0.25 * (min(np.diff(sizes)) if len(sizes) > 1 else 1)
    for i, agent in enumerate(agents):
        colour = colours(i % 10)
        offset = width * ((i + 0.5) / len(agents) - 0.5)
        runs = [r for r in rows if r.agent == agent]
        solved = [r for r in runs if r.solved_episode is not None]
        failed = [r for r in runs if r.solved_episode is None]
        if solved:
            x = [r.size + offset for r in solved]
            ax.scatter(x, [float(r.solved_episode or 0) for r in solved], color=colour, alpha=0.6, s=18, marker="o")
        if failed:
            x = [r.size + offset for r in failed]
            ax.scatter(x, [r.episodes for r in failed], color=colour, alpha=0.6, s=24, marker="x")
        medians = [(n + offset, cell(rows, agent, n).median) for n in sizes]
        points = [(n, m) for n, m in medians if math.isfinite(m)]
        if points:
            ax.plot(*zip(*points, strict=True), color=colour, marker="s", label=f"{agent} (median)")
        else:
            ax.plot([], [], color=colour, marker="s", label=f"{agent} (never solved)")
    line_x, line_y = dithering_line(sizes)
    ax.plot(line_x, line_y, color="black", linestyle="--", alpha=0.4, linewidth=1.5, label="2^N (dithering)")
    ax.axhline(episodes, color="grey", linestyle=":", linewidth=1, label=f"budget ({episodes} episodes)")
    ax.set_yscale("log")
    drawn = [r.solved_episode or r.episodes for r in rows if r.agent in agents] + [2 ** min(sizes)]
    ax.set_ylim(10 ** math.floor(math.log10(max(1, min(drawn)))), 3 * episodes)
    ax.set_xticks(sizes)
    ax.set_xlabel("deep sea problem size N")
    ax.set_ylabel("#episodes until < 90% bad episodes (log)")
    ax.set_title("DeepSea scaling (o solved, x unsolved: stopped)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def save_figure(fig: Any, path: Path) -> Path:
    """Write ``fig`` to ``path`` atomically and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------------- the command
def validate(config: ScalingConfig) -> list[RunSpec]:
    """Check every name and number before any work; return the grid, each run planned once (its plan and its
    content key)."""
    if not config.agents:
        raise ValueError("--agents needs at least one preset")
    if not config.sizes:
        raise ValueError("--sizes needs at least one size")
    for size in config.sizes:
        check_int("--sizes", size, 2, MAX_SIZE)
    if len(set(config.sizes)) != len(config.sizes):
        raise ValueError(f"--sizes {config.sizes} names a size more than once")
    if len(set(config.agents)) != len(config.agents):
        raise ValueError(f"--agents {config.agents} names a preset more than once")
    check_int("--seeds", config.seeds, 1, MAX_SEEDS)
    check_int("--episodes", config.episodes, 1)
    check_choice("--horizon", config.horizon, HORIZONS)
    config.sweep.check()
    check_out(config.out)
    presets = load_presets(config.presets) if config.presets else None  # read once
    planner = Planner(deep_sea_env, functools.partial(get_agent, presets=presets))
    for agent in config.agents:
        check_compatible(planner.agent(agent), planner.env(env_name(min(config.sizes))))
    options = {"metrics": config.metrics, "max_episodes": config.episodes, "horizon": config.horizon}
    frozen = tuple(sorted(options.items()))
    specs = []
    for size in config.sizes:
        for agent in config.agents:
            for seed in range(config.seeds):
                spec = RunSpec(env_name(size), agent, seed, config.episodes * size, frozen)
                specs.append(plan_scaling_spec(spec, planner))
    return specs


def finished_rows(store: RunStore, specs: Sequence[RunSpec]) -> list[Row]:
    """The rows of the grid's finished runs whose records pass :func:`check_scaling_record` (results of other
    settings, of runs outside the grid and corrupt ones left out; the corrupt ones noted in the store)."""
    if store.check is not check_scaling_record:  # the report reads checked records only, however opened
        store = RunStore(store.root, check_scaling_record, store.problems)
    results = store.finished(specs)
    return sorted((Row.from_result(r) for r in results), key=lambda r: (r.agent, r.size, r.seed))


def write_outputs(config: ScalingConfig, store: RunStore, specs: Sequence[RunSpec], command: str) -> str:
    """Write ``scaling.csv``, ``report.md`` and ``figures/scaling.png``; return the report."""
    with store.report_lock():
        rows = finished_rows(store, specs)
        write_text_atomic(store.root / "scaling.csv", csv_text(rows))
        ignored = len(store.outside(specs))
        text = report_text(rows, config.agents, config.sizes, config.seeds, config.episodes, command, ignored)
        write_text_atomic(store.root / "report.md", text)
        fig = scaling_figure(rows, config.agents, config.sizes, config.episodes)
        save_figure(fig, store.root / "figures" / "scaling.png")
    return text


def main(args: Sequence[str] | None = None) -> None:
    """The ``rlfloor-scaling`` command."""
    config = tyro.cli(ScalingConfig, prog="rlfloor-scaling", description=__doc__, args=args)
    command = " ".join(["rlfloor-scaling", *(sys.argv[1:] if args is None else args)])
    specs = checked(lambda: validate(config))
    store = open_store(config.out)  # the first thing written, after every check
    try:
        summary = run_sweep_cli(specs, scaling_run, store, config.sweep)
    except (ValueError, ImportError) as error:
        refuse(error)
    print(write_outputs(config, store, specs, command))
    print(f"report: {store.root / 'report.md'}")
    exit_if_failed(summary)


__all__ = ["ScalingConfig", "SolveStop", "main", "plan_scaling_spec", "scaling_run", "validate", "write_outputs"]
