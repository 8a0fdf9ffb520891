"""Who may import whom: model imports nothing of the package; checks and cases stay below the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import conformance

PACKAGE = Path(conformance.__file__).resolve().parent
# module or package -> the conformance subpackages it may import (besides itself)
ALLOWED = {
    "model": set(),
    "redaction": {"model"},
    "checks": {"model", "spec"},
    "cases": {"model", "spec", "resources"},
    "engine": {"model", "spec", "checks", "cases", "resources", "redaction"},
}


def imported_subpackages(path: Path, own: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                depth = len(path.relative_to(PACKAGE).parts) - node.level
                base = list(path.relative_to(PACKAGE).parts[:depth])
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:
                    parts = [alias.name for alias in node.names]
                found.add(parts[0])
            elif node.module and node.module.startswith("conformance."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("conformance.")}
    return found - {own}


def test_imports_respect_the_seams():
    for name, allowed in ALLOWED.items():
        target = PACKAGE / name
        files = [target.with_suffix(".py")] if not target.is_dir() else sorted(target.rglob("*.py"))
        for file in files:
            own = name.removesuffix(".py")
            extra = imported_subpackages(file, own) - allowed
            assert not extra, f"{file.relative_to(PACKAGE)} imports {sorted(extra)}"


# -- the engine's own import graph -----------------------------------------------------------------------------
ENGINE = PACKAGE / "engine"


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes inside `if TYPE_CHECKING:` blocks (never executed: annotations only)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return skipped


def engine_imports(path: Path) -> dict[str, set[str]]:
    """{engine module it imports at run time: the names it takes from it}, from relative `from .x import y`
    and `from . import x` anywhere in the file (in functions too), `if TYPE_CHECKING:` blocks left out."""
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree)
    modules = {p.stem for p in ENGINE.glob("*.py")}
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or id(node) in skipped or node.level != 1:
            continue
        if node.module:
            found.setdefault(node.module.split(".")[0], set()).update(a.name for a in node.names)
        else:
            for alias in node.names:
                target = alias.name if alias.name in modules else "__init__"
                found.setdefault(target, set())
    return found


def engine_graph() -> dict[str, dict[str, set[str]]]:
    return {path.stem: engine_imports(path) for path in sorted(ENGINE.glob("*.py"))}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (as the list of modules around it), or None."""
    state: dict[str, int] = {}    # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def test_the_engine_import_graph_has_no_cycle():
    graph = {name: set(targets) - {"__init__"} for name, targets in engine_graph().items() if name != "__init__"}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    # The loop this test was written against: session -> cleanup -> runner -> session.
    assert find_cycle({"session": {"cleanup"}, "cleanup": {"runner"}, "runner": {"session", "steps"}}) == [
        "cleanup", "runner", "session", "cleanup"]
    assert find_cycle({"runner": {"session", "steps"}, "steps": {"expectations"}, "session": {"cleanup"}}) is None


def test_no_engine_module_imports_another_ones_private_names():
    for module, imports in engine_graph().items():
        private = {f"{target}.{name}" for target, names in imports.items() for name in names
                   if name.startswith("_")}
        assert not private, f"engine/{module}.py imports private names {sorted(private)}"


def test_the_runner_owns_run_fixture_finalisation():
    # cleanup.py only runs the hooks the session was given; the runner hands over its finalisation.
    graph = engine_graph()
    assert "runner" not in graph["cleanup"] and "runner" not in graph["session"]
    runner = ast.parse((ENGINE / "runner.py").read_text())
    assert "finalize_run_fixtures" in {node.name for node in runner.body if isinstance(node, ast.FunctionDef)}
