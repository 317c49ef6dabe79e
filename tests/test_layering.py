"""The project's layering (DESIGN.md), checked on the source: dependencies point one way and never in a circle.

``scripts -> rlfloor_cli -> agents -> rlfloor -> (SB3, torch)`` and ``rlfloor_cli -> envs -> (gymnasium,
numpy)``: nothing imports rlfloor_cli (the commands), rlfloor imports neither envs nor agents, envs imports
neither agents, torch nor SB3 and of rlfloor only :mod:`rlfloor.checks` (the project's one argument-check
module, pure Python: it imports the standard library only, and ``rlfloor/__init__`` imports nothing), no
module-level import chain among the packages comes back to where it started, every script is thin and no
script edits ``sys.path``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rlfloor", "envs", "agents", "rlfloor_cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported(path: Path, module_level_only: bool) -> set[str]:
    """First-party and other top-level names imported by a file (resolved to modules where they are ones)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:  # include imports nested in module-level try/if blocks, not in functions
        stack, nodes = list(tree.body), []
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, ast.Try | ast.If):
                stack += node.body + node.orelse + [h for t in getattr(node, "handlers", []) for h in t.body]
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                names.add(candidate if candidate in MODULES else node.module)
    return names


def test_the_packages_are_found() -> None:
    assert {"rlfloor.policies", "rlfloor.experiment.run", "envs.suite", "agents.presets"} <= set(MODULES)


PURE = ("rlfloor.checks",)
"""Modules of rlfloor that envs may import: standard library only."""


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("rlfloor", ("envs", "agents", "rlfloor_cli")),
        ("envs", ("rlfloor", "agents", "rlfloor_cli", "torch", "stable_baselines3", "sb3_contrib")),
        ("agents", ("rlfloor_cli",)),
    ],
)
def test_a_lower_layer_never_imports_a_higher_one(package: str, forbidden: tuple[str, ...]) -> None:
    offending = {
        name: sorted(
            n
            for n in imported(path, module_level_only=False)
            if n.split(".")[0] in forbidden and not (package == "envs" and n in PURE)
        )
        for name, path in MODULES.items()
        if name.split(".")[0] == package
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_what_envs_may_import_of_rlfloor_is_pure() -> None:
    import sys

    for name in ("rlfloor", *PURE):
        found = imported(MODULES[name], module_level_only=False) - {"__future__"}
        assert all(n.split(".")[0] in sys.stdlib_module_names for n in found), (name, found)


def test_no_import_cycle() -> None:
    graph = {
        name: {n for n in imported(path, module_level_only=True) if n in MODULES and n != name}
        for name, path in MODULES.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: finished

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_every_script_is_thin() -> None:
    """A script is a tyro config plus a call: under ~100 lines, its logic in a package."""
    long = {p.name: n for p in sorted((ROOT / "scripts").glob("*.py")) if (n := len(p.read_text().splitlines())) > 110}
    assert long == {}


def test_no_script_edits_sys_path() -> None:
    edits = [p.name for p in sorted((ROOT / "scripts").rglob("*.py")) if "sys.path" in p.read_text()]
    assert edits == []
