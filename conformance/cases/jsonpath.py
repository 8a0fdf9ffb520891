"""JSON paths of case files: `$.results[0]["odd key"]`, `[-1]` from the end, and `[*]` wildcards that select a
list of values."""

from __future__ import annotations

import json
import re
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>", "__bool__": lambda self: False})()
WILDCARD: Any = type("Wildcard", (), {"__repr__": lambda self: "[*]"})()  # the `[*]` part of a parsed path

# [-1] counts from the end, as in Python: $.stateTransitions[-1] is the last transition.
_PART = re.compile(r'\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\[(\*)\]')


class PathError(ValueError):
    """A JSON path that does not parse."""


def parse_path(path: str) -> tuple[Any, ...]:
    """`$.results[0]["odd key"]` -> ("results", 0, "odd key"); `$.results[*].id` -> ("results", WILDCARD, "id")."""
    if not path.startswith("$"):
        raise PathError(f"JSON path {path!r} must start with $")
    parts: list[str | int] = []
    position = 1
    while position < len(path):
        found = _PART.match(path, position)
        if not found:
            raise PathError(f"JSON path {path!r}: cannot read from {path[position:]!r}")
        parts.append(_part(found))
        position = found.end()
    return tuple(parts)


def _part(found: re.Match) -> Any:
    name, index, quoted, star = found.groups()
    if name is not None:
        return name
    if index is not None:
        return int(index)
    return WILDCARD if star else json.loads(quoted)


def has_wildcard(path: str | tuple) -> bool:
    """True when the path selects a list of values (it holds `[*]`)."""
    return any(part is WILDCARD for part in (parse_path(path) if isinstance(path, str) else path))


def _step(node: Any, part: str | int) -> Any:
    if isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node):
        return node[part]
    if isinstance(part, str) and isinstance(node, dict) and part in node:
        return node[part]
    return MISSING


def get_path(document: Any, path: str | tuple) -> Any:
    """The value at a JSON path, or MISSING if the path leads nowhere.

    A path with `[*]` gives the list of every value it reaches (the elements of a list, the values of a
    mapping), in order, leaving out those the rest of the path does not reach; MISSING only when the part
    before the first `[*]` is not a list or a mapping."""
    parts = parse_path(path) if isinstance(path, str) else tuple(path)
    node = document
    for position, part in enumerate(parts):
        if part is WILDCARD:
            return _spread(node, parts[position + 1:])
        node = _step(node, part)
        if node is MISSING:
            return MISSING
    return node


def _spread(node: Any, rest: tuple) -> Any:
    if isinstance(node, dict):
        items = list(node.values())
    elif isinstance(node, list):
        items = node
    else:
        return MISSING
    found = []
    for item in items:
        value = get_path(item, rest)
        if value is MISSING:
            continue
        found.extend(value if has_wildcard(rest) else [value])
    return found
