"""Every script: a tyro dataclass config whose every field has a one-line doc shown in ``--help``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {"train.py": "TrainConfig", "compare.py": "CompareConfig", "bench_ray.py": "BenchConfig"}


def field_docs(script: str, config: str) -> dict[str, str]:
    """``{field: docstring}`` of the config dataclass, read from the script's source."""
    tree = ast.parse((ROOT / "scripts" / script).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == config)
    docs: dict[str, str] = {}
    for node, after in zip(cls.body, [*cls.body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            doc = after.value.value if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) else ""
            docs[node.target.id] = str(doc)
    return docs


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_documents_every_option(script: str) -> None:
    docs = field_docs(script, SCRIPTS[script])
    assert docs and all(docs.values()), [name for name, doc in docs.items() if not doc]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.replace("│", " ").split())
    for name, doc in docs.items():
        assert f"--{name.replace('_', '-')}" in text, name
        assert " ".join(doc.split()) in text, name


def test_compare_keeps_todays_flag_spellings(tmp_path: Path) -> None:
    """Lists, booleans and optional values parse as before (validated by a grid that fails on purpose)."""
    args = ["--envs", "deepsea-6", "cartpole", "--agents", "ppo", "a2c", "--seeds", "2", "--timesteps", "None"]
    args += ["--budget-scale", "0.1", "--workers", "1", "--backend", "local", "--cpus-per-run", "1"]
    args += ["--eval-episodes", "0", "--no-metrics", "--metrics", "--bootstrap-reps", "0", "--max-retries", "1"]
    args += ["--progress", "--no-progress", "--out", str(tmp_path / "o"), "--address", "None"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare.py"), *args], capture_output=True, text=True, timeout=120
    )
    assert done.stderr.strip() == "error: --bootstrap-reps=0 is outside the allowed range [1, inf)", done.stderr
