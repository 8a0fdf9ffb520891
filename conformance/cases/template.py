"""Templates in routes, bodies, headers and expectations: {name} and {name.key} take saved values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Names every run provides without a step saving them: a prefix unique to the run (for names of
# projects and objects, so parallel runs never collide), the id of the case being run (name-safe), the
# project the run works in (the user's --project, or one the run creates and destroys), and the time the
# step is sent, in ms since the epoch (each step, and each try of an `eventually` step, has its own).
NOW_MS = "now_ms"
BUILTIN_NAMES = frozenset({"run_prefix", "case_id", "work_project", NOW_MS})
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


class TemplateError(KeyError):
    """A placeholder names a value nobody saved."""

    def __str__(self) -> str:
        return str(self.args[0])


def names_in(value: Any) -> set[str]:
    """The saved-value names a template (or a JSON value holding templates) refers to."""
    if isinstance(value, str):
        return {m.group(1).split(".", 1)[0] for m in _TOKEN.finditer(value) if m.group(1)}
    if isinstance(value, dict):
        return set().union(*(names_in(k) | names_in(v) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(names_in(item) for item in value)) if value else set()
    return set()


def _lookup(dotted: str, saved: Mapping[str, Any]) -> Any:
    head, *rest = dotted.split(".")
    if head not in saved:
        raise TemplateError(f"{{{dotted}}}: no saved value {head!r} (known: {', '.join(sorted(saved)) or 'none'})")
    node = saved[head]
    for part in rest:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise TemplateError(f"{{{dotted}}}: {head} has no {part!r}")
    return node


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def render_string(template: str, saved: Mapping[str, Any]) -> Any:
    """A string with its placeholders filled. A string that is exactly one placeholder gives the saved value
    itself (keeping ints, lists and mappings); {{ and }} give literal braces."""
    whole = _TOKEN.fullmatch(template)
    if whole and whole.group(1):
        return _lookup(whole.group(1), saved)

    def substitute(found: re.Match) -> str:
        if found.group(1) is None:
            return found.group(0)[0]
        return _as_text(_lookup(found.group(1), saved))

    return _TOKEN.sub(substitute, template)


def render(value: Any, saved: Mapping[str, Any]) -> Any:
    """A JSON value with every string (keys included) rendered."""
    if isinstance(value, str):
        return render_string(value, saved)
    if isinstance(value, dict):
        return {_as_text(render_string(k, saved)): render(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [render(item, saved) for item in value]
    return value


def render_path(path: str, saved: Mapping[str, Any]) -> str:
    """A JSON path with its placeholders filled as text: `$["{project}"]` -> `$["project-xxxx"]`. A value
    lands inside a quoted key, so it is written JSON-escaped (a quote in it cannot end the key)."""

    def substitute(found: re.Match) -> str:
        if found.group(1) is None:
            return found.group(0)[0]
        return json.dumps(_as_text(_lookup(found.group(1), saved)))[1:-1]

    return _TOKEN.sub(substitute, path)


def fill(value: Any, known: Mapping[str, Any]) -> Any:
    """`value` with only the placeholders named in `known` filled (others, and {{ }}, stay as written): how
    `repeat` writes its index {i} into a step at load time. A string that is exactly one such placeholder
    becomes the value itself."""
    if isinstance(value, str):
        return _fill_string(value, known)
    if isinstance(value, dict):
        return {_as_text(_fill_string(k, known)): fill(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(item, known) for item in value]
    return value


def _fill_string(template: str, known: Mapping[str, Any]) -> Any:
    whole = _TOKEN.fullmatch(template)
    if whole and whole.group(1) in known:
        return known[whole.group(1)]

    def substitute(found: re.Match) -> str:
        name = found.group(1)
        return _as_text(known[name]) if name in known else found.group(0)

    return _TOKEN.sub(substitute, template)


def placeholders_as(template: str, stand_in: str) -> str:
    """The template with every placeholder written as `stand_in` (to check the shape of a templated path)."""
    return _TOKEN.sub(lambda found: stand_in if found.group(1) else found.group(0)[0], template)
