"""Case files to a validated CaseSuite; every problem is reported as `file:line: message`, never a traceback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from .build import build_case, build_fixture
from .expand import expand, shipped_schema_routes
from .match import PathError, parse_path
from .model import CaseSpec, CaseSuite, Fixture, Step, saved_names
from .repeat import INDEX
from .scope import CaseFile, FileReader
from .template import BUILTIN_NAMES, names_in, placeholders_as
from .validate import CaseError, case_file_validator

CASE_SUFFIXES = (".yaml", ".yml")


class CaseLoadError(Exception):
    """One or more case files are broken; `errors` lists each problem with its file and line."""

    def __init__(self, errors: list[CaseError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    """The case files named, directories searched recursively for *.yaml / *.yml, in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in CASE_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def load_suite(paths: Iterable[str | Path], *, base: str | Path | None = None,
               known_checks: Iterable[str] | None = None) -> CaseSuite:
    """Read, validate and cross-check case files. `base` makes file labels (and case uids) relative;
    `known_checks` lets `skip_checks` names be verified. A file's fixtures are its own: a case uses those of
    its file and those the file imports (which are loaded too, their cases not). Raises CaseLoadError
    listing every problem."""
    errors: list[CaseError] = []
    suite = CaseSuite()
    reader = FileReader(Path(base) if base is not None else None, errors)
    listed = [unit for unit in map(reader.read, case_files(paths)) if unit is not None]
    broken: set[str] = set()   # fixtures with an unknown `uses` name: their steps are not checked further
    for unit in reader.loaded():
        suite.fixtures.update(_fixtures(unit, errors, broken))
    for unit in _unique(listed):
        suite.cases.extend(_cases(unit, errors))
    errors.extend(_cross_check(suite, set(known_checks) if known_checks is not None else None, broken))
    if errors:
        raise CaseLoadError(sorted(set(errors), key=lambda e: (e.file, e.line, e.message)))
    return suite


def _unique(units: list[CaseFile]) -> list[CaseFile]:
    seen: dict[int, CaseFile] = {}
    for unit in units:
        seen.setdefault(id(unit), unit)
    return list(seen.values())


def _resolve_uses(unit: CaseFile, uses: tuple[str, ...], line: int, errors: list[CaseError]) -> tuple[str, ...] | None:
    """Local fixture names to suite keys, through the file's scope; None (and errors) if a name is unknown."""
    unknown = [name for name in uses if name not in unit.scope]
    known = ", ".join(sorted(unit.scope)) or "none"
    for name in unknown:
        errors.append(CaseError(unit.label, line, f"unknown fixture {name!r} (this file has or imports: {known}; "
                                                  "import one from another file with `imports:`)"))
    return None if unknown else tuple(unit.scope[name] for name in uses)


def _fixtures(unit: CaseFile, errors: list[CaseError], broken: set[str]) -> dict[str, Fixture]:
    """The file's own fixtures by key; those with an unknown `uses` name also go to `broken`."""
    fixtures = {}
    for name, raw in unit.own_fixtures().items():
        path = ("fixtures", name)
        fixture = build_fixture(unit.scope[name], raw, unit.label, unit.document, path)
        uses = _resolve_uses(unit, fixture.uses, unit.document.line_of(path), errors)
        if uses is None:
            broken.add(fixture.name)
        fixtures[fixture.name] = dataclasses.replace(fixture, uses=uses or ())
    return fixtures


def _cases(unit: CaseFile, errors: list[CaseError]) -> list[CaseSpec]:
    cases: list[CaseSpec] = []
    seen_ids: dict[str, int] = {}
    data = unit.data
    for index, raw in enumerate(data.get("cases") or []):
        line = unit.document.line_of(("cases", index))
        if raw["id"] in seen_ids:
            errors.append(CaseError(unit.label, line,
                                    f"duplicate case id {raw['id']!r} (first at line {seen_ids[raw['id']]})"))
            continue
        seen_ids[raw["id"]] = line
        case, problems = build_case(raw, data.get("defaults") or {}, unit.label, unit.document, ("cases", index))
        errors.extend(CaseError(unit.label, line, problem) for problem in problems)
        if case is None:
            continue
        uses = _resolve_uses(unit, case.uses, line, errors)
        if uses is None:
            continue
        case = dataclasses.replace(case, uses=uses)
        if "for_each" in raw:
            items = _expand(case, raw["for_each"])
            if not items:
                errors.append(CaseError(unit.label, line, f"case {raw['id']!r}: for_each matches no route"))
            cases.extend(items)
        else:
            cases.append(case)
    return cases


def _expand(case: CaseSpec, filters: dict) -> list[CaseSpec]:
    needs_schemas = any(name.startswith("has_") for name in filters)
    return expand(case, filters, schema_routes=shipped_schema_routes() if needs_schemas else None)


# --- checks across the suite: fixture cycles, template names, JSON paths, check names ------------------------

def _cross_check(suite: CaseSuite, known_checks: set[str] | None, broken: set[str]) -> list[CaseError]:
    errors: list[CaseError] = []
    for fixture in suite.fixtures.values():
        errors.extend(_cycle(fixture, suite))
    for fixture in suite.fixtures.values():
        if fixture.name in broken:
            continue
        provided = BUILTIN_NAMES | _provided(fixture.uses, suite)
        errors.extend(_step_errors(fixture.steps, fixture.finally_steps, provided, known_checks))
    for case in suite.cases:
        provided = BUILTIN_NAMES | _provided(case.uses, suite) | set(case.values) | \
            (case.generate.names if case.generate else frozenset())
        errors.extend(_step_errors(case.steps, case.finally_steps, provided, known_checks))
    return errors


def _cycle(fixture: Fixture, suite: CaseSuite) -> list[CaseError]:
    stack, seen = [(fixture.name, (fixture.local_name,))], set()
    while stack:
        name, trail = stack.pop()
        for used in suite.fixtures[name].uses if name in suite.fixtures else ():
            shown = trail + (suite.fixtures[used].local_name if used in suite.fixtures else used,)
            if used == fixture.name:
                return [CaseError(fixture.location.file, fixture.location.line,
                                  f"fixture {fixture.local_name!r} uses itself: {' -> '.join(shown)}")]
            if used not in seen:
                seen.add(used)
                stack.append((used, shown))
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
        known |= set(saved_names(step))
    for step in finally_steps:
        errors.extend(_one_step_errors(step, known, known_checks))
    return errors


def _templated(step: Step) -> list:
    """What of a step is a template. Raw bodies are sent verbatim (malformed JSON is full of braces)."""
    expect = step.expect
    walk = step.page_through
    return [step.route, step.fetch, step.headers, step.body, expect.values, expect.headers, expect.body,
            expect.text] + ([walk.count, walk.pages, walk.collected] if walk else [])


def _one_step_errors(step: Step, known: set[str], known_checks: set[str] | None) -> list[CaseError]:
    where = step.location
    errors = []
    for name in sorted(set().union(*(names_in(v) for v in _templated(step))) - known):
        why = ("is only defined inside a `repeat`" if name == INDEX else
               "is not saved by an earlier step, a fixture, or the run")
        errors.append(CaseError(where.file, where.line, f"{step.target}: {{{name}}} {why}"))
    for name in saved_names(step):
        if "{" in name:
            errors.append(CaseError(where.file, where.line, f"{step.target}: the save name {name!r} holds {{{INDEX}}}, "
                                                            "which is only defined inside a `repeat`"))
    paths = [save.path for save in step.save] + list(step.expect.values)
    paths += [step.page_through.collect] if step.page_through else []
    for path in paths:
        try:
            parse_path(placeholders_as(path, "x"))
        except PathError as problem:
            errors.append(CaseError(where.file, where.line, str(problem)))
    if known_checks is not None:
        for name in step.skip_checks:
            if name not in known_checks:
                errors.append(CaseError(where.file, where.line, f"skip_checks: no check named {name!r}"))
    return errors


__all__ = ["CaseError", "CaseLoadError", "CaseSpec", "case_file_validator", "case_files", "load_suite"]
