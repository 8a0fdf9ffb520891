"""A step's `expect` against an answer: status, error type, schema, body, text, values and headers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..cases.match import MISSING, MatchFailure, get_path, is_operator, match
from ..cases.model import NO_BODY, Expect
from ..cases.template import render
from ..model import NOT_JSON, Mismatch, Response

# The matcher of a miss that no matcher of match.py judged: a literal value compared as JSON.
EQUALS = "equals"


@dataclass(frozen=True)
class Miss:
    """One expectation the answer does not meet, with its evidence: where, both sides, and which matcher
    judged it (`status`, `error`, `schema`, `json`, `$regex`, `equals`...; '' when the caller named none).
    `actual_missing`: nothing was at `path` (`actual` is then None, which is not a JSON null)."""

    message: str
    path: str = ""
    expected: Any = None
    actual: Any = None
    matcher: str = ""
    actual_missing: bool = False

    def __str__(self) -> str:
        return self.message

    def record(self) -> Mismatch:
        """The miss as the data model's Mismatch (what results.json keeps of it)."""
        missing = self.actual_missing or self.actual is MISSING
        return Mismatch(path=self.path, matcher=self.matcher or "expect", text=self.message,
                        expected=self.expected, actual=None if missing else self.actual, actual_missing=missing)


def matcher_of(failure: MatchFailure) -> str:
    """The matcher that judged a MatchFailure: its own `matcher` when match.py names it, else the operator of
    the expected value ($regex, $type...), else `equals`."""
    named = getattr(failure, "matcher", None)
    if isinstance(named, str) and named:
        return named
    if is_operator(failure.expected):
        return next(iter(failure.expected))
    return EQUALS


def _from_match(prefix: str, failure: MatchFailure, path: str | None = None, matcher: str | None = None) -> Miss:
    missing = failure.actual is MISSING
    return Miss(f"{prefix}{failure}", failure.path if path is None else path, failure.expected,
                None if missing else failure.actual, matcher or matcher_of(failure), missing)


def documented_statuses(types: tuple[str, ...], spec: Any) -> tuple[int, ...] | None:
    """The statuses the error table documents for `types` (their union, sorted), or None when one of them has
    no documented status (then any status >= 400 will do). The table is schemas/types/errors.json
    `x-error-types`, as the spec loads it (`spec.error_types`)."""
    table = getattr(spec, "error_types", None) or {}
    statuses: set[int] = set()
    for name in types:
        status = (table.get(name) or {}).get("status")
        if not isinstance(status, int):
            return None
        statuses.add(status)
    return tuple(sorted(statuses))


def expected_statuses(expect: Expect, spec: Any = None) -> tuple[int, ...] | None:
    """The statuses allowed: as written; else, when an error is expected, those its types document
    (documented_statuses); none written and no error expected means any 2xx (None). An error expectation
    never allows a 2xx (see evaluate)."""
    if expect.status:
        return expect.status
    if expect.error:
        return documented_statuses(expect.error, spec)
    return None


def _shown(statuses: tuple[int, ...]) -> int | list[int]:
    return statuses[0] if len(statuses) == 1 else list(statuses)


def _documented(types: tuple[str, ...], spec: Any) -> str:
    """'PermissionDenied: documented 401; ResourceNotFound: documented 404' (for messages)."""
    table = getattr(spec, "error_types", None) or {}
    parts = []
    for name in types:
        status = (table.get(name) or {}).get("status")
        parts.append(f"{name}: documented {status}" if isinstance(status, int) else f"{name}: no documented status")
    return "; ".join(parts)


def _status_misses(expect: Expect, response: Response, spec: Any) -> list[Miss]:
    status, body = response.status, response.json
    if expect.error:
        # An error expectation is met only by an error answer: dxpy treats any 2xx as a success whatever
        # the body says (DXHTTPRequest raises DXAPIError only on a non-2xx answer), so a 2xx is a miss even
        # if `status` lists it (the case-file loader refuses that combination).
        allowed = expected_statuses(expect, spec)
        written = f"; written status {_shown(expect.status)}" if expect.status else ""
        if 200 <= status < 300:
            errors = tuple(s for s in allowed or () if not 200 <= s < 300)
            return [Miss(f"status {status}, expected an error answer ({_documented(expect.error, spec)}{written})",
                         "status", _shown(errors) if errors else ">= 400", status, "status")]
        if allowed is None:
            if status < 400:
                return [Miss(f"status {status}, expected an error answer ({_documented(expect.error, spec)})"
                             f"{_error_hint(body)}", "status", ">= 400", status, "status")]
            return []
        if status not in allowed:
            why = "" if expect.status else f" ({_documented(expect.error, spec)})"
            return [Miss(f"status {status}, expected {_shown(allowed)}{why}{_error_hint(body)}",
                         "status", _shown(allowed), status, "status")]
        return []
    if expect.status:
        if status not in expect.status:
            return [Miss(f"status {status}, expected {_shown(expect.status)}{_error_hint(body)}",
                         "status", _shown(expect.status), status, "status")]
        return []
    if not 200 <= status < 300:
        return [Miss(f"status {status}, expected success (2xx){_error_hint(body)}", "status", "2xx", status,
                     "status")]
    return []


def evaluate(expect: Expect, response: Response, saved: dict[str, Any], spec: Any) -> list[Miss]:
    """Every way `response` misses `expect` (templates in expected values filled from `saved`)."""
    body = response.json
    misses: list[Miss] = _status_misses(expect, response, spec)
    if expect.error:
        misses.extend(_error_misses(expect.error, response))
    if body is NOT_JSON and (expect.schema or expect.body is not NO_BODY or expect.values):
        misses.append(Miss(f"the answer is not JSON: {response.text[:120]!r}", "$", "JSON", response.text[:120],
                           "json"))
        body = MISSING
    if expect.schema and body is not MISSING:
        misses.extend(_schema_misses(expect.schema, body, spec))
    if expect.body is not NO_BODY and body is not MISSING:
        misses.extend(_matched("body ", render(expect.body, saved), body))
    if expect.text is not NO_BODY:
        misses.extend(_matched("text ", render(expect.text, saved), response.text, where="text"))
    for path, matcher in expect.values.items():
        if body is not MISSING:
            misses.extend(_matched("", render(matcher, saved), get_path(body, path), path))
    for name, matcher in expect.headers.items():
        value = response.headers.get(name, MISSING)
        misses.extend(_matched(f"header {name}: ", render(matcher, saved), value, where=f"header {name}"))
    return misses


def _matched(prefix: str, expected: Any, actual: Any, path: str | None = None, *, where: str | None = None
             ) -> list[Miss]:
    """The miss of `actual` against `expected`, if any. `path`: the JSON path the value came from (the miss
    names the step's path, not the path inside the value); `where`: what a value that is not in the body is
    (`text`, `header NAME`)."""
    try:
        match(expected, actual)
    except MatchFailure as failure:
        matcher = matcher_of(failure)
        if path is not None:
            inner = failure.path[1:] if failure.path.startswith("$") else failure.path
            failure = MatchFailure(path + inner, failure.message, failure.expected, failure.actual)
        return [_from_match(prefix, failure, where, matcher)]
    return []


def _error_hint(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f" ({error.get('type')}: {str(error.get('message'))[:160]})"
    return ""


def _error_misses(types: tuple[str, ...], response: Response) -> list[Miss]:
    body = response.json
    error = body.get("error") if isinstance(body, dict) else None
    shown = types[0] if len(types) == 1 else list(types)
    if not isinstance(error, dict):
        return [Miss(f"expected the error envelope with type {shown}, got {response.text[:160]!r}",
                     "$.error", {"type": shown, "message": "(a string)"},
                     body if body is not NOT_JSON else response.text[:160], "error")]
    misses = []
    if error.get("type") not in types:
        misses.append(Miss(f"error type {error.get('type')!r}, expected {shown}"
                           f" (message: {str(error.get('message'))[:160]})",
                           "$.error.type", shown, error.get("type"), "error", "type" not in error))
    if not isinstance(error.get("message"), str):
        misses.append(Miss("error.message is missing or not a string", "$.error.message", "string",
                           error.get("message"), "error", "message" not in error))
    return misses


@lru_cache(maxsize=512)
def _schema_validator(spec: Any, ref: str) -> Any:
    document, _, fragment = ref.partition("#")
    prefix = "/$defs/"
    if fragment.startswith(prefix) and "/" not in fragment[len(prefix):]:
        return spec.type_validator(document, fragment[len(prefix):])
    from ..spec import SchemaValidator  # a whole document or a deeper pointer: build one directly
    doc = next((d for d in spec.documents if d.path == document), None)
    if doc is None:
        raise KeyError(document)
    return SchemaValidator(doc.uri + (f"#{fragment}" if fragment else ""), spec.registry,
                           spec._rs_registry)  # noqa: SLF001 - the spec builds it lazily; we share its cache


def _schema_misses(ref: str, body: Any, spec: Any) -> list[Miss]:
    try:
        validator = _schema_validator(spec, ref)
    except KeyError:
        return [Miss(f"schema {ref} is not in schemas/ (a suite bug)", "$", ref, None, "schema", True)]
    if validator.is_valid(body):
        return []
    errors = validator.errors(body)[:5] or [("$", "invalid")]
    misses = []
    for path, message in errors:
        actual = _at(body, path or "$")
        misses.append(Miss(f"schema {ref}: {path or '$'}: {message}", path or "$", ref,
                           None if actual is MISSING else actual, "schema", actual is MISSING))
    return misses


def _at(body: Any, path: str) -> Any:
    """The value at a JSON path the validator reported (MISSING when the path does not parse or leads nowhere)."""
    try:
        return get_path(body, path)
    except ValueError:
        return MISSING
