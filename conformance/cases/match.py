"""Expected versus actual: JSON paths and one recursive matcher whose failure carries both sides and the path."""

from __future__ import annotations

import json
import re
from typing import Any

from ..model import format_path

OPERATORS = frozenset({"$eq", "$any", "$absent", "$type", "$regex", "$contains", "$keys", "$len", "$in",
                       "$gte", "$lte", "$all", "$not"})
# A mapping with one of these keys is a matcher; any other $-key (such as $dnanexus_link) is literal data.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>", "__bool__": lambda self: False})()


class PathError(ValueError):
    """A JSON path that does not parse."""


class MatchFailure(AssertionError):
    """Expected and actual differ at `path`."""

    def __init__(self, path: str, message: str, expected: Any = None, actual: Any = MISSING):
        super().__init__(f"{path}: {message}")
        self.path, self.message, self.expected, self.actual = path, message, expected, actual


# --- JSON paths ---------------------------------------------------------------------------------------------

_PART = re.compile(r'\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def parse_path(path: str) -> tuple[str | int, ...]:
    """`$.results[0]["odd key"]` -> ("results", 0, "odd key")."""
    if not path.startswith("$"):
        raise PathError(f"JSON path {path!r} must start with $")
    parts, position = [], 1
    while position < len(path):
        found = _PART.match(path, position)
        if not found:
            raise PathError(f"JSON path {path!r}: cannot read from {path[position:]!r}")
        name, index, quoted = found.groups()
        parts.append(name if name is not None else int(index) if index is not None else json.loads(quoted))
        position = found.end()
    return tuple(parts)


def get_path(document: Any, path: str | tuple) -> Any:
    """The value at a JSON path, or MISSING if the path leads nowhere."""
    node = document
    for part in parse_path(path) if isinstance(path, str) else path:
        if isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


# --- the matcher --------------------------------------------------------------------------------------------

def is_operator(expected: Any) -> bool:
    return isinstance(expected, dict) and len(expected) == 1 and next(iter(expected)) in OPERATORS


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


def match(expected: Any, actual: Any, path: tuple = ()) -> None:
    """Raise MatchFailure at the first place `actual` does not satisfy `expected`; return None if it does.

    Literal mappings match as subsets (extra keys in actual are fine; use $keys for an exact set); literal
    lists match element by element and by length; scalars by JSON type and value.
    """
    if is_operator(expected):
        operator, argument = next(iter(expected.items()))
        return _OPERATORS[operator](argument, actual, path)
    where = format_path(path)
    if actual is MISSING:
        raise MatchFailure(where, "missing", expected=expected)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise MatchFailure(where, f"expected an object, got {_json_type(actual)}", expected, actual)
        for key, sub in expected.items():
            match(sub, actual.get(key, MISSING), path + (key,))
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            raise MatchFailure(where, f"expected an array, got {_json_type(actual)}", expected, actual)
        if len(expected) != len(actual):
            raise MatchFailure(where, f"expected {len(expected)} elements, got {len(actual)}", expected, actual)
        for index, (sub, item) in enumerate(zip(expected, actual, strict=True)):
            match(sub, item, path + (index,))
    elif not _same_literal(expected, actual):
        raise MatchFailure(where, f"expected {_show(expected)}, got {_show(actual)}", expected, actual)


def matches(expected: Any, actual: Any) -> bool:
    return _matches_at(expected, actual, ())


def _show(value: Any) -> str:
    if value is MISSING:
        return "<missing>"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _present(actual: Any, path: tuple, expected: Any) -> None:
    if actual is MISSING:
        raise MatchFailure(format_path(path), "missing", expected=expected)


def _eq(argument, actual, path):
    _present(actual, path, argument)
    if not _same_literal(argument, actual):
        raise MatchFailure(format_path(path), f"expected {_show(argument)}, got {_show(actual)}",
                           argument, actual)


def _any(argument, actual, path):
    _present(actual, path, "<any value>")


def _absent(argument, actual, path):
    if actual is not MISSING:
        raise MatchFailure(format_path(path), f"expected no value, got {_show(actual)}", "<absent>", actual)


def _type(argument, actual, path):
    _present(actual, path, {"$type": argument})
    if _json_type(actual) != argument and not (argument == "number" and _json_type(actual) == "int"):
        raise MatchFailure(format_path(path), f"expected {argument}, got {_json_type(actual)}",
                           {"$type": argument}, actual)


def _regex(argument, actual, path):
    _present(actual, path, {"$regex": argument})
    if not isinstance(actual, str) or not re.search(argument, actual):
        raise MatchFailure(format_path(path), f"{_show(actual)} does not match /{argument}/",
                           {"$regex": argument}, actual)


def _contains(argument, actual, path):
    _present(actual, path, {"$contains": argument})
    where = format_path(path)
    if isinstance(actual, str):
        if not isinstance(argument, str) or argument not in actual:
            raise MatchFailure(where, f"{_show(actual)} does not contain {_show(argument)}",
                               {"$contains": argument}, actual)
    elif isinstance(actual, list):
        if not any(matches(argument, item) for item in actual):
            raise MatchFailure(where, f"no element matches {_show(argument)}", {"$contains": argument}, actual)
    elif isinstance(actual, dict):
        match(argument, actual, path)
    else:
        raise MatchFailure(where, f"cannot look inside a {_json_type(actual)}", {"$contains": argument}, actual)


def _keys(argument, actual, path):
    _present(actual, path, {"$keys": argument})
    if not isinstance(actual, dict) or set(actual) != set(argument):
        got = sorted(actual) if isinstance(actual, dict) else _json_type(actual)
        detail = ""
        if isinstance(actual, dict):
            extra, missing = sorted(set(actual) - set(argument)), sorted(set(argument) - set(actual))
            detail = "".join([f"; extra {extra}" if extra else "", f"; missing {missing}" if missing else ""])
        raise MatchFailure(format_path(path), f"expected exactly the keys {sorted(argument)}, got {got}{detail}",
                           {"$keys": sorted(argument)}, got)


def _len(argument, actual, path):
    _present(actual, path, {"$len": argument})
    if not isinstance(actual, list | dict | str):
        raise MatchFailure(format_path(path), f"a {_json_type(actual)} has no length", {"$len": argument}, actual)
    low, high = (argument, argument) if isinstance(argument, int) else (argument.get("min"), argument.get("max"))
    if (low is not None and len(actual) < low) or (high is not None and len(actual) > high):
        raise MatchFailure(format_path(path), f"length {len(actual)}, expected {_show(argument)}",
                           {"$len": argument}, len(actual))


def _in(argument, actual, path):
    _present(actual, path, {"$in": argument})
    if not any(_same_literal(option, actual) for option in argument):
        raise MatchFailure(format_path(path), f"{_show(actual)} is not one of {_show(argument)}",
                           {"$in": argument}, actual)


def _compare(name: str, holds):
    def compare(argument, actual, path):
        _present(actual, path, {name: argument})
        if _json_type(actual) not in ("int", "number") or _json_type(argument) not in ("int", "number") \
                or not holds(actual, argument):
            raise MatchFailure(format_path(path), f"{_show(actual)} is not {name[1:]} {_show(argument)}",
                               {name: argument}, actual)
    return compare


def _all(argument, actual, path):
    for sub in argument:
        match(sub, actual, path)


def _not(argument, actual, path):
    if _matches_at(argument, actual, path):
        raise MatchFailure(format_path(path), f"{_show(actual)} should not match {_show(argument)}",
                           {"$not": argument}, actual)


def _matches_at(expected, actual, path) -> bool:
    try:
        match(expected, actual, path)
    except MatchFailure:
        return False
    return True


_OPERATORS = {"$eq": _eq, "$any": _any, "$absent": _absent, "$type": _type, "$regex": _regex,
              "$contains": _contains, "$keys": _keys, "$len": _len, "$in": _in,
              "$gte": _compare("$gte", lambda a, b: a >= b), "$lte": _compare("$lte", lambda a, b: a <= b),
              "$all": _all, "$not": _not}
