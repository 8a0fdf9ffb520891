"""Walk an input schema and a body together: every position with the schema node that governs it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from referencing.jsonschema import DRAFT202012

from ..spec import Spec

MAX_DEPTH = 48
ABSENT: Any = object()


@dataclass(frozen=True)
class Position:
    """A place in a body (`path` of keys and indexes) and a schema node that applies there.
    `value` is ABSENT for a declared property the body does not have."""

    path: tuple
    node: dict
    value: Any
    resolver: Any = None     # resolves the node's relative $refs

    @property
    def present(self) -> bool:
        return self.value is not ABSENT


def input_schema(spec: Spec, route: str) -> tuple[dict, Any] | None:
    """(input schema node, resolver) of a route, or None when the spec has none."""
    uri = spec.schema_uri(route)
    if uri is None:
        return None
    resolved = spec.registry.resolver().lookup(f"{uri}#/$defs/input")
    return resolved.contents, resolved.resolver


def json_types(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"integer", "number"} if value.is_integer() else {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, list):
        return {"array"}
    if isinstance(value, dict):
        return {"object"}
    return {"null"} if value is None else set()


def resolve(node: Any, resolver: Any) -> tuple[Any, Any]:
    for _ in range(MAX_DEPTH):
        if not (isinstance(node, dict) and "$ref" in node):
            break
        resolved = resolver.lookup(node["$ref"])
        node, resolver = resolved.contents, resolved.resolver
    return node, resolver


def allowed_types(node: Any, resolver: Any, depth: int = 0) -> set[str] | None:
    """The JSON types a node admits (None: any). Looks through $ref, allOf and anyOf/oneOf branches."""
    node, resolver = resolve(node, resolver)
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return None
    if "type" in node:
        declared = node["type"] if isinstance(node["type"], list) else [node["type"]]
        return set(declared) | ({"integer"} if "number" in declared else set())
    if "enum" in node:
        return set().union(*(json_types(v) for v in node["enum"])) if node["enum"] else set()
    for part in node.get("allOf", ()):
        found = allowed_types(part, resolver, depth + 1)
        if found is not None:
            return found
    for keyword in ("anyOf", "oneOf"):
        if keyword in node:
            union: set[str] = set()
            for branch in node[keyword]:
                found = allowed_types(branch, resolver, depth + 1)
                if found is None:
                    return None
                union |= found
            return union
    return None


def positions(node: Any, value: Any, resolver: Any, path: tuple = (), depth: int = 0) -> Iterator[Position]:
    """Every (path, node) pair of the walk, the node resolved; a path may appear under several nodes."""
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return
    if "$id" in node and depth:
        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        yield from positions(resolved.contents, value, resolved.resolver, path, depth + 1)
    yield Position(path, node, value, resolver)
    for part in node.get("allOf", ()):
        yield from positions(part, value, resolver, path, depth + 1)
    if value is ABSENT:
        return
    for keyword in ("anyOf", "oneOf"):
        for branch in node.get(keyword, ()):
            types = allowed_types(branch, resolver)
            if types is None or json_types(value) & types:
                yield from positions(branch, value, resolver, path, depth + 1)
    if isinstance(value, dict):
        yield from _object_positions(node, value, resolver, path, depth)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value):
            yield from positions(node["items"], item, resolver, path + (index,), depth + 1)


def _object_positions(node: dict, value: dict, resolver: Any, path: tuple, depth: int) -> Iterator[Position]:
    properties = node.get("properties") or {}
    patterns = node.get("patternProperties") or {}
    additional = node.get("additionalProperties")
    for key, sub in properties.items():
        yield from positions(sub, value.get(key, ABSENT), resolver, path + (key,), depth + 1)
    for key, item in value.items():
        matched = key in properties
        for pattern, sub in patterns.items():
            if re.search(pattern, key):
                matched = True
                yield from positions(sub, item, resolver, path + (key,), depth + 1)
        if not matched and isinstance(additional, dict):
            yield from positions(additional, item, resolver, path + (key,), depth + 1)


def get_at(body: Any, path: tuple) -> Any:
    for part in path:
        body = body[part]
    return body


def set_at(body: Any, path: tuple, value: Any) -> Any:
    """A copy of `body` with the value at `path` replaced (or added); the root itself when path is ()."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        copy = dict(body)
        copy[head] = set_at(body.get(head), rest, value)
        return copy
    copy = list(body)
    copy[head] = set_at(body[head], rest, value)
    return copy


def delete_at(body: Any, path: tuple) -> Any:
    if len(path) == 1:
        return {k: v for k, v in body.items() if k != path[0]}
    head = path[0]
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[head] = delete_at(body[head], path[1:])
    return copy
