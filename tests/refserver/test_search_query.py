"""Unit tests of the search filter checkers and matchers (conformance.refserver.query), without HTTP."""

from __future__ import annotations

import time

import pytest

from conformance.refserver import query
from conformance.refserver.errors import InvalidInput
from conformance.refserver.limits import MAX_PATTERN_CHARS


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("ba*", "bar", True),
        ("ba*", "ba", True),
        ("ba*", "xbar", False),
        ("b?r", "bar", True),
        ("b?r", "baar", False),
        (r"\*a\?x", "*a?x", True),
        (r"\*a\?x", "za?x", False),
        ("a.b", "a.b", True),
        ("a.b", "axb", False),           # regex metacharacters are literal in a glob
        ("[ab]", "[ab]", True),          # no bracket notation: brackets are literal
        ("[ab]", "a", False),
        ("x\\\\y", "x\\y", True),        # an escaped backslash
    ],
)
def test_glob(pattern: str, name: str, expected: bool) -> None:
    assert query.name_matcher({"glob": pattern})(name) is expected


def test_exact_name_is_not_a_pattern() -> None:
    match = query.name_matcher("ba*")
    assert match("ba*") and not match("bar")


def test_regexp_searches_unanchored_and_takes_flags() -> None:
    assert query.name_matcher({"regexp": "ba.*"})("xbaz")
    assert not query.name_matcher({"regexp": "^ba"})("xbaz")
    assert not query.name_matcher({"regexp": "BAR"})("bar")
    assert query.name_matcher({"regexp": "BAR", "flags": "i"})("bar")


@pytest.mark.parametrize("pattern", [r"^(a|a)+$", r"^((a+))+$", r"^(a+|b)+$", r"(a+)+$", r"^(a*)*b$"])
def test_nested_quantifiers_run_in_linear_time(pattern: str) -> None:
    name = "a" * 5000 + "c"
    started = time.monotonic()
    assert query.name_matcher({"regexp": pattern})(name) is False
    assert time.monotonic() - started < 0.5


def test_glob_runs_in_linear_time() -> None:
    started = time.monotonic()
    assert query.name_matcher({"glob": "*a*a*a*a*a*b"})("a" * 3000) is False
    assert query.name_matcher({"glob": "*a*a*a*a*a*b"})("a" * 3000 + "b") is True
    assert time.monotonic() - started < 0.5


def test_what_re2_lacks_runs_on_the_fallback_engine() -> None:
    assert query.name_matcher({"regexp": r"^(ab)\1$"})("abab")
    assert not query.name_matcher({"regexp": r"^(ab)\1$"})("abba")
    assert query.name_matcher({"regexp": r"^a(?=b)"})("ab")
    assert query.name_matcher({"regexp": " b a r  # comment", "flags": "x"})("xbar")
    assert query.name_matcher({"regexp": "^B A R$", "flags": "xi"})("bar")


def test_a_backtracking_fallback_is_cut_at_its_time_limit() -> None:
    matches = query.name_matcher({"regexp": r"^(a|a)+(?=c)\1$"})  # lookaround: the fallback engine
    started = time.monotonic()
    with pytest.raises(InvalidInput, match="took more than the limit"):
        matches("a" * 40 + "b")
    assert time.monotonic() - started < query.FALLBACK_MATCH_SECONDS + 4  # 2**40 paths: it never ends by itself


@pytest.mark.parametrize(
    "value",
    [5, None, ["a"], {}, {"glob": 1}, {"regexp": "("}, {"regexp": "a", "flags": "q"}, {"regexp": "a", "flags": 1},
     {"glob": "a", "regexp": "a"}, {"regexp": "(a)\\2"}],
)
def test_bad_name_filters(value) -> None:
    with pytest.raises(InvalidInput):
        query.name_matcher(value)


def test_set_matcher_compounds() -> None:
    assert query.set_matcher("a", "tags")(["a", "b"])
    assert not query.set_matcher("c", "tags")(["a", "b"])
    both = query.set_matcher({"$and": ["a", "b"]}, "tags")
    assert both(["b", "a"]) and not both(["a"])
    either = query.set_matcher({"$or": ["a", "z"]}, "tags")
    assert either(["z"]) and not either(["b"])
    nested = query.set_matcher({"$and": ["a", {"$or": ["x", "y"]}]}, "tags")
    assert nested(["a", "y"]) and not nested(["a"]) and not nested(["y"])
    assert query.set_matcher({"$and": []}, "tags")([])       # vacuous: dxpy sends {"$and": tags}
    assert not query.set_matcher({"$or": []}, "tags")(["a"])


@pytest.mark.parametrize("value", ["", 3, ["a"], {"$and": "a"}, {"$not": ["a"]}, {"$and": ["a"], "$or": ["b"]},
                                   {"$and": [3]}])
def test_bad_set_filters(value) -> None:
    with pytest.raises(InvalidInput):
        query.set_matcher(value, "tags")


def test_properties_matcher() -> None:
    match = query.properties_matcher({"k": "v", "present": True})
    assert match({"k": "v", "present": "anything"})
    assert not match({"k": "other", "present": "x"})
    assert not match({"k": "v"})
    either = query.properties_matcher({"$or": [{"a": "1"}, {"b": True}]})
    assert either({"b": ""}) and either({"a": "1"}) and not either({"a": "2"})
    assert query.properties_matcher({})({})


@pytest.mark.parametrize("value", ["k", ["k"], {"k": False}, {"k": 1}, {"k": None}, {"$and": {"a": "b"}}])
def test_bad_properties_filters(value) -> None:
    with pytest.raises(InvalidInput):
        query.properties_matcher(value)


def test_limit_defaults_clamps_and_rejects() -> None:
    assert query.limit({}) == query.MAX_LIMIT == 1000
    assert query.limit({"limit": 7}) == 7
    assert query.limit({"limit": 5000}) == 1000
    for bad in (0, -1, 1.5, 2.0, "10", True):
        with pytest.raises(InvalidInput):
            query.limit({"limit": bad})


def test_scope_defaults_and_normalises() -> None:
    s = query.scope({"scope": {"project": "project-B0000000000000000000000Q", "folder": "/a//b/"}})
    assert (s.folder, s.recurse) == ("/a/b", True)
    assert query.scope({}) is None
    for bad in ("project-x", {"folder": "/"}, {"project": 5}, {"project": "p", "folder": "a"},
                {"project": "p", "recurse": "yes"}):
        with pytest.raises(InvalidInput):
            query.scope({"scope": bad})


def test_time_range_and_starting() -> None:
    assert query.time_range({"created": {"after": 1, "before": 2}}, "created") == (1, 2)
    assert query.time_range({}, "created") == (None, None)
    for bad in (5, {"after": "1"}, {"before": 1.5}):
        with pytest.raises(InvalidInput):
            query.time_range({"created": bad}, "created")
    assert query.starting({"starting": {"project": "p", "id": "i"}}, ("project", "id")) == ("p", "i")
    for bad in ("p", {"project": "p"}, {"project": 1, "id": "i"}):
        with pytest.raises(InvalidInput):
            query.starting({"starting": bad}, ("project", "id"))


def test_describe_input_and_choices() -> None:
    assert query.describe_input({}) is None
    assert query.describe_input({"describe": False}) is None
    assert query.describe_input({"describe": True}) == {}
    assert query.describe_input({"describe": {"fields": {"name": True}}}) == {"fields": {"name": True}}
    with pytest.raises(InvalidInput):
        query.describe_input({"describe": "yes"})
    assert query.levels_at_least("CONTRIBUTE") == ("CONTRIBUTE", "ADMINISTER")
    with pytest.raises(InvalidInput):
        query.level({"level": "OWNER"})
    with pytest.raises(InvalidInput):
        query.choice({"state": "gone"}, "state", query.OBJECT_STATES)


def test_folder_clause_does_not_treat_like_wildcards_specially() -> None:
    sql, params = query.folder_clause("folder", "/a_b", True)
    assert "LIKE" not in sql and params == ["/a_b", len("/a_b/"), "/a_b/"]
    assert query.folder_clause("folder", "/", True) == ("1", [])
    assert query.folder_clause("folder", "/x", False) == ("folder = ?", ["/x"])


@pytest.mark.parametrize("kind", ["glob", "regexp"])
def test_patterns_beyond_the_limit_are_refused(kind: str) -> None:
    with pytest.raises(InvalidInput, match=f"limit of {MAX_PATTERN_CHARS} characters"):
        query.name_matcher({kind: "a" * (MAX_PATTERN_CHARS + 1)})
    assert query.name_matcher({kind: "a" * MAX_PATTERN_CHARS})("a" * MAX_PATTERN_CHARS)
