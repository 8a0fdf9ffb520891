"""Walk an output schema and an answer together to find the positions the schema marks with x-dx-type.

The schema is walked as `SchemaNode`s: a node keeps the resolver of its place in the schema, its `$ref`
target and its subschemas once made, and the root node of each route is kept for the process. The walk runs
for every successful answer; resolving each `$ref` through `referencing` every time was most of the
data-type checks' time (about 3 lookups per answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from referencing.jsonschema import DRAFT202012

MAX_DEPTH = 64
DX_TYPES = ("int", "timestamp")
_UNRESOLVED: Any = object()


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


class SchemaNode:
    """One place in a schema: its contents, the resolver of its base URI, and (made on first use, then kept)
    the node its `$ref` points to and its subschemas' nodes."""

    __slots__ = ("schema", "resolver", "_ref", "_subs", "_marks")

    def __init__(self, schema: Any, resolver: Any):
        self.schema = schema
        self.resolver = resolver
        self._ref: Any = _UNRESOLVED
        self._subs: dict[tuple, SchemaNode] = {}
        self._marks: bool | None = None

    @classmethod
    def below(cls, schema: Any, resolver: Any) -> SchemaNode:
        """A node under the walk's root: a `$id` there makes it a resource of its own (a new base URI)."""
        if isinstance(schema, dict) and "$id" in schema:
            resolver = resolver.in_subresource(DRAFT202012.create_resource(schema))
        return cls(schema, resolver)

    def ref(self) -> SchemaNode:
        """The node this node's `$ref` points to (raises referencing's error if it points nowhere)."""
        if self._ref is _UNRESOLVED:
            resolved = self.resolver.lookup(self.schema["$ref"])
            self._ref = SchemaNode.below(resolved.contents, resolved.resolver)
        return self._ref

    def sub(self, key: tuple, schema: Any) -> SchemaNode:
        """The node of the subschema `schema`, found under `key` (keyword, name or index) of this node."""
        node = self._subs.get(key)
        if node is None:
            node = self._subs[key] = SchemaNode.below(schema, self.resolver)
        return node

    def children(self) -> Iterator[SchemaNode]:
        """Every node a walk may go to from this one: its $ref's target and each subschema."""
        schema = self.schema
        if "$ref" in schema:
            yield self.ref()
        for keyword in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for index, sub in enumerate(schema.get(keyword, ())):
                yield self.sub((keyword, index), sub)
        for keyword in ("properties", "patternProperties"):
            for name, sub in schema.get(keyword, {}).items():
                yield self.sub((keyword, name), sub)
        for keyword in ("additionalProperties", "items"):
            if isinstance(schema.get(keyword), dict):
                yield self.sub((keyword,), schema[keyword])

    def marks(self) -> bool:
        """Whether an x-dx-type is here or anywhere a walk may reach from here (False: a walk need not go in)."""
        if self._marks is None:
            self._marks = _reaches_a_mark(self)
        return self._marks


# id(schema) -> (schema, False) for the schemas from which no x-dx-type can be reached (kept: their ids stay
# theirs). A schema object sits at one place of one schema document, so its $refs always resolve alike.
_UNMARKED: dict[int, tuple[Any, bool]] = {}


def _reaches_a_mark(start: SchemaNode) -> bool:
    """Depth-first over the schemas reachable from `start` ($refs followed), each visited once."""
    stack, seen = [start], {}
    while stack:
        node = stack.pop()
        schema = node.schema
        if not isinstance(schema, dict) or id(schema) in seen or id(schema) in _UNMARKED:
            continue
        seen[id(schema)] = schema
        if schema.get("x-dx-type") in DX_TYPES:
            return True
        try:
            stack.extend(node.children())
        except Exception:   # a $ref that resolves nowhere: do not prune (the walk reports it as it did)
            return True
    for key, schema in seen.items():    # nothing reachable from any of them is marked either
        _UNMARKED[key] = (schema, False)
    return False


def _resolve(node: SchemaNode) -> Any:
    """The schema at the end of a chain of bare $refs (for looking at a branch's type)."""
    depth = 0
    while isinstance(node.schema, dict) and "$ref" in node.schema and depth < MAX_DEPTH:
        node, depth = node.ref(), depth + 1
    return node.schema


def _compatible(node: SchemaNode, instance: Any) -> bool:
    schema = _resolve(node)
    if not isinstance(schema, dict) or "type" not in schema:
        return schema is not False
    allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return bool(json_type_names(instance) & set(allowed))


def _accepts_fraction(node: SchemaNode) -> bool:
    """True if a union branch takes any number (so a float there is no strict-int violation)."""
    schema = _resolve(node)
    if not isinstance(schema, dict) or schema.get("x-dx-type") in DX_TYPES:
        return False
    allowed = schema.get("type")
    return allowed is None or allowed == "number" or (isinstance(allowed, list) and "number" in allowed)


def dx_typed_positions(node: SchemaNode, instance: Any) -> list[tuple[tuple, Any, str]]:
    """(path parts, value, "int"|"timestamp") of every number the schema marks with x-dx-type, in document
    order. Only numbers: a string, a boolean or null where an int or a timestamp belongs is the output
    schema's finding, and the walk does not go into them."""
    found: list[tuple[tuple, Any, str]] = []
    _walk(node, instance, (), 0, found)
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _walk(node: SchemaNode, instance: Any, path: tuple, depth: int, found: list) -> None:
    schema = node.schema
    if depth > MAX_DEPTH or not isinstance(schema, dict) or not node.marks():
        return
    if "$ref" in schema:
        _walk(node.ref(), instance, path, depth + 1, found)
    if schema.get("x-dx-type") in DX_TYPES and _is_number(instance):
        found.append((path, instance, schema["x-dx-type"]))
    for index, sub in enumerate(schema.get("allOf", ())):
        _walk(node.sub(("allOf", index), sub), instance, path, depth + 1, found)
    for keyword in ("anyOf", "oneOf"):
        branches = [node.sub((keyword, index), sub) for index, sub in enumerate(schema.get(keyword, ()))]
        branches = [branch for branch in branches if _compatible(branch, instance)]
        if isinstance(instance, float) and any(_accepts_fraction(branch) for branch in branches):
            continue
        for branch in branches:
            _walk(branch, instance, path, depth + 1, found)
    if isinstance(instance, dict):
        _object_positions(node, instance, path, depth, found)
    elif isinstance(instance, list):
        prefix = schema.get("prefixItems", [])
        items = schema.get("items")
        for index, item in enumerate(instance):
            if not isinstance(item, dict | list) and not _is_number(item):
                continue
            if index < len(prefix):
                sub = node.sub(("prefixItems", index), prefix[index])
            elif items is not None:
                sub = node.sub(("items",), items)
            else:
                continue
            _walk(sub, item, path + (index,), depth + 1, found)


def _object_positions(node: SchemaNode, instance: dict, path: tuple, depth: int, found: list) -> None:
    schema = node.schema
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    additional = schema.get("additionalProperties")
    for key, value in instance.items():
        if not isinstance(value, dict | list) and not _is_number(value):
            continue
        matched = False
        if key in properties:
            matched = True
            _walk(node.sub(("properties", key), properties[key]), value, path + (key,), depth + 1, found)
        for pattern, sub in patterns.items():
            if re.search(pattern, key):
                matched = True
                _walk(node.sub(("patternProperties", pattern), sub), value, path + (key,), depth + 1, found)
        if not matched and isinstance(additional, dict):
            _walk(node.sub(("additionalProperties",), additional), value, path + (key,), depth + 1, found)


# (id(spec), route) -> (the spec, kept so that its id is not reused; the route's output schema node or None)
_OUTPUT_NODES: dict[tuple[int, str], tuple[Any, SchemaNode | None]] = {}


def output_schema_node(spec: Any, route: str) -> SchemaNode | None:
    """The node of a route's output schema in the spec (made once per spec and route), or None when the spec
    has none."""
    if spec is None:
        return None
    key = (id(spec), route)
    cached = _OUTPUT_NODES.get(key)
    if cached is None or cached[0] is not spec:
        cached = _OUTPUT_NODES[key] = (spec, _output_schema_node(spec, route))
    return cached[1]


def _output_schema_node(spec: Any, route: str) -> SchemaNode | None:
    uri = spec.schema_uri(route)
    if not uri:
        return None
    if "#" not in uri:
        uri += "#/$defs/output"
    try:
        resolved = spec.registry.resolver().lookup(uri)
    except Exception:  # an unresolvable schema is the spec's problem, reported by the spec's own tests
        return None
    return SchemaNode(resolved.contents, resolved.resolver)
