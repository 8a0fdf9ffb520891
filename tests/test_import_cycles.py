"""No import cycles in the package: between modules of one subpackage, nor between subpackages.

The graph is read from the source with `ast`: every import, at module level or inside a function (a
function-level import that only dodges a cycle is still a cycle), except those under `if TYPE_CHECKING:`,
which never run. `from pkg import name` depends on the module `pkg.name` when there is one, else on `pkg`
(its `__init__`); importing a submodule also runs its parent packages' `__init__`, which is not counted:
else every package whose `__init__` re-exports its modules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "conformance"

# Imports known to close a cycle and owned elsewhere, each with its reason: (importer, imported), where the
# importer may end in `.*` (any direct submodule). These edges are left out of the graph before looking for
# cycles, so any other edge that closes a loop, even among the same modules, still fails the test.
ALLOWED_EDGES: dict[tuple[str, str], str] = {
    # The reference server's route table lives in handlers/__init__.py (ROUTES, @route, @content_route), and
    # its load_all() imports the handler modules, which import @route from the package. Untying it means
    # moving the table to a module of its own (e.g. handlers/table.py) and changing the handler modules'
    # import lines: work for whoever owns the refserver handlers, outside the faults package.
    ("conformance.refserver.handlers.*", "conformance.refserver.handlers"):
        "handler registry in the package __init__ (refserver handlers, not untied here)",
}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path = PACKAGE) -> dict[str, tuple[str, bool]]:
    """module name -> (source, is a package's __init__)."""
    return {module_name(p, root): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
            for p in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, but not the body of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _imports(node)


def dependencies(name: str, source: str, is_package: bool, modules: Iterable[str]) -> set[str]:
    """The package modules `name` imports (relative imports resolved, `from pkg import module` as the module)."""
    modules = set(modules)
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
    # A module not in the tree (a third-party one, or one not written yet) is no edge.
    return {module for module in found if module in modules and module != name}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    found = sources(root)
    return {name: dependencies(name, source, is_package, found) for name, (source, is_package) in found.items()}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def subpackage(module: str) -> str:
    """`conformance.engine.runner` -> `conformance.engine`; top-level modules stand for themselves."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, deps in graph.items():
        own = subpackage(module)
        packages.setdefault(own, set()).update(subpackage(d) for d in deps if subpackage(d) != own)
    return packages


def a_path(graph: Mapping[str, set[str]], component: list[str]) -> list[str]:
    """One concrete loop through the component, for the message: a -> b -> ... -> a."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start] + path[::-1][1:] + [start] if len(path) > 1 else [start, start]
            if child not in previous:
                previous[child] = node
                frontier.append(child)
    return component


def describe(graph: Mapping[str, set[str]], components: list[list[str]]) -> str:
    return "\n".join(f"  {' -> '.join(a_path(graph, c))}   (component: {', '.join(c)})" for c in components)


def matches(entry: tuple[str, str], edge: tuple[str, str]) -> bool:
    """Whether an ALLOWED_EDGES entry (importer or `package.*`, imported) covers one import edge."""
    (pattern, target), (importer, imported) = entry, edge
    if imported != target:
        return False
    if pattern.endswith(".*"):
        parent = pattern[:-2]
        return importer.startswith(parent + ".") and "." not in importer[len(parent) + 1:]
    return importer == pattern


def allowed(edge: tuple[str, str]) -> bool:
    return any(matches(entry, edge) for entry in ALLOWED_EDGES)


def without_allowed(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    return {module: {d for d in deps if not allowed((module, d))} for module, deps in graph.items()}


def test_no_cycle_between_modules() -> None:
    graph = without_allowed(import_graph())
    found = cycles(graph)
    assert not found, "import cycles between modules:\n" + describe(graph, found)


def test_no_cycle_between_subpackages() -> None:
    graph = package_graph(import_graph())
    found = cycles(graph)
    assert not found, "import cycles between subpackages:\n" + describe(graph, found)


def test_every_allowed_edge_still_closes_a_cycle() -> None:
    # An entry whose cycle is gone must leave the list, so that it cannot hide a new one later.
    graph = import_graph()
    component_of = {module: frozenset(c) for c in cycles(graph) for module in c}
    used = {entry for entry in ALLOWED_EDGES for module, deps in graph.items() for d in deps
            if matches(entry, (module, d)) and d in component_of.get(module, ())}
    stale = sorted(set(ALLOWED_EDGES) - used)
    assert not stale, f"allowed edges on no cycle any more (remove them from ALLOWED_EDGES): {stale}"


def test_the_finder_sees_function_level_imports_and_relative_forms(tmp_path: Path) -> None:
    root = tmp_path / "conformance"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("from .a import A\n")
    (root / "sub" / "a.py").write_text("from . import b\nA = 1\n")
    (root / "sub" / "b.py").write_text("def f():\n    from .a import A\n    return A\n")
    (root / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n")
    (root / "other.py").write_text("import conformance.sub.c\n")
    graph = import_graph(root)
    assert graph["conformance.sub"] == {"conformance.sub.a"}
    assert graph["conformance.sub.c"] == set()
    assert graph["conformance.other"] == {"conformance.sub.c"}
    assert cycles(graph) == [["conformance.sub.a", "conformance.sub.b"]]
    assert a_path(graph, ["conformance.sub.a", "conformance.sub.b"]) == [
        "conformance.sub.a", "conformance.sub.b", "conformance.sub.a"]


def test_the_finder_sees_a_cycle_between_subpackages(tmp_path: Path) -> None:
    root = tmp_path / "conformance"
    for sub in ("x", "y"):
        (root / sub).mkdir(parents=True)
        (root / sub / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "x" / "one.py").write_text("from ..y import two\n")
    (root / "y" / "two.py").write_text("from ..x.three import T\n")
    (root / "x" / "three.py").write_text("T = 3\n")
    graph = import_graph(root)
    assert cycles(graph) == []
    assert cycles(package_graph(graph)) == [["conformance.x", "conformance.y"]]


def test_an_allowed_edge_pattern_covers_direct_submodules_only() -> None:
    entry = ("conformance.x.*", "conformance.x")
    assert matches(entry, ("conformance.x.a", "conformance.x"))
    assert not matches(entry, ("conformance.x.a.b", "conformance.x"))
    assert not matches(entry, ("conformance.x.a", "conformance.x.b"))
    assert matches(("conformance.y", "conformance.x"), ("conformance.y", "conformance.x"))
