"""One case file against the case-file schema and the rules a schema cannot say, as `file:line: message` errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import jsonschema_rs

from ..resources import schemas_dir
from .repeat import nested_repeats
from .yamlmarks import MarkedDocument

if TYPE_CHECKING:
    import jsonschema

META_SCHEMA = "meta/case-file.schema.json"
# the step's oneOf in the meta schema
STEP_TARGETS = [{"required": ["route"]}, {"required": ["fetch"]}, {"required": ["await"]}]
ONE_BODY = ("body", "raw", "generate_bytes")                        # the step's `not` in the meta schema
WALK_KEYS = ("count", "unique", "same_as_unpaged", "pages", "collected")
NOT_FOR_WALKS = ("body", "text", "error", "bytes")


@dataclass(frozen=True)
class CaseError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@cache
def case_file_validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # here, not at the top: its import costs ~0.8 s, and valid case files never need it

    schema = json.loads((schemas_dir() / META_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@cache
def _case_file_fast_validator() -> jsonschema_rs.Draft202012Validator:
    schema = json.loads((schemas_dir() / META_SCHEMA).read_text(encoding="utf-8"))
    # "regex" as Python's re reads it (what the runner compiles), as jsonschema's format checker does.
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True, formats={"regex": _python_regex})


def _python_regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


def schema_errors(document: MarkedDocument, label: str) -> list[CaseError]:
    # jsonschema-rs answers "valid?" ~100x faster; the readable errors come from jsonschema, only when needed.
    try:
        if _case_file_fast_validator().is_valid(document.data):
            return []
    except (ValueError, TypeError, OverflowError):
        pass  # a value jsonschema-rs cannot take (a YAML date, a huge integer): the slow path decides
    found = []
    for error in case_file_validator().iter_errors(document.data):
        path, message = _explain(error)
        found.append(CaseError(label, document.line_of(path), message))
    return sorted(set(found), key=lambda e: e.line)


def _explain(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    """The path of the offending node and a message a case author can act on."""
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "the file"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            known = ", ".join(sorted(allowed))
            return path + (extra[0],), f"unknown key {extra[0]!r} in {where} (allowed: {known})"
    if error.validator == "not" and isinstance(error.instance, dict):
        given = [key for key in ONE_BODY if key in error.instance]
        if len(given) > 1:
            both = " and ".join(f"`{key}`" for key in given)
            return path + (given[-1],), f"a step has one body (`body`, `raw` or `generate_bytes`), not both {both}"
        if "page_through" in error.instance and "eventually" in error.instance:
            return path + ("eventually",), "a `page_through` step cannot have `eventually`"
    if error.validator == "oneOf" and error.validator_value == STEP_TARGETS:
        given = [key for key in ("route", "fetch", "await") if key in error.instance]
        if len(given) > 1:
            return path + (given[-1],), f"a step has one of `route`, `fetch` or `await`, not {' and '.join(given)}"
        return path, ("a step needs `route` (an API call), `fetch` (a URL the server gave) or `await` (an "
                      "execution to wait for)")
    if error.validator == "not" and error.validator_value == {} and path and path[-1] in WALK_KEYS + NOT_FOR_WALKS:
        return path, _walk_key_message(path[-1])
    if error.context:
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        return tuple(best.absolute_path), f"{'.'.join(map(str, best.absolute_path)) or where}: {best.message}"
    return path, f"{where}: {error.message}"


def _walk_key_message(key: str) -> str:
    if key in WALK_KEYS:
        return f"expect.{key} is about a walk: only a step with `page_through` has it"
    return (f"expect.{key}: a `page_through` step checks each page with status, schema, values and headers, "
            "and the walk with count, unique, same_as_unpaged, pages and collected")


# --- rules the schema cannot say ----------------------------------------------------------------------------

def raw_step_lists(data: dict) -> Iterable[tuple[tuple, list]]:
    """(path, list) of every `steps` and `finally` list of a schema-valid file: its fixtures' and cases'."""
    owners = [(("fixtures", name), raw) for name, raw in (data.get("fixtures") or {}).items()]
    owners += [(("cases", index), raw) for index, raw in enumerate(data.get("cases") or [])]
    for path, owner in owners:
        for key in ("steps", "finally"):
            if owner.get(key):
                yield path + (key,), owner[key]


def raw_steps(data: dict) -> Iterable[tuple[tuple, dict]]:
    """(path, raw step) for every step of a schema-valid file, those of repeat groups included (unexpanded)."""
    for path, items in raw_step_lists(data):
        for index, item in enumerate(items):
            if "steps" in item:
                for inner, step in enumerate(item["steps"]):
                    yield path + (index, "steps", inner), step
            else:
                yield path + (index,), item


def file_rule_errors(document: MarkedDocument, label: str) -> list[CaseError]:
    """Every problem of a schema-valid file that its schema cannot see."""
    errors = _error_expectation_errors(document, label)
    for path, items in raw_step_lists(document.data):
        for where in nested_repeats(items, path):
            errors.append(CaseError(label, document.line_of(where),
                                    "a step inside a repeat group cannot repeat on its own ({i} would name two "
                                    "indices): repeat the group, or write the step out of it"))
    return errors


def _error_expectation_errors(document: MarkedDocument, label: str) -> list[CaseError]:
    """An `error` expectation is met only by an error answer (engine/expectations.py never accepts a 2xx
    for it), so a step that also lists a 2xx in `status` says two things at once: refused here."""
    errors = []
    for path, step in raw_steps(document.data):
        expect = step.get("expect") or {}
        statuses = expect.get("status")
        statuses = statuses if isinstance(statuses, list) else [statuses]
        successes = [s for s in statuses if isinstance(s, int) and 200 <= s < 300]
        if "error" in expect and successes:
            errors.append(CaseError(label, document.line_of(path + ("expect", "status")),
                                    f"expect has `error` and the success status {successes[0]}: an error "
                                    "expectation is never met by a 2xx answer (drop the 2xx, or the `error`)"))
    return errors
