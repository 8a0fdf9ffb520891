"""Expected versus actual: one recursive matcher whose failure carries both sides, the path and the matcher."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from ..model import format_path
from .jsonpath import MISSING, PathError, get_path, has_wildcard, parse_path

# A mapping with one of these keys (and at most the modifier ABSENT_OK beside it) is a matcher; any other
# $-key (such as $dnanexus_link) is literal data.
OPERATORS = frozenset({"$eq", "$any", "$absent", "$type", "$regex", "$contains", "$keys", "$len", "$in",
                       "$gte", "$lte", "$all", "$not", "$each", "$unique", "$set_eq", "$within_ms_of_now",
                       "$non_decreasing"})
ABSENT_OK = "$absent_ok"
# The matcher name of a failure no operator judged: a literal compared as JSON, or a container of the wrong type.
EQUALS, TYPE = "equals", "type"
# When the step being judged ran: (sent, answered) in ms since the epoch; None outside a step (then: now).
STEP_TIME: ContextVar[tuple[int, int] | None] = ContextVar("dxconform_step_time", default=None)


class MatchFailure(AssertionError):
    """Expected and actual differ at `path`; `matcher` names what judged it ("$regex", "equals", "type" ...)."""

    def __init__(self, path: str, message: str, expected: Any = None, actual: Any = MISSING,
                 matcher: str = EQUALS):
        super().__init__(f"{path}: {message}")
        self.path, self.message, self.expected, self.actual = path, message, expected, actual
        self.matcher = matcher


@contextlib.contextmanager
def step_time(sent_ms: int, answered_ms: int) -> Iterator[None]:
    """Within this block `$within_ms_of_now` measures from the step's send/answer times."""
    token = STEP_TIME.set((sent_ms, answered_ms))
    try:
        yield
    finally:
        STEP_TIME.reset(token)


# --- what a matcher is --------------------------------------------------------------------------------------

def is_operator(expected: Any) -> bool:
    """A mapping with exactly one operator key, plus optionally `$absent_ok: true`."""
    if not isinstance(expected, dict):
        return False
    keys = [key for key in expected if key != ABSENT_OK]
    return len(keys) == 1 and keys[0] in OPERATORS and len(expected) <= 2


def _operator_of(expected: dict) -> tuple[str, Any, bool]:
    name = next(key for key in expected if key != ABSENT_OK)
    return name, expected[name], expected.get(ABSENT_OK) is True


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _same_literal(expected: Any, actual: Any) -> bool:
    # JSON equality: true is not 1, and 1 is not 1.0 (a server writing 1.0 for an int is a finding).
    if _json_type(expected) != _json_type(actual):
        return False
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(_same_literal(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(_same_literal, expected, actual))
    return expected == actual


def _literal_key(value: Any) -> str:
    """A hashable form of a JSON value under JSON equality (1, 1.0 and true stay apart)."""
    return json.dumps([_json_type(value), value], sort_keys=True, default=repr)


def _show(value: Any) -> str:
    if value is MISSING:
        return "<missing>"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _fail(path: tuple, message: str, expected: Any, actual: Any, matcher: str) -> MatchFailure:
    return MatchFailure(format_path(path), message, expected, actual, matcher)


# --- the matcher --------------------------------------------------------------------------------------------

def match(expected: Any, actual: Any, path: tuple = ()) -> None:
    """Raise MatchFailure at the first place `actual` does not satisfy `expected`; return None if it does.

    Literal mappings match as subsets (extra keys in actual are fine; use $keys for an exact set); literal
    lists match element by element and by length; scalars by JSON type and value. Every operator but
    $absent fails on a missing value, unless `$absent_ok: true` stands beside it.
    """
    if is_operator(expected):
        return _match_operator(expected, actual, path)
    if actual is MISSING:
        raise _fail(path, "missing", expected, actual, EQUALS)
    if isinstance(expected, dict):
        _match_mapping(expected, actual, path)
    elif isinstance(expected, list):
        _match_list(expected, actual, path)
    elif not _same_literal(expected, actual):
        raise _fail(path, f"expected {_show(expected)}, got {_show(actual)}", expected, actual, EQUALS)


def _match_operator(expected: dict, actual: Any, path: tuple) -> None:
    name, argument, absent_ok = _operator_of(expected)
    if actual is MISSING and name != "$absent":
        if absent_ok:
            return
        raise _fail(path, "missing", {name: argument}, actual, name)
    _OPERATORS[name](argument, actual, path)


def _match_mapping(expected: dict, actual: Any, path: tuple) -> None:
    if not isinstance(actual, dict):
        raise _fail(path, f"expected an object, got {_json_type(actual)}", expected, actual, TYPE)
    for key, sub in expected.items():
        match(sub, actual.get(key, MISSING), path + (key,))


def _match_list(expected: list, actual: Any, path: tuple) -> None:
    if not isinstance(actual, list):
        raise _fail(path, f"expected an array, got {_json_type(actual)}", expected, actual, TYPE)
    if len(expected) != len(actual):
        raise _fail(path, f"expected {len(expected)} elements, got {len(actual)}", expected, actual, EQUALS)
    for index, (sub, item) in enumerate(zip(expected, actual, strict=True)):
        match(sub, item, path + (index,))


def matches(expected: Any, actual: Any) -> bool:
    return _matches_at(expected, actual, ())


def _matches_at(expected, actual, path) -> bool:
    try:
        match(expected, actual, path)
    except MatchFailure:
        return False
    return True


# --- operators: (argument, actual, path); `actual` is never MISSING here, except for $absent ---------------

def _eq(argument, actual, path):
    if not _same_literal(argument, actual):
        raise _fail(path, f"expected {_show(argument)}, got {_show(actual)}", argument, actual, "$eq")


def _any(argument, actual, path):
    pass


def _absent(argument, actual, path):
    if actual is not MISSING:
        raise _fail(path, f"expected no value, got {_show(actual)}", "<absent>", actual, "$absent")


def _type(argument, actual, path):
    if _json_type(actual) != argument and not (argument == "number" and _json_type(actual) == "int"):
        raise _fail(path, f"expected {argument}, got {_json_type(actual)}", {"$type": argument}, actual, "$type")


def _regex(argument, actual, path):
    if not isinstance(actual, str) or not re.search(argument, actual):
        raise _fail(path, f"{_show(actual)} does not match /{argument}/", {"$regex": argument}, actual, "$regex")


def _contains(argument, actual, path):
    expected = {"$contains": argument}
    if isinstance(actual, str):
        if not isinstance(argument, str) or argument not in actual:
            raise _fail(path, f"{_show(actual)} does not contain {_show(argument)}", expected, actual, "$contains")
    elif isinstance(actual, list):
        wanted = argument if isinstance(argument, list) else [argument]
        absent = [item for item in wanted if not any(matches(item, element) for element in actual)]
        if absent:
            raise _fail(path, f"no element matches {_show(absent[0])}"
                        + (f" (nor {len(absent) - 1} more)" if len(absent) > 1 else ""), expected, actual, "$contains")
    elif isinstance(actual, dict):
        match(argument, actual, path)
    else:
        raise _fail(path, f"cannot look inside a {_json_type(actual)}", expected, actual, "$contains")


def _keys(argument, actual, path):
    if not isinstance(actual, dict) or set(actual) != set(argument):
        got = sorted(actual) if isinstance(actual, dict) else _json_type(actual)
        detail = ""
        if isinstance(actual, dict):
            extra, missing = sorted(set(actual) - set(argument)), sorted(set(argument) - set(actual))
            detail = "".join([f"; extra {extra}" if extra else "", f"; missing {missing}" if missing else ""])
        raise _fail(path, f"expected exactly the keys {sorted(argument)}, got {got}{detail}",
                    {"$keys": sorted(argument)}, got, "$keys")


def _len(argument, actual, path):
    if not isinstance(actual, list | dict | str):
        raise _fail(path, f"a {_json_type(actual)} has no length", {"$len": argument}, actual, "$len")
    low, high = (argument, argument) if isinstance(argument, int) else (argument.get("min"), argument.get("max"))
    if (low is not None and len(actual) < low) or (high is not None and len(actual) > high):
        raise _fail(path, f"length {len(actual)}, expected {_show(argument)}", {"$len": argument}, len(actual),
                    "$len")


def _in(argument, actual, path):
    if not any(_same_literal(option, actual) for option in argument):
        raise _fail(path, f"{_show(actual)} is not one of {_show(argument)}", {"$in": argument}, actual, "$in")


def _is_number(value: Any) -> bool:
    return _json_type(value) in ("int", "number")


def _compare(name: str, holds):
    def compare(argument, actual, path):
        if not (_is_number(actual) and _is_number(argument) and holds(actual, argument)):
            raise _fail(path, f"{_show(actual)} is not {name[1:]} {_show(argument)}", {name: argument}, actual, name)
    return compare


def _all(argument, actual, path):
    for sub in argument:
        match(sub, actual, path)


def _not(argument, actual, path):
    if _matches_at(argument, actual, path):
        raise _fail(path, f"{_show(actual)} should not match {_show(argument)}", {"$not": argument}, actual, "$not")


def _each(argument, actual, path):
    if isinstance(actual, dict):
        items = list(actual.items())
    elif isinstance(actual, list):
        items = list(enumerate(actual))
    else:
        raise _fail(path, f"expected an array or an object, got {_json_type(actual)}", {"$each": argument},
                    actual, "$each")
    for key, item in items:
        match(argument, item, path + (key,))


def _unique(argument, actual, path):
    if not isinstance(actual, list):
        raise _fail(path, f"expected an array, got {_json_type(actual)}", {"$unique": argument}, actual, "$unique")
    first: dict[str, int] = {}
    for index, item in enumerate(actual):
        key = _literal_key(item)
        if key in first:
            raise _fail(path, f"{_show(item)} is there twice (elements {first[key]} and {index})",
                        {"$unique": argument}, actual, "$unique")
        first[key] = index


def _non_decreasing(argument, actual, path):
    """A list of numbers (or of strings) in which no element is smaller than the one before it."""
    expected = {"$non_decreasing": argument}
    if not isinstance(actual, list):
        raise _fail(path, f"expected an array, got {_json_type(actual)}", expected, actual, "$non_decreasing")
    kinds = {"number" if _is_number(item) else "string" if isinstance(item, str) else "other" for item in actual}
    if "other" in kinds or len(kinds) > 1:
        raise _fail(path, "expected an array of numbers or of strings", expected, actual, "$non_decreasing")
    for index in range(1, len(actual)):
        if actual[index] < actual[index - 1]:
            raise _fail(path, f"element {index} ({_show(actual[index])}) is smaller than element {index - 1} "
                        f"({_show(actual[index - 1])})", expected, actual, "$non_decreasing")


def _set_eq(argument, actual, path):
    expected = {"$set_eq": argument}
    if not isinstance(actual, list) or not isinstance(argument, list):
        raise _fail(path, f"expected an array, got {_json_type(actual)}", expected, actual, "$set_eq")
    wanted, got = _tally(argument), _tally(actual)
    missing = [item for key, (item, count) in wanted.items() for _ in range(count - got.get(key, (item, 0))[1])]
    extra = [item for key, (item, count) in got.items() for _ in range(count - wanted.get(key, (item, 0))[1])]
    if missing or extra:
        parts = [_listed("missing", missing), _listed("extra", extra)]
        raise _fail(path, "not the same elements: " + "; ".join(filter(None, parts)), expected, actual, "$set_eq")


def _tally(items: list) -> dict[str, tuple[Any, int]]:
    """JSON-equal elements counted: key -> (the element, how many times)."""
    counts: dict[str, tuple[Any, int]] = {}
    for item in items:
        key = _literal_key(item)
        counts[key] = (item, counts.get(key, (item, 0))[1] + 1)
    return counts


def _listed(label: str, items: list, shown: int = 5) -> str:
    if not items:
        return ""
    more = f" (+{len(items) - shown} more)" if len(items) > shown else ""
    return f"{label} {_show(items[:shown])}{more}"


def _within_ms_of_now(argument, actual, path):
    sent, answered = STEP_TIME.get() or (int(time.time() * 1000),) * 2
    expected = {"$within_ms_of_now": argument}
    if not (_is_number(actual) and _is_number(argument)):
        raise _fail(path, f"{_show(actual)} is not a timestamp in ms", expected, actual, "$within_ms_of_now")
    if not sent - argument <= actual <= answered + argument:
        off = sent - actual if actual < sent else actual - answered
        when = "before" if actual < sent else "after"
        raise _fail(path, f"{_show(actual)} is {off} ms {when} the step ran ({sent}..{answered}), more than "
                    f"{argument} ms", expected, actual, "$within_ms_of_now")


_OPERATORS = {"$eq": _eq, "$any": _any, "$absent": _absent, "$type": _type, "$regex": _regex,
              "$contains": _contains, "$keys": _keys, "$len": _len, "$in": _in,
              "$gte": _compare("$gte", lambda a, b: a >= b), "$lte": _compare("$lte", lambda a, b: a <= b),
              "$all": _all, "$not": _not, "$each": _each, "$unique": _unique, "$set_eq": _set_eq,
              "$within_ms_of_now": _within_ms_of_now, "$non_decreasing": _non_decreasing}

__all__ = ["ABSENT_OK", "MISSING", "OPERATORS", "MatchFailure", "PathError", "get_path", "has_wildcard",
           "is_operator", "match", "matches", "parse_path", "step_time"]
