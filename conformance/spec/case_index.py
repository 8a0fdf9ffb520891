"""How many cases under cases/ cover each route (for `dxconform routes`), read statically, without running them.

A case covers the route keys of its `routes:` list if it has one, else the routes its steps call. A step's
`route:` is a template such as `/{file}/close`; the class of `{file}` is only known at run time, so it is
inferred: a literal class prefix (`/file-{h}/close`), else a placeholder named after a class (`{file}`,
`{record_2}`), else the one class that has that method. Templates that stay ambiguous are not counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .routes import Route, route_key_of_path, select_routes

CASE_SUFFIXES = (".yaml", ".yml")
_TEMPLATE = re.compile(r"^/(?:([a-z]+)-)?\{([A-Za-z_][A-Za-z0-9_.]*)\}/([A-Za-z][A-Za-z0-9]*)$")


# Cases of this area only probe a route's URL (an absent ID, an empty input): against a server without the
# route they are unsupported, so they show the route is reachable, not that its behaviour is tested.
PROBE_AREA = "url-forms"


@dataclass
class CaseCounts:
    """route key -> number of cases that test it (`per_route`) and of URL-form cases that only probe it
    (`probes`); files that could not be read are listed apart."""

    per_route: Counter = field(default_factory=Counter)
    probes: Counter = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)


class TemplateResolver:
    """Maps a written route (key, concrete path or template) to a route key of the registry, or None."""

    def __init__(self, routes: Iterable[Route]):
        routes = list(routes)
        self._keys = {r.route for r in routes}
        self._entries = [r.as_json() for r in routes]
        self._schema_routes = {"input": {r.route for r in routes if r.has_input_schema},
                               "output": {r.route for r in routes if r.has_output_schema}}
        self._instance_by_method: dict[str, list[str]] = {}
        for r in routes:
            if r.subject_kind == "instance":
                self._instance_by_method.setdefault(r.method, []).append(r.route)

    def for_each(self, filters: dict[str, Any]) -> set[str]:
        """The route keys a `for_each` case expands to (the same selection the case loader makes)."""
        return {entry["route"] for entry in select_routes(filters, self._entries, self._schema_routes)}

    def __call__(self, written: str) -> str | None:
        written = written.split("?", 1)[0]
        if written in self._keys:
            return written
        key = route_key_of_path(written)
        if key in self._keys:
            return key
        m = _TEMPLATE.match(written)
        if not m:
            return None
        prefix, placeholder, method = m.groups()
        if prefix:
            key = f"/{prefix}-xxxx/{method}"
            return key if key in self._keys else None
        for hint in re.split(r"[_.]", placeholder.lower()):
            key = f"/{hint.rstrip('0123456789')}-xxxx/{method}"
            if key in self._keys:
                return key
        candidates = self._instance_by_method.get(method, [])
        return candidates[0] if len(candidates) == 1 else None


def route_values(node: Any) -> Iterator[str]:
    """Every string value of a `route` key, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "route" and isinstance(value, str):
                yield value
            else:
                yield from route_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from route_values(item)


def covered_routes(case: dict[str, Any], resolve: TemplateResolver) -> set[str]:
    """The route keys one case covers: those its `for_each` selects, else its `routes:`, else those its steps
    call (not `finally`)."""
    if isinstance(case.get("for_each"), dict):
        return resolve.for_each(case["for_each"])
    written = case.get("routes")
    if not isinstance(written, list):
        written = list(route_values(case.get("steps") or []))
    return {key for key in map(resolve, (w for w in written if isinstance(w, str))) if key}


def count_cases(cases_root: Path | None, resolve: TemplateResolver) -> CaseCounts:
    """Count, per route key, the cases of the YAML files under `cases_root` that cover it.

    A file without a `cases:` list (not in the case format) counts once for every route it names.
    """
    counts = CaseCounts()
    if cases_root is None or not cases_root.is_dir():
        return counts
    files = sorted(p for p in cases_root.rglob("*") if p.suffix in CASE_SUFFIXES and p.is_file())
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            counts.unreadable.append(file.relative_to(cases_root).as_posix())
            continue
        cases = document.get("cases") if isinstance(document, dict) else None
        defaults = (document.get("defaults") if isinstance(document, dict) else None) or {}
        if isinstance(cases, list):
            for case in cases:
                if isinstance(case, dict):
                    area = case.get("area") or (defaults.get("area") if isinstance(defaults, dict) else None)
                    target = counts.probes if area == PROBE_AREA else counts.per_route
                    target.update(covered_routes(case, resolve))
        else:
            counts.per_route.update({key for key in map(resolve, route_values(document)) if key})
    return counts
