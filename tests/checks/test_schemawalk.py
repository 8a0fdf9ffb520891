"""The x-dx-type walk: positions found through $refs, unions, maps and lists; each $ref resolved once."""

from __future__ import annotations

from conformance.checks._schemawalk import dx_typed_positions, output_schema_node
from conformance.spec import load_spec

from .fakes import FakeSpec

ROUTE = "/file-xxxx/describe"
ANSWER = {"id": "file-x", "size": 5, "created": 1, "modified": 2, "limit": 3, "ratio": 1.5,
          "parts": {"1": {"size": 7}, "2": {"size": 8}}, "history": [{"setAt": 4}, {"setAt": 5}]}
POSITIONS = [(("size",), 5, "int"), (("created",), 1, "timestamp"), (("modified",), 2, "timestamp"),
             (("limit",), 3, "int"), (("parts", "1", "size"), 7, "int"), (("parts", "2", "size"), 8, "int"),
             (("history", 0, "setAt"), 4, "timestamp"), (("history", 1, "setAt"), 5, "timestamp")]


class CountingSpec(FakeSpec):
    """The fake spec, counting the $ref lookups of every resolver its registry hands out."""

    def __init__(self):
        super().__init__()
        self.lookups = 0
        registry, spec = self.registry, self

        class Counting:
            def resolver(self):
                return CountingResolver(registry.resolver())

        class CountingResolver:
            def __init__(self, inner):
                self.inner = inner

            def lookup(self, ref):
                spec.lookups += 1
                resolved = self.inner.lookup(ref)
                return type(resolved)(contents=resolved.contents, resolver=CountingResolver(resolved.resolver))

            def in_subresource(self, resource):
                return CountingResolver(self.inner.in_subresource(resource))

        self.registry = Counting()


def test_positions_through_refs_unions_maps_and_lists():
    assert sorted(dx_typed_positions(output_schema_node(FakeSpec(), ROUTE), ANSWER)) == sorted(POSITIONS)


def test_each_ref_is_resolved_once_per_process_not_per_answer():
    spec = CountingSpec()
    assert sorted(dx_typed_positions(output_schema_node(spec, ROUTE), ANSWER)) == sorted(POSITIONS)
    first = spec.lookups
    assert first > 0
    for _ in range(3):
        assert sorted(dx_typed_positions(output_schema_node(spec, ROUTE), ANSWER)) == sorted(POSITIONS)
    assert spec.lookups == first


def test_a_route_without_an_output_schema_has_no_node():
    assert output_schema_node(FakeSpec(), "/system/whoami") is None
    assert output_schema_node(None, ROUTE) is None


def test_the_shipped_spec_marks_describe_timestamps():
    node = output_schema_node(load_spec(), "/file-xxxx/describe")
    found = {path: kind for path, _, kind in dx_typed_positions(node, {"created": 1, "modified": 2, "size": 3})}
    assert found[("created",)] == found[("modified",)] == "timestamp"


class OneSchemaSpec:
    """A spec stand-in with one route, /thing-xxxx/describe, whose output schema is `output`."""

    def __init__(self, output: dict):
        import referencing
        from referencing.jsonschema import DRAFT202012

        self.document = {"$id": "https://fake.invalid/thing.json", "$defs": {"output": output}}
        self.registry = referencing.Registry().with_resources(
            [(self.document["$id"], DRAFT202012.create_resource(self.document))])

    def schema_uri(self, route: str) -> str | None:
        return self.document["$id"] if route == "/thing-xxxx/describe" else None


def test_a_subtree_whose_schema_marks_nothing_is_not_walked(monkeypatch):
    import conformance.checks._schemawalk as walk

    spec = OneSchemaSpec({"type": "object", "properties": {
        "created": {"type": "integer", "x-dx-type": "timestamp"},
        "details": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}}}})
    calls = []
    original = walk._walk
    monkeypatch.setattr(walk, "_walk", lambda node, *rest: calls.append(node) or original(node, *rest))
    details = {f"key{i}": list(range(50)) for i in range(100)}
    found = dx_typed_positions(output_schema_node(spec, "/thing-xxxx/describe"), {"created": 7, "details": details})
    assert found == [(("created",), 7, "timestamp")]
    assert len(calls) <= 3      # the root, `created`, and `details` (not gone into)


def test_a_recursive_schema_is_walked_as_deep_as_the_answer_and_its_marks_are_found():
    spec = OneSchemaSpec({"$ref": "#/$defs/output/$defs/tree", "$defs": {"tree": {"type": "object", "properties": {
        "size": {"type": "integer", "x-dx-type": "int"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/output/$defs/tree"}}}}}})
    answer = {"size": 1, "children": [{"size": 2, "children": [{"size": 3, "children": []}]}]}
    found = dx_typed_positions(output_schema_node(spec, "/thing-xxxx/describe"), answer)
    assert [(path, value) for path, value, _ in found] == [
        (("size",), 1), (("children", 0, "size"), 2), (("children", 0, "children", 0, "size"), 3)]
