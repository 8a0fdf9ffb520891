"""The matcher: literals, every operator, and failures that carry the path, the expected and the actual."""

from __future__ import annotations

import pytest

from conformance.cases.match import MISSING, MatchFailure, PathError, get_path, match, matches, parse_path


def failure(expected, actual) -> MatchFailure:
    with pytest.raises(MatchFailure) as raised:
        match(expected, actual)
    return raised.value


def test_paths():
    assert parse_path("$") == ()
    assert parse_path('$.results[0]["odd key"].id') == ("results", 0, "odd key", "id")
    assert parse_path("$.$dnanexus_link") == ("$dnanexus_link",)
    for bad in ("results", "$.", "$[x]", "$..a"):
        with pytest.raises(PathError):
            parse_path(bad)
    doc = {"results": [{"id": "a"}], "n": None}
    assert get_path(doc, "$.results[0].id") == "a"
    assert get_path(doc, "$.n") is None
    assert get_path(doc, "$.results[1]") is MISSING and get_path(doc, "$.n.x") is MISSING


def test_literal_mappings_match_as_subsets_lists_exactly():
    match({"a": 1}, {"a": 1, "b": 2})
    match([1, {"x": "y"}], [1, {"x": "y", "z": 0}])
    found = failure({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}})
    assert (found.path, found.expected, found.actual) == ("$.a.b[1]", 2, 3)
    assert failure([1, 2], [1]).path == "$" and "2 elements" in failure([1, 2], [1]).message
    assert failure({"a": 1}, {}).message == "missing"


def test_json_types_are_strict():
    assert not matches(1, True) and not matches(True, 1)
    assert not matches(1, 1.0) and not matches("1", 1)
    assert matches(None, None) and not matches(None, MISSING)


def test_dnanexus_link_is_a_literal_key():
    link = {"$dnanexus_link": "file-B0000000000000000000000Q"}
    match(link, dict(link))
    found = failure(link, {"$dnanexus_link": "file-other"})
    assert found.path == '$["$dnanexus_link"]' and parse_path(found.path) == ("$dnanexus_link",)


def test_operators():
    match({"n": {"$type": "int"}, "f": {"$type": "number"}, "i": {"$type": "number"}}, {"n": 3, "f": 1.5, "i": 2})
    assert not matches({"$type": "int"}, True) and not matches({"$type": "int"}, 1.0)
    match({"$regex": "^user-"}, "user-alice")
    assert not matches({"$regex": "x"}, 5)
    match({"$contains": "lo"}, "hello")
    match({"$contains": {"id": "a"}}, [{"id": "b"}, {"id": "a", "x": 1}])
    match({"$contains": {"type": "X"}}, {"type": "X", "message": "m"})
    match({"$keys": ["a", "b"]}, {"b": 1, "a": 2})
    keys = failure({"$keys": ["a", "b"]}, {"a": 1, "c": 2})
    assert "extra ['c']" in keys.message and "missing ['b']" in keys.message
    match({"$len": 2}, [1, 2])
    match({"$len": {"min": 1, "max": 3}}, "ab")
    assert failure({"$len": {"max": 1}}, [1, 2]).actual == 2
    match({"$in": ["open", "closing"]}, "closing")
    match({"$gte": 5}, 5)
    match({"$lte": 5}, 4.5)
    assert not matches({"$gte": 5}, "6")
    match({"$all": [{"$type": "string"}, {"$regex": "^a"}]}, "abc")
    match({"$not": {"$eq": "x"}}, "y")
    assert failure({"$not": {"$type": "string"}}, "s").expected == {"$not": {"$type": "string"}}
    match({"$eq": {"$type": "int"}}, {"$type": "int"})


def test_presence_operators():
    match({"a": {"$any": True}, "b": {"$absent": True}}, {"a": None})
    found = failure({"b": {"$absent": True}}, {"b": 0})
    assert (found.path, found.actual) == ("$.b", 0)
    assert failure({"a": {"$any": True}}, {}).message == "missing"
    assert failure({"a": {"$type": "int"}}, {}).message == "missing"


def test_failure_message_names_the_path():
    found = failure({"results": [{"id": {"$regex": "^file-"}}]}, {"results": [{"id": "record-x"}]})
    assert str(found).startswith("$.results[0].id: ")
