"""Case files to a validated CaseSuite; every problem is reported as `file:line: message`, never a traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema_rs

from ..resources import schemas_dir
from .build import build_case, build_fixture
from .expand import expand, shipped_schema_routes
from .match import PathError, parse_path
from .model import CaseSpec, CaseSuite, Fixture, Location, Step
from .template import BUILTIN_NAMES, names_in
from .yamlmarks import MarkedDocument, YamlProblem, load_marked_file

if TYPE_CHECKING:
    import jsonschema

CASE_SUFFIXES = (".yaml", ".yml")
META_SCHEMA = "meta/case-file.schema.json"
STEP_TARGETS = [{"required": ["route"]}, {"required": ["fetch"]}]  # the step's oneOf in the meta schema


@dataclass(frozen=True)
class CaseError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CaseLoadError(Exception):
    """One or more case files are broken; `errors` lists each problem with its file and line."""

    def __init__(self, errors: list[CaseError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@cache
def case_file_validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # here, not at the top: its import costs ~0.8 s, and valid case files never need it

    schema = json.loads((schemas_dir() / META_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    """The case files named, directories searched recursively for *.yaml / *.yml, in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in CASE_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def _label(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def load_suite(paths: Iterable[str | Path], *, base: str | Path | None = None,
               known_checks: Iterable[str] | None = None) -> CaseSuite:
    """Read, validate and cross-check case files. `base` makes file labels (and case uids) relative;
    `known_checks` lets `skip_checks` names be verified. Raises CaseLoadError listing every problem."""
    errors: list[CaseError] = []
    suite = CaseSuite()
    fixture_files: dict[str, str] = {}
    base_path = Path(base) if base is not None else None
    for path in case_files(paths):
        label = _label(path, base_path)
        document = _read(path, label, errors)
        if document is None:
            continue
        schema_errors = _schema_errors(document, label)
        if schema_errors:
            errors.extend(schema_errors)
            continue
        data = document.data
        errors.extend(_error_expectation_errors(document, label))
        for name, raw in (data.get("fixtures") or {}).items():
            line = document.line_of(("fixtures", name))
            if name in suite.fixtures:
                errors.append(CaseError(label, line, f"fixture {name!r} is already declared in {fixture_files[name]}"))
                continue
            suite.fixtures[name] = build_fixture(name, raw, label, document, ("fixtures", name))
            fixture_files[name] = str(suite.fixtures[name].location)
        seen_ids: dict[str, int] = {}
        for index, raw in enumerate(data.get("cases") or []):
            line = document.line_of(("cases", index))
            if raw["id"] in seen_ids:
                errors.append(CaseError(label, line,
                                        f"duplicate case id {raw['id']!r} (first at line {seen_ids[raw['id']]})"))
                continue
            seen_ids[raw["id"]] = line
            case, problems = build_case(raw, data.get("defaults") or {}, label, document, ("cases", index))
            errors.extend(CaseError(label, line, problem) for problem in problems)
            if case is not None and "for_each" in raw:
                items = _expand(case, raw["for_each"])
                if not items:
                    errors.append(CaseError(label, line, f"case {raw['id']!r}: for_each matches no route"))
                suite.cases.extend(items)
            elif case is not None:
                suite.cases.append(case)
    errors.extend(_cross_check(suite, set(known_checks) if known_checks is not None else None))
    if errors:
        raise CaseLoadError(sorted(errors, key=lambda e: (e.file, e.line)))
    return suite


def _raw_steps(data: dict) -> Iterable[tuple[tuple, dict]]:
    """(path, raw step) for every step of a schema-valid file: fixtures' and cases' steps and `finally` steps."""
    owners = [(("fixtures", name), raw) for name, raw in (data.get("fixtures") or {}).items()]
    owners += [(("cases", index), raw) for index, raw in enumerate(data.get("cases") or [])]
    for path, owner in owners:
        for key in ("steps", "finally"):
            for index, step in enumerate(owner.get(key) or []):
                yield path + (key, index), step


def _error_expectation_errors(document: MarkedDocument, label: str) -> list[CaseError]:
    """An `error` expectation is met only by an error answer (engine/expectations.py never accepts a 2xx
    for it), so a step that also lists a 2xx in `status` says two things at once: refused here."""
    errors = []
    for path, step in _raw_steps(document.data):
        expect = step.get("expect") or {}
        statuses = expect.get("status")
        statuses = statuses if isinstance(statuses, list) else [statuses]
        successes = [s for s in statuses if isinstance(s, int) and 200 <= s < 300]
        if "error" in expect and successes:
            errors.append(CaseError(label, document.line_of(path + ("expect", "status")),
                                    f"expect has `error` and the success status {successes[0]}: an error "
                                    "expectation is never met by a 2xx answer (drop the 2xx, or the `error`)"))
    return errors


def _expand(case: CaseSpec, filters: dict) -> list[CaseSpec]:
    needs_schemas = any(name.startswith("has_") for name in filters)
    return expand(case, filters, schema_routes=shipped_schema_routes() if needs_schemas else None)


def _read(path: Path, label: str, errors: list[CaseError]) -> MarkedDocument | None:
    try:
        return load_marked_file(path)
    except YamlProblem as problem:
        errors.append(CaseError(label, problem.line, problem.message))
    return None


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


def _schema_errors(document: MarkedDocument, label: str) -> list[CaseError]:
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
    if error.validator == "not" and error.validator_value == {"required": ["body", "raw"]}:
        return path + ("raw",), "a step has `body` or `raw`, not both"
    if error.validator == "oneOf" and error.validator_value == STEP_TARGETS:
        if "route" in error.instance and "fetch" in error.instance:
            return path + ("fetch",), "a step has `route` or `fetch`, not both"
        return path, "a step needs `route` (an API call) or `fetch` (a URL the server gave)"
    if error.context:
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        return tuple(best.absolute_path), f"{'.'.join(map(str, best.absolute_path)) or where}: {best.message}"
    return path, f"{where}: {error.message}"


# --- checks across the suite: fixture references, template names, JSON paths, check names ---------------

def _cross_check(suite: CaseSuite, known_checks: set[str] | None) -> list[CaseError]:
    errors: list[CaseError] = []
    for fixture in suite.fixtures.values():
        errors.extend(_unknown_uses(fixture.uses, fixture.location, suite))
        errors.extend(_cycle(fixture, suite))
    for fixture in suite.fixtures.values():
        provided = BUILTIN_NAMES | _provided(fixture.uses, suite)
        errors.extend(_step_errors(fixture.steps, fixture.finally_steps, provided, known_checks))
    for case in suite.cases:
        unknown = list(_unknown_uses(case.uses, case.location, suite))
        errors.extend(unknown)
        if not unknown:
            provided = BUILTIN_NAMES | _provided(case.uses, suite) | set(case.values) | \
                (case.generate.names if case.generate else frozenset())
            errors.extend(_step_errors(case.steps, case.finally_steps, provided, known_checks))
    return errors


def _unknown_uses(uses: tuple[str, ...], location: Location, suite: CaseSuite):
    for name in uses:
        if name not in suite.fixtures:
            known = ", ".join(sorted(suite.fixtures)) or "none declared"
            yield CaseError(location.file, location.line, f"unknown fixture {name!r} (known: {known})")


def _cycle(fixture: Fixture, suite: CaseSuite) -> list[CaseError]:
    stack, seen = [(fixture.name, (fixture.name,))], set()
    while stack:
        name, trail = stack.pop()
        for used in suite.fixtures[name].uses if name in suite.fixtures else ():
            if used == fixture.name:
                return [CaseError(fixture.location.file, fixture.location.line,
                                  f"fixture {fixture.name!r} uses itself: {' -> '.join(trail + (used,))}")]
            if used not in seen:
                seen.add(used)
                stack.append((used, trail + (used,)))
    return []


def _provided(uses: Iterable[str], suite: CaseSuite, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    names: set[str] = set()
    for name in uses:
        if name in suite.fixtures and name not in seen:
            seen.add(name)
            fixture = suite.fixtures[name]
            names |= fixture.provides | _provided(fixture.uses, suite, seen)
    return names


def _step_errors(steps: tuple[Step, ...], finally_steps: tuple[Step, ...], known: set[str],
                 known_checks: set[str] | None) -> list[CaseError]:
    errors, known = [], set(known)
    for step in steps:
        errors.extend(_one_step_errors(step, known, known_checks))
        known |= {save.name for save in step.save}
    for step in finally_steps:
        errors.extend(_one_step_errors(step, known, known_checks))
    return errors


def _one_step_errors(step: Step, known: set[str], known_checks: set[str] | None) -> list[CaseError]:
    where = step.location
    errors = []
    expect = step.expect
    # Raw bodies are sent verbatim (malformed JSON is full of braces), so they are not templates.
    templated = [step.route, step.fetch, step.headers, step.body, expect.values, expect.headers, expect.body,
                 expect.text]
    for name in sorted(set().union(*(names_in(v) for v in templated)) - known):
        errors.append(CaseError(where.file, where.line,
                                f"{step.target}: {{{name}}} is not saved by an earlier step, a fixture, or the run"))
    for path in [save.path for save in step.save] + list(expect.values):
        try:
            parse_path(path)
        except PathError as problem:
            errors.append(CaseError(where.file, where.line, str(problem)))
    if known_checks is not None:
        for name in step.skip_checks:
            if name not in known_checks:
                errors.append(CaseError(where.file, where.line, f"skip_checks: no check named {name!r}"))
    return errors


__all__ = ["CaseError", "CaseLoadError", "CaseSpec", "case_file_validator", "case_files", "load_suite"]
