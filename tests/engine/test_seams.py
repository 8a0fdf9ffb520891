"""Who may import whom: model imports nothing of the package; checks and cases stay below the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import conformance

PACKAGE = Path(conformance.__file__).resolve().parent
# module or package -> the conformance subpackages it may import (besides itself)
ALLOWED = {
    "model": set(),
    "checks": {"model", "spec"},
    "cases": {"model", "spec", "resources"},
    "engine": {"model", "spec", "checks", "cases", "resources"},
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
