"""The seams of the package, enforced: who may import whom (see docs/architecture in the README)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "conformance"

# package prefix -> the conformance modules it may import (besides itself)
ALLOWED = {
    "conformance.refserver": {"conformance.refserver"},
    "conformance.spec": {"conformance.spec", "conformance.resources"},
    "conformance.model": {"conformance.model"},
    "conformance.checks": {"conformance.checks", "conformance.model", "conformance.spec", "conformance.resources"},
    "conformance.cases": {"conformance.cases", "conformance.model", "conformance.spec", "conformance.resources"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    name = module_name(path)
    return imported_by(path.read_text(), name if path.name == "__init__.py" else name.rpartition(".")[0])


def imported_by(source: str, package: str) -> set[str]:
    """Absolute names of every conformance module `source` imports (relative imports resolved)."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
    return {m for m in found if m == "conformance" or m.startswith("conformance.")}


def governed(name: str) -> str | None:
    for prefix in ALLOWED:
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return None


FILES = sorted(p for p in PACKAGE.rglob("*.py") if governed(module_name(p)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: module_name(p))
def test_module_respects_its_seam(path: Path) -> None:
    prefix = governed(module_name(path))
    allowed = ALLOWED[prefix]
    bad = {m for m in imported_modules(path)
           if not any(m == a or m.startswith(a + ".") for a in allowed)}
    assert not bad, f"{module_name(path)} may import only {sorted(allowed)}, imports {sorted(bad)}"


def test_the_rule_catches_a_violation() -> None:
    # The checker itself must be able to fail: a refserver module importing the engine is flagged.
    found = imported_by("from ..checks import protocol\nimport conformance.spec\nfrom . import db\n",
                        "conformance.refserver")
    assert found == {"conformance.checks", "conformance.spec", "conformance.refserver"}
