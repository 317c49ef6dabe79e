"""Every script: a tyro dataclass config whose every field has a one-line doc shown in ``--help``."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from types import ModuleType

import pytest
import tyro

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {
    "train.py": ("rlfloor_cli.train", "TrainConfig"),
    "compare.py": ("rlfloor_cli.compare", "CompareConfig"),
    "deepsea_scaling.py": ("rlfloor_cli.scaling", "ScalingConfig"),
    "measure_references.py": ("rlfloor_cli.references", "Config"),
    "bench_ray.py": ("scripts/bench_ray.py", "BenchConfig"),
}
"""Each script and where its config dataclass lives (a command's module, or the script itself)."""


def load_script(name: str) -> ModuleType:
    """``scripts/{name}`` imported as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), ROOT / "scripts" / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def field_docs(config: type) -> dict[str, str]:
    """``{field: docstring}`` of a tyro config dataclass, read from its source.

    A field annotated ``Annotated[Options, tyro.conf.OmitArgPrefixes]`` is a group of flags without a
    prefix: its own fields (and their docstrings) take its place.
    """
    hints = typing.get_type_hints(config, include_extras=True)
    cls = ast.parse(textwrap.dedent(inspect.getsource(config))).body[0]
    assert isinstance(cls, ast.ClassDef)
    docs: dict[str, str] = {}
    for node, after in zip(cls.body, [*cls.body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            hint = hints[node.target.id]
            if typing.get_origin(hint) is typing.Annotated and tyro.conf.OmitArgPrefixes in typing.get_args(hint):
                docs.update(field_docs(typing.get_args(hint)[0]))
                continue
            doc = after.value.value if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) else ""
            docs[node.target.id] = str(doc)
    return docs


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_documents_every_option(script: str) -> None:
    where, name = SCRIPTS[script]
    module = load_script(script) if where.startswith("scripts/") else importlib.import_module(where)
    docs = field_docs(getattr(module, name))
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
    args += ["--budget-scale", "0.1", "--workers", "1", "--backend", "ray", "--cpus-per-run", "1"]
    args += ["--eval-episodes", "0", "--no-metrics", "--metrics", "--bootstrap-reps", "0", "--max-retries", "1"]
    args += ["--progress", "--no-progress", "--out", str(tmp_path / "o"), "--address", "None"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare.py"), *args], capture_output=True, text=True, timeout=120
    )
    assert done.stderr.strip() == "error: --bootstrap-reps=0 is outside the allowed range [1, 100000]", done.stderr
