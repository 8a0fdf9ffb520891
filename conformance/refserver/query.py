"""Search filters (findDataObjects, findProjects): input checking and the matchers they compile to.

Pure functions of the input: nothing here touches the database. Each checker raises InvalidInput on a bad
value and returns either a value ready for SQL or a predicate over stored metadata.
Sources: docs "Search" (regexp and glob rules, pagination), dxpy bindings/search.py (what clients send),
digest 5.1.

Name patterns never backtrack without bound: globs and regexps run on RE2 (google-re2), whose matching time
is linear in the name. A regexp RE2 cannot run (the `x` flag, backreferences, lookaround) runs on the
`regex` package with a timeout: the request's remaining time budget (budget.py), at most
FALLBACK_MATCH_SECONDS per name; past it the request is refused with InvalidInput.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import re2
import regex

from . import budget
from .access import LEVELS, RANK
from .errors import InvalidInput
from .limits import MAX_PATTERN_CHARS
from .validate import normalize_folder

# dxpy grows its pages up to 1000 and never asks for more; a larger limit is clamped, not refused, because
# clamping keeps every conforming client working and the docs set no error for it.
MAX_LIMIT = 1000
PERMISSION_LEVELS = LEVELS[1:]  # VIEW .. ADMINISTER; NONE is not something one can ask for
OBJECT_STATES = ("open", "closing", "closed", "any")
VISIBILITIES = ("visible", "hidden", "either")
ARCHIVAL_STATES = ("live", "archival", "archived", "unarchiving", "any")
# Regexp flags a client may pass: PCRE's i, m, s, x. RE2 takes i, m and s inline; x needs the fallback.
REGEXP_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}
RE2_FLAGS = frozenset("ims")
# The longest one name may take to match a regexp on the backtracking fallback engine.
FALLBACK_MATCH_SECONDS = 0.5
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is an answer, not a line on stderr

NameMatcher = Callable[[str], bool]
SetMatcher = Callable[[Collection[str]], bool]
PropertiesMatcher = Callable[[dict], bool]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- names -----------------------------------------------------------------------------------------------
def glob_to_regex(pattern: str) -> str:
    """A glob (`*` any run, `?` one character, `\\` escapes the next character; no `[]`) as a regex (the
    syntax RE2 and Python's re share)."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return "".join(out)


def _pattern(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f'expected key "{key}" of input to be a string')
    if len(value) > MAX_PATTERN_CHARS:
        raise InvalidInput(f'key "{key}" of input is longer than the limit of {MAX_PATTERN_CHARS} characters')
    return value


def _re2(pattern: str, flags: str = "") -> Any:
    """The RE2 program of `pattern` with inline flags, or None if RE2 cannot run it."""
    try:
        return re2.compile(f"(?{flags})" + pattern if flags else pattern, _RE2_OPTIONS)
    except re2.error:
        return None


def regexp_matcher(pattern: Any, flags: Any, key: str) -> NameMatcher:
    """A predicate: the regexp matches somewhere in the name (PCRE search semantics)."""
    pattern = _pattern(pattern, f"{key}.regexp")
    if flags is not None and (not isinstance(flags, str) or any(f not in REGEXP_FLAGS for f in flags)):
        raise InvalidInput(f'expected key "{key}.flags" of input to be a string of regexp flags among "imsx"')
    flags = "".join(dict.fromkeys(flags or ""))
    if set(flags) <= RE2_FLAGS and (program := _re2(pattern, flags)) is not None:
        return lambda name: program.search(name) is not None
    bits = 0
    for f in flags:
        bits |= REGEXP_FLAGS[f]
    try:
        fallback = regex.compile(pattern, bits)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise InvalidInput(f'key "{key}.regexp" of input is not a valid regular expression: {exc}') from None
    return _bounded(fallback, key)


def _bounded(fallback: regex.Pattern, key: str) -> NameMatcher:
    def matches(name: str) -> bool:
        own = budget.current()
        remaining = own.remaining()
        timeout = FALLBACK_MATCH_SECONDS if remaining is None else min(remaining, FALLBACK_MATCH_SECONDS)
        try:
            return fallback.search(name, timeout=timeout) is not None
        except TimeoutError:
            if remaining is not None and remaining <= FALLBACK_MATCH_SECONDS:  # the request's budget ran out
                raise own.error() from None
            raise InvalidInput(f'the regular expression in "{key}.regexp" took more than the limit of '
                               f"{FALLBACK_MATCH_SECONDS:g} s to match one name (it needs the backtracking "
                               "engine: the x flag, a backreference or lookaround); simplify it") from None
    return matches


def name_matcher(value: Any, key: str = "name") -> NameMatcher:
    """`name`: a string (exact match), {"glob": pattern}, or {"regexp": pattern, "flags"?: "i"}.

    A regexp matches anywhere in the name unless anchored, as PCRE does; a glob must match the whole name.
    """
    if isinstance(value, str):
        return value.__eq__
    if isinstance(value, dict) and "glob" in value and "regexp" not in value:
        program = _re2(glob_to_regex(_pattern(value["glob"], f"{key}.glob")), "s")
        if program is None:  # glob_to_regex escapes every metacharacter: cannot happen
            raise InvalidInput(f'key "{key}.glob" of input is not a valid glob pattern')
        return lambda name: program.fullmatch(name) is not None
    if isinstance(value, dict) and "regexp" in value and "glob" not in value:
        return regexp_matcher(value["regexp"], value.get("flags"), key)
    raise InvalidInput(f'expected key "{key}" of input to be a string, or a hash with exactly one of '
                       '"glob" or "regexp"')


# -- tags and types --------------------------------------------------------------------------------------
def set_matcher(value: Any, key: str) -> SetMatcher:
    """`tags` / `type`: a string that must be present, or {"$and": [...]} / {"$or": [...]} of such items
    (nesting allowed). An empty $and matches everything, an empty $or nothing (dxpy sends {"$and": tags})."""
    if isinstance(value, str):
        if not value:
            raise InvalidInput(f'expected key "{key}" of input to be a non-empty string or a $and/$or hash')
        return lambda present: value in present
    if isinstance(value, dict) and len(value) == 1:
        (op, items), = value.items()
        if op in ("$and", "$or") and isinstance(items, list):
            parts = [set_matcher(item, f"{key}.{op}") for item in items]
            combine = all if op == "$and" else any
            return lambda present: combine(p(present) for p in parts)
    raise InvalidInput(f'expected key "{key}" of input to be a non-empty string, or a hash with one key '
                       '"$and" or "$or" whose value is an array')


# -- properties ------------------------------------------------------------------------------------------
def properties_matcher(value: Any, key: str = "properties") -> PropertiesMatcher:
    """`properties`: key -> string (that exact value) or true (present with any value); every entry must
    hold. The keys "$and" / "$or" take arrays of such mappings."""
    if not isinstance(value, dict):
        raise InvalidInput(f'expected key "{key}" of input to be a hash')
    checks: list[PropertiesMatcher] = []
    for k, v in value.items():
        if k in ("$and", "$or"):
            if not isinstance(v, list):
                raise InvalidInput(f'expected key "{key}.{k}" of input to be an array of hashes')
            parts = [properties_matcher(item, f"{key}.{k}") for item in v]
            combine = all if k == "$and" else any
            checks.append(lambda props, parts=parts, combine=combine: combine(p(props) for p in parts))
        elif v is True:
            checks.append(lambda props, k=k: k in props)
        elif isinstance(v, str):
            checks.append(lambda props, k=k, v=v: props.get(k) == v)
        else:
            raise InvalidInput(f'expected key "{key}.{k}" of input to be a string or true')
    return lambda props: all(c(props) for c in checks)


# -- scalar filters --------------------------------------------------------------------------------------
def choice(inp: dict, key: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = inp.get(key, default)
    if value is not None and value not in allowed:
        raise InvalidInput(f'expected key "{key}" of input to be one of {", ".join(allowed)}')
    return value


def level(inp: dict, default: str | None = None) -> str | None:
    """`level`: the minimum permission the caller must hold on the container."""
    return choice(inp, "level", PERMISSION_LEVELS, default)


def levels_at_least(minimum: str) -> tuple[str, ...]:
    return tuple(name for name in PERMISSION_LEVELS if RANK[name] >= RANK[minimum])


def time_range(inp: dict, key: str) -> tuple[int | None, int | None]:
    """`created` / `modified`: {after?, before?}, both inclusive ms timestamps (dxpy's time tests put an
    object made at T inside `before: T + 1000` and outside `before: T - 1000`)."""
    value = inp.get(key)
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise InvalidInput(f'expected key "{key}" of input to be a hash with "after" and/or "before"')
    bounds = []
    for bound in ("after", "before"):
        b = value.get(bound)
        if b is not None and not _is_int(b):
            raise InvalidInput(f'expected key "{key}.{bound}" of input to be an integer timestamp')
        bounds.append(b)
    return bounds[0], bounds[1]


def string_or_strings(inp: dict, key: str) -> list[str] | None:
    """`region`, `billTo`: a string or an array of strings."""
    value = inp.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise InvalidInput(f'expected key "{key}" of input to be a string or an array of strings')


def optional_bool(inp: dict, key: str) -> bool | None:
    value = inp.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f'expected key "{key}" of input to be a boolean')
    return value


def describe_input(inp: dict, key: str = "describe") -> dict | None:
    """`describe`: false/absent -> None; true -> {} (default describe); a mapping -> the describe input."""
    value = inp.get(key, False)
    if value is False or value is None:
        return None
    if value is True:
        return {}
    if isinstance(value, dict):
        return value
    raise InvalidInput(f'expected key "{key}" of input to be a boolean or a hash')


def limit(inp: dict) -> int:
    """`limit`: a positive int, clamped to MAX_LIMIT; MAX_LIMIT when absent."""
    value = inp.get("limit")
    if value is None:
        return MAX_LIMIT
    if not _is_int(value) or value < 1:
        raise InvalidInput('expected key "limit" of input to be a positive integer')
    return min(value, MAX_LIMIT)


def starting(inp: dict, keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """`starting`: the `next` object of an earlier answer, given back unchanged (its `keys` are strings)."""
    value = inp.get("starting")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in keys):
        raise InvalidInput('expected key "starting" of input to be the "next" value of an earlier answer '
                           f"(a hash with string keys {', '.join(keys)})")
    return tuple(value[k] for k in keys)


@dataclass(frozen=True)
class Scope:
    project: str
    folder: str
    recurse: bool


def scope(inp: dict) -> Scope | None:
    """`scope`: {project (required), folder (default "/"), recurse (default true)}."""
    value = inp.get("scope")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput('expected key "scope" of input to be a hash')
    project = value.get("project")
    if not isinstance(project, str) or not project:
        raise InvalidInput('expected key "scope.project" of input to be a non-empty string')
    folder = normalize_folder(value.get("folder", "/"), "scope.folder")
    recurse = value.get("recurse", True)
    if not isinstance(recurse, bool):
        raise InvalidInput('expected key "scope.recurse" of input to be a boolean')
    return Scope(project, folder, recurse)


def folder_clause(column: str, folder: str, recurse: bool) -> tuple[str, list[Any]]:
    """SQL for "the object's folder is `folder`, or (with `recurse`) below it". substr, not LIKE: folder
    names may hold % and _."""
    if not recurse:
        return f"{column} = ?", [folder]
    if folder == "/":
        return "1", []
    prefix = folder + "/"
    return f"({column} = ? OR substr({column}, 1, ?) = ?)", [folder, len(prefix), prefix]
