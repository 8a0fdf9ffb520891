"""Walk an output schema and an answer together to find the positions the schema marks with x-dx-type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from referencing.jsonschema import DRAFT202012

MAX_DEPTH = 64
DX_TYPES = ("int", "timestamp")


def json_type_names(instance: Any) -> set[str]:
    """The JSON Schema type names an instance satisfies (integer-valued floats count as integer, as in JSON Schema)."""
    if isinstance(instance, bool):
        return {"boolean"}
    if isinstance(instance, int):
        return {"integer", "number"}
    if isinstance(instance, float):
        return {"integer", "number"} if instance.is_integer() else {"number"}
    if isinstance(instance, str):
        return {"string"}
    if isinstance(instance, list):
        return {"array"}
    if isinstance(instance, dict):
        return {"object"}
    return {"null"} if instance is None else set()


def _resolve(node: Any, resolver: Any, depth: int = 0) -> tuple[Any, Any]:
    """Follow a chain of bare $refs (for looking at a branch's type); returns (node, resolver)."""
    while isinstance(node, dict) and "$ref" in node and depth < MAX_DEPTH:
        resolved = resolver.lookup(node["$ref"])
        node, resolver, depth = resolved.contents, resolved.resolver, depth + 1
    return node, resolver


def _compatible(node: Any, resolver: Any, instance: Any) -> bool:
    node, _ = _resolve(node, resolver)
    if not isinstance(node, dict) or "type" not in node:
        return node is not False
    allowed = node["type"] if isinstance(node["type"], list) else [node["type"]]
    return bool(json_type_names(instance) & set(allowed))


def _accepts_fraction(node: Any, resolver: Any) -> bool:
    """True if a union branch takes any number (so a float there is no strict-int violation)."""
    node, _ = _resolve(node, resolver)
    if not isinstance(node, dict) or node.get("x-dx-type") in DX_TYPES:
        return False
    allowed = node.get("type")
    return allowed is None or allowed == "number" or (isinstance(allowed, list) and "number" in allowed)


def dx_typed_positions(schema: Any, instance: Any, resolver: Any,
                       path: tuple = (), depth: int = 0) -> Iterator[tuple[tuple, Any, str]]:
    """Yield (path parts, value, "int"|"timestamp") for every value the schema marks with x-dx-type."""
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return
    if "$id" in schema and depth:
        resolver = resolver.in_subresource(DRAFT202012.create_resource(schema))
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        yield from dx_typed_positions(resolved.contents, instance, resolved.resolver, path, depth + 1)
    if schema.get("x-dx-type") in DX_TYPES:
        yield path, instance, schema["x-dx-type"]
    for sub in schema.get("allOf", ()):
        yield from dx_typed_positions(sub, instance, resolver, path, depth + 1)
    for keyword in ("anyOf", "oneOf"):
        branches = [b for b in schema.get(keyword, ()) if _compatible(b, resolver, instance)]
        if isinstance(instance, float) and any(_accepts_fraction(b, resolver) for b in branches):
            continue
        for sub in branches:
            yield from dx_typed_positions(sub, instance, resolver, path, depth + 1)
    if isinstance(instance, dict):
        yield from _object_positions(schema, instance, resolver, path, depth)
    elif isinstance(instance, list):
        prefix = schema.get("prefixItems", [])
        for index, item in enumerate(instance):
            sub = prefix[index] if index < len(prefix) else schema.get("items")
            if sub is not None:
                yield from dx_typed_positions(sub, item, resolver, path + (index,), depth + 1)


def _object_positions(schema: dict, instance: dict, resolver: Any, path: tuple, depth: int):
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    additional = schema.get("additionalProperties")
    for key, value in instance.items():
        matched = False
        if key in properties:
            matched = True
            yield from dx_typed_positions(properties[key], value, resolver, path + (key,), depth + 1)
        for pattern, sub in patterns.items():
            if re.search(pattern, key):
                matched = True
                yield from dx_typed_positions(sub, value, resolver, path + (key,), depth + 1)
        if not matched and isinstance(additional, dict):
            yield from dx_typed_positions(additional, value, resolver, path + (key,), depth + 1)


def output_schema_node(spec: Any, route: str) -> tuple[Any, Any] | None:
    """(output schema, resolver) of a route from the spec, or None when the spec has none."""
    uri = spec.schema_uri(route) if spec is not None else None
    if not uri:
        return None
    if "#" not in uri:
        uri += "#/$defs/output"
    try:
        resolved = spec.registry.resolver().lookup(uri)
    except Exception:  # an unresolvable schema is the spec's problem, reported by the spec's own tests
        return None
    return resolved.contents, resolved.resolver
