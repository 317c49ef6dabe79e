"""scripts/deepsea_scaling.py: stop-on-solve, the report's numbers, the 2**N line, resume, bad input."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents import get_agent
from envs.scoring import bsuite_logged_episodes, deep_sea_score, deep_sea_solved_episode
from rlfloor.experiment import RunSpec
from rlfloor.experiment.run import Planner
from rlfloor_cli import scaling
from tests.scripts.test_cli import field_docs

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "deepsea_scaling.py"


def train(tmp_path: Path, agent: str, size: int, seed: int, max_episodes: int, horizon: str) -> dict[str, Any]:
    """One real run through the script's run function (in this process)."""
    options = tuple(sorted({"max_episodes": max_episodes, "horizon": horizon, "metrics": False}.items()))
    spec = RunSpec(scaling.env_name(size), agent, seed, max_episodes * size, options)
    spec = scaling.plan_scaling_spec(spec, Planner(scaling.deep_sea_env, get_agent))
    result: dict[str, Any] = scaling.scaling_run(spec, tmp_path / spec.run_id)
    return result


def test_stop_on_solve_stops_at_the_solve_episode(tmp_path: Path) -> None:
    """N=4: random play is good 1 episode in 16, so bsuite's criterion is met early; the run ends right there."""
    result = train(tmp_path, "ppo", size=4, seed=0, max_episodes=10_000, horizon="budget")
    flags = [c == "1" for c in result["bad_flags"]]
    solved = result["solved_episode"]
    assert solved is not None and solved in bsuite_logged_episodes(solved)
    assert deep_sea_solved_episode(flags) == solved  # the first crossing, at a logged episode
    assert result["episodes"] == len(flags) == solved  # stopped at the solve episode, not later
    assert result["trained_steps"] == 4 * solved  # every episode lasts N steps; one env
    assert result["timesteps"] == 10_000 * 4  # the budget SB3 was given (its schedules) is bsuite's
    assert result["beat_dithering"] is (solved < 2**4 + 100)
    assert result["total_bad_episodes"] == sum(flags)
    assert result["bad_counts_logged"][-1] == [solved, sum(flags)]
    assert all(count / e >= 0.9 for e, count in result["bad_counts_logged"][:-1])


def test_unsolved_run_stops_at_its_horizon(tmp_path: Path) -> None:
    """N=8 in 40 episodes (320 steps, before PPO's first update): unsolved, stopped at the budget exactly."""
    result = train(tmp_path, "ppo", size=8, seed=0, max_episodes=40, horizon="budget")
    assert result["solved_episode"] is None and not result["beat_dithering"]
    assert result["episodes"] == result["horizon"] == 40 and result["trained_steps"] == 320
    assert deep_sea_solved_episode([c == "1" for c in result["bad_flags"]]) is None
    # --horizon score: an unsolved N=6 run stops at 2**6 + 99 = 163 episodes, the last that can count
    result = train(tmp_path, "ppo", size=6, seed=1, max_episodes=10_000, horizon="score")
    assert result["solved_episode"] is None
    assert result["episodes"] == result["horizon"] == 163 and result["trained_steps"] == 6 * 163


def test_horizon_episodes() -> None:
    assert scaling.horizon_episodes(10, 10_000, "budget") == 10_000
    assert scaling.horizon_episodes(10, 10_000, "score") == 1024 + 99
    assert scaling.horizon_episodes(14, 10_000, "score") == 10_000  # 2**14 + 99 is beyond the budget
    with pytest.raises(ValueError, match="horizon='never'"):
        scaling.horizon_episodes(10, 10_000, "never")


def flags(bad_first: int, length: int) -> str:
    """``bad_first`` bad episodes, then good ones: solved at the first logged e > bad_first / 0.9."""
    return "1" * bad_first + "0" * (length - bad_first)


def row(agent: str, size: int, seed: int, bad_first: int | None, length: int = 2000) -> Any:
    text = flags(length if bad_first is None else bad_first, length)
    solved = deep_sea_solved_episode([c == "1" for c in text])
    return scaling.Row(agent, size, seed, solved, len(text), 10_000, len(text) * size, 10.0, text)


def hand_made() -> list[Any]:
    """a: N=10 solves at 120 (x8), 1200, never; N=20 at 12 (x7), never (x3). b: N=10 never; N=20 at 1200 (x8)."""
    rows = [row("a", 10, s, 90) for s in range(8)] + [row("a", 10, 8, 900), row("a", 10, 9, None)]
    rows += [row("a", 20, s, 9) for s in range(7)] + [row("a", 20, s, None) for s in range(7, 10)]
    rows += [row("b", 10, s, None) for s in range(10)]
    rows += [row("b", 20, s, 900) for s in range(8)] + [row("b", 20, s, None) for s in range(8, 10)]
    return rows


def test_report_numbers_on_a_hand_made_table() -> None:
    rows = hand_made()
    assert [r.solved_episode for r in rows[:10]] == [120] * 8 + [1200, None]  # 90/100 is not < 0.9: 120
    assert rows[10].solved_episode == 12 and rows[-3].solved_episode == 1200
    assert scaling.required_seeds(10) == 8 and scaling.required_seeds(3) == 3 and scaling.required_seeds(5) == 4
    assert scaling.largest_solved(rows, "a", [10, 20], 10) == 10  # 9/10 at N=10, 7/10 at N=20
    assert scaling.largest_solved(rows, "b", [10, 20], 10) == 20  # 0/10, 8/10
    missing = [r for r in rows if not (r.agent == "b" and r.size == 20 and r.seed == 0)]
    assert scaling.largest_solved(missing, "b", [10, 20], 10) is None  # a missing run is not a solved one
    a10, a20, b10 = scaling.cell(rows, "a", 10), scaling.cell(rows, "a", 20), scaling.cell(rows, "b", 10)
    assert (a10.solved, a10.runs, a10.median, a10.low, a10.high) == (9, 10, 120, 120, 1200)
    assert (a20.solved, a20.median, a20.low, a20.high) == (7, 12, 12, 12)
    assert b10.solved == 0 and np.isinf(b10.median) and np.isnan(b10.low)
    # bsuite's score per seed over N in {10, 20}: beat dithering = solved before 2**N + 100 (1124 at N=10)
    scores = scaling.seed_scores(rows, "a", [10, 20])
    assert scores == {**dict.fromkeys(range(7), 1.0), 7: 0.5, 8: 0.0, 9: 0.0}
    assert scores[7] == deep_sea_score({10: rows[7].flags, 20: rows[17].flags})
    assert scaling.seed_scores(rows, "b", [10, 20]) == {**dict.fromkeys(range(8), 0.5), 8: 0.0, 9: 0.0}
    text = scaling.report_text(rows, ["a", "b"], [10, 20], 10, 10_000, "cmd")
    assert "| `a` | 10 | 0.75 [0.00, 1.00] | 3000 |" in text  # 7 x 1 + 0.5: mean 0.75; 2000 x N steps in 10 s
    assert "| `b` | 20 | 0.40 [0.00, 0.50] | 3000 |" in text
    assert "| 10 | 1024 | 120 (120-1200), 9/10 ** | never, 0/10 |" in text
    assert "| 20 | 1048576 | 12 (12-12), 7/10 | 1200 (1200-1200), 8/10 ** |" in text
    table = list(csv.DictReader(scaling.csv_text(rows).splitlines()))
    assert len(table) == 40 and table[0]["solved_episode"] == "120" and table[9]["solved_episode"] == ""
    assert table[8]["beat_dithering"] == "False" and table[0]["beat_dithering"] == "True"


def test_figure_draws_the_dithering_line_and_every_run() -> None:
    rows = hand_made()
    fig = scaling.scaling_figure(rows, ["a", "b"], [10, 20], 10_000)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    (line,) = [li for li in ax.get_lines() if li.get_label() == "2^N (dithering)"]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert x.tolist() == list(range(10, 21)) and np.array_equal(y, 2.0**x)
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(points) == len(rows)  # one point per run
    unsolved = sorted(p[1] for p in points if p[1] == 2000)
    assert len(unsolved) == sum(r.solved_episode is None for r in rows)  # crosses where they stopped
    x_dither, y_dither = scaling.dithering_line([14, 10, 12])
    assert x_dither.tolist() == [10, 11, 12, 13, 14] and y_dither.tolist() == [1024, 2048, 4096, 8192, 16384]


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--no-progress"], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_sweep_writes_outputs_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--agents", "ppo", "ppo-count", "--sizes", "4", "7", "--seeds", "1", "--episodes", "60"]
    args += ["--workers", "1", "--out", str(out)]
    first = run_script(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "sweep: 4 finished, 0 already done, 0 failed" in first.stdout
    rows = list(csv.DictReader((out / "scaling.csv").open()))
    assert len(rows) == 4 and {r["size"] for r in rows} == {"4", "7"}
    for r in rows:
        run_dir = out / "runs" / f"deepsea-{r['size']}__{r['agent']}__s{r['seed']}"
        result = json.loads((run_dir / "result.json").read_text())
        assert int(r["episodes"]) == len(result["bad_flags"]) <= 60
        solved = deep_sea_solved_episode([c == "1" for c in result["bad_flags"]])
        assert (r["solved_episode"] or None) == (None if solved is None else str(solved))
        assert int(r["trained_steps"]) == int(r["size"]) * int(r["episodes"])
    assert "## Episodes to solve" in (out / "report.md").read_text()
    assert (out / "figures" / "scaling.png").stat().st_size > 1000
    second = run_script(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "sweep: 0 finished, 4 already done, 0 failed" in second.stdout  # trains nothing


def test_the_stopping_protocol_is_part_of_a_run_key(tmp_path: Path) -> None:
    def key(**changes: Any) -> str:
        config = scaling.ScalingConfig(agents=["ppo"], sizes=[10], seeds=1, out=str(tmp_path / "o"))
        (spec,) = scaling.validate(dataclasses.replace(config, **changes))
        return str(spec.key)

    base = key()
    assert key(episodes=9_999) != base and key(horizon="score") != base and key(metrics=True) == base


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sizes": [1]}, "--sizes=1 is outside the allowed range [2, 100]"),
        ({"sizes": [10, 10]}, "--sizes [10, 10] names a size more than once"),
        ({"sizes": []}, "--sizes needs at least one size"),
        ({"agents": ["nope"]}, "unknown agent"),
        ({"agents": ["ppo-mask"]}, "agent 'ppo-mask' needs an env with action_masks()"),
        ({"horizon": "forever"}, "--horizon='forever' is not one of 'budget', 'score'"),
        ({"episodes": 0}, "--episodes=0 is outside the allowed range [1, inf)"),
        ({"seeds": 0}, "--seeds=0 is outside the allowed range [1, 10000]"),
    ],
)
def test_bad_input_is_refused_before_any_work(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    config = dataclasses.replace(scaling.ScalingConfig(out=str(tmp_path / "o")), **changes)
    with pytest.raises(ValueError) as error:
        scaling.validate(config)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert not (tmp_path / "o").exists()


def test_bad_input_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    done = run_script("--sizes", "10", "1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2 and not (tmp_path / "o").exists()
    assert done.stderr == "error: --sizes=1 is outside the allowed range [2, 100]\n"


def test_help_documents_every_option() -> None:
    docs = field_docs(scaling.ScalingConfig)
    assert docs and all(docs.values()), [name for name, doc in docs.items() if not doc]
    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.replace("│", " ").split())
    for name, doc in docs.items():
        assert f"--{name.replace('_', '-')}" in text and " ".join(doc.split()) in text, name
