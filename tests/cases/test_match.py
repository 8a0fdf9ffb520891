"""The matcher: literals, every operator, and failures that carry the path, the expected and the actual."""

from __future__ import annotations

import time

import pytest

from conformance.cases.jsonpath import WILDCARD
from conformance.cases.match import (
    ABSENT_OK,
    MISSING,
    OPERATORS,
    STEP_TIME,
    MatchFailure,
    PathError,
    get_path,
    has_wildcard,
    is_operator,
    match,
    matches,
    parse_path,
    step_time,
)


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


def test_every_failure_names_its_matcher():
    assert failure({"$regex": "^a"}, "b").matcher == "$regex"
    assert failure("a", "b").matcher == "equals"
    assert failure({"a": 1}, {}).matcher == "equals"
    assert failure({"a": 1}, [1]).matcher == "type"
    assert failure({"$not": {"$eq": 1}}, 1).matcher == "$not"
    assert failure({"$each": {"$type": "int"}}, "x").matcher == "$each"
    inner = failure({"$each": {"$regex": "^r"}}, ["r1", "x"])
    assert (inner.matcher, inner.path) == ("$regex", "$[1]")   # the innermost matcher that judged it
    assert failure({"$len": 1}, {}).matcher == "$len"


def test_wildcard_paths_select_lists():
    doc = {"results": [{"id": "a"}, {"x": 1}, {"id": "b"}], "p": {"k1": {"v": 1}, "k2": {"v": 2}}}
    assert parse_path("$.results[*].id")[1] is WILDCARD and has_wildcard("$.results[*].id")
    assert get_path(doc, "$.results[*].id") == ["a", "b"]         # elements the rest misses are left out
    assert get_path(doc, "$.p[*].v") == [1, 2]                     # a mapping's values
    assert get_path(doc, "$.results[*]") == doc["results"]
    assert get_path({"a": [[1, 2], [3]]}, "$.a[*][*]") == [1, 2, 3]
    assert get_path(doc, "$.nothing[*].id") is MISSING
    assert get_path({"results": []}, "$.results[*].id") == []
    assert get_path({"*": 1}, '$["*"]') == 1 and not has_wildcard('$["*"]')


def test_not_fails_on_a_missing_value_unless_absent_ok():
    found = failure({"state": {"$not": {"$eq": "complete"}}}, {})
    assert (found.path, found.message, found.matcher) == ("$.state", "missing", "$not")
    match({"state": {"$not": {"$eq": "complete"}, "$absent_ok": True}}, {})
    match({"state": {"$not": {"$eq": "complete"}, "$absent_ok": True}}, {"state": "pending"})
    assert not matches({"$not": {"$eq": "complete"}, "$absent_ok": True}, "complete")
    match({"a": {"$regex": "^x", "$absent_ok": True}}, {})          # any operator, not only $not
    assert not matches({"$regex": "^x", "$absent_ok": True}, "y")
    assert is_operator({"$not": 1, "$absent_ok": True}) and not is_operator({"$absent_ok": True})


def test_each():
    match({"$each": {"$type": "string"}}, ["a", "b"])
    match({"$each": {"$type": "string"}}, [])
    match({"$each": {"$regex": "^v"}}, {"k": "v1", "j": "v2"})
    found = failure({"$each": {"id": {"$regex": "^record-"}}}, [{"id": "record-1"}, {"id": "file-2"}])
    assert (found.path, found.actual) == ("$[1].id", "file-2")


def test_non_decreasing():
    match({"$non_decreasing": True}, [1, 1, 2, 5.5])
    match({"$non_decreasing": True}, [])
    match({"$non_decreasing": True}, ["a", "b", "b"])
    found = failure({"$non_decreasing": True}, [1, 3, 2])
    assert found.matcher == "$non_decreasing" and "element 2 (2) is smaller than element 1 (3)" in found.message
    assert not matches({"$non_decreasing": True}, [1, "2"])       # mixed kinds are not ordered
    assert not matches({"$non_decreasing": True}, [True, False])  # booleans are not numbers here
    assert not matches({"$non_decreasing": True}, {"a": 1})


def test_negative_indexes_count_from_the_end():
    assert parse_path("$.t[-1].s") == ("t", -1, "s")
    doc = {"t": [{"s": "a"}, {"s": "b"}]}
    assert get_path(doc, "$.t[-1].s") == "b" and get_path(doc, "$.t[-2].s") == "a"
    assert get_path(doc, "$.t[-3]") is MISSING


def test_unique():
    match({"$unique": True}, ["a", "b", 1, "1", True, 1.0])   # JSON equality keeps 1, "1", true, 1.0 apart
    found = failure({"$unique": True}, ["a", "b", "a"])
    assert found.matcher == "$unique" and "elements 0 and 2" in found.message
    assert not matches({"$unique": True}, [{"a": 1, "b": 2}, {"b": 2, "a": 1}])
    assert not matches({"$unique": True}, "ab")


def test_set_eq():
    match({"$set_eq": ["a", "b"]}, ["b", "a"])
    found = failure({"$set_eq": ["a", "b", "c"]}, ["a", "d"])
    assert found.message == 'not the same elements: missing ["b", "c"]; extra ["d"]'
    assert failure({"$set_eq": ["a", "b"]}, ["b", "a", "a"]).message == 'not the same elements: extra ["a"]'
    assert failure({"$set_eq": ["a", "a"]}, ["a"]).message == 'not the same elements: missing ["a"]'
    assert not matches({"$set_eq": [1]}, [1.0]) and not matches({"$set_eq": []}, "x")


def test_contains_a_list_of_elements():
    match({"$contains": ["a", "c"]}, ["a", "b", "c"])
    match({"$contains": [{"id": "x"}]}, [{"id": "x", "n": 1}])
    found = failure({"$contains": ["a", "z", "y"]}, ["a"])
    assert found.message == 'no element matches "z" (nor 1 more)' and found.matcher == "$contains"
    match({"$contains": {"$eq": [1, 2]}}, [[1, 2], [3]])         # a list element itself, with $eq
    match({"$contains": "b"}, ["a", "b"])


def test_within_ms_of_now():
    with step_time(1_000_000, 1_000_050):
        match({"$within_ms_of_now": 1000}, 999_000)
        match({"$within_ms_of_now": 1000}, 1_001_050)
        early = failure({"$within_ms_of_now": 1000}, 998_999)
        assert early.matcher == "$within_ms_of_now" and "1001 ms before the step ran" in early.message
        assert "ms after" in failure({"$within_ms_of_now": 0}, 1_000_051).message
        assert not matches({"$within_ms_of_now": 1000}, "1000000")
        assert not matches({"$within_ms_of_now": 1000}, 1_000)     # seconds, not ms
    now = int(time.time() * 1000)
    match({"$within_ms_of_now": 60_000}, now)                      # outside a step: the current time
    assert STEP_TIME.get() is None


def test_the_operator_table_the_schema_and_the_matcher_agree():
    import json

    from conformance.cases.match import _OPERATORS
    from conformance.resources import schemas_dir

    schema = json.loads((schemas_dir() / "meta" / "case-file.schema.json").read_text())
    assert set(_OPERATORS) == OPERATORS
    assert set(schema["$defs"]["operator"]["properties"]) == OPERATORS | {ABSENT_OK}
