"""The diff configuration file (YAML): ignored paths with a reason each, and the level of differences.
Errors say `file:line: message`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cases.yamlmarks import YamlProblem, load_marked_file

DEFAULT_LEVEL = "SHOULD"
LEVELS = ("MUST", "SHOULD", "MAY")
KINDS = ("status", "error-type", "only-in-golden", "only-in-candidate", "type", "value", "length", "timestamp",
         "content-type", "no-answer", "request", "not-run", "extra-step", "header", "not-replayable")
DEFAULTS_FILE = Path(__file__).with_name("default-ignores.yaml")
MESSAGE_PATH = "$.error.message"   # the error message: prose, ignored by default (default-ignores.yaml)
# The project's ignores for the real platform, applied by default to imported recordings (each with its reason).
PLATFORM_FILE = Path(__file__).with_name("platform-ignores.yaml")
_TOP_KEYS = {"level", "ignore", "levels"}
_SELECTORS = {"path", "route", "case", "kind"}


class DiffConfigError(Exception):
    """The file is unreadable or invalid; `errors` lists each problem as `file:line: message`."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _glob(pattern: str, path_like: bool) -> re.Pattern:
    """`**` any text; `*` any text (within one path step when `path_like`); `{a,b}` one of the alternatives;
    the rest literal."""
    one = r"[^.\[\]]*" if path_like else ".*"

    def piece(part: str) -> str:
        if part == "**":
            return ".*"
        if part == "*":
            return one
        if part.startswith("{") and part.endswith("}") and len(part) > 2:
            return "(?:" + "|".join(re.escape(choice) for choice in part[1:-1].split(",")) + ")"
        return re.escape(part)

    return re.compile("^" + "".join(piece(p) for p in re.split(r"(\*\*|\*|\{[^{}]*\})", pattern)) + "$")


@dataclass(frozen=True)
class Rule:
    """Selects differences: every selector given must match (path and route are globs, kind is exact)."""

    where: str                      # file:line, for messages
    path: str | None = None
    route: str | None = None
    case: str | None = None
    kind: str | None = None
    reason: str = ""
    level: str | None = None

    def matches(self, difference: Any) -> bool:
        return ((self.path is None or bool(_glob(self.path, True).match(difference.path)))
                and (self.route is None or bool(_glob(self.route, False).match(difference.route or "")))
                and (self.case is None or bool(_glob(self.case, False).match(difference.case)))
                and (self.kind is None or self.kind == difference.kind))


@dataclass
class DiffConfig:
    level: str = DEFAULT_LEVEL
    ignore: list[Rule] = field(default_factory=list)
    levels: list[Rule] = field(default_factory=list)

    def ignored_by(self, difference: Any) -> Rule | None:
        return next((rule for rule in self.ignore if rule.matches(difference)), None)

    def level_of(self, difference: Any) -> str:
        rule = next((rule for rule in self.levels if rule.matches(difference)), None)
        return rule.level if rule is not None and rule.level else self.level

    def extend(self, other: DiffConfig) -> DiffConfig:
        """`other`'s rules come first (a user's file decides before the defaults) and its level wins."""
        return DiffConfig(level=other.level, ignore=other.ignore + self.ignore, levels=other.levels + self.levels)


def load_config(path: str | Path) -> DiffConfig:
    label = str(path)
    try:
        document = load_marked_file(path)
    except YamlProblem as problem:
        raise DiffConfigError([f"{label}:{problem.line}: {problem.message}"]) from None
    errors: list[str] = []

    def problem(where: tuple, message: str) -> None:
        errors.append(f"{label}:{document.line_of(where)}: {message}")

    data = document.data
    if not isinstance(data, dict):
        raise DiffConfigError([f"{label}:1: the file must be a mapping with `ignore`, `levels` and `level`"])
    for key in sorted(set(data) - _TOP_KEYS):
        problem((key,), f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    level = data.get("level", DEFAULT_LEVEL)
    if level not in LEVELS:
        problem(("level",), f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    ignore = list(_rules(data, "ignore", document, label, problem, needs="reason"))
    levels = list(_rules(data, "levels", document, label, problem, needs="level"))
    if errors:
        raise DiffConfigError(errors)
    return DiffConfig(level=level, ignore=ignore, levels=levels)


def _rules(data: dict, section: str, document: Any, label: str, problem, needs: str) -> Iterable[Rule]:
    entries = data.get(section, [])
    if not isinstance(entries, list):
        problem((section,), f"{section} must be a list")
        return
    allowed = _SELECTORS | {needs}
    for index, entry in enumerate(entries):
        where = (section, index)
        if not isinstance(entry, dict):
            problem(where, f"{section}[{index}] must be a mapping")
            continue
        for key in sorted(set(entry) - allowed):
            problem(where + (key,), f"unknown key {key!r} in {section}[{index}] (allowed: {', '.join(sorted(allowed))})")
        if not _SELECTORS & set(entry):
            problem(where, f"{section}[{index}] selects nothing: give at least one of {', '.join(sorted(_SELECTORS))}")
        bad = [k for k in _SELECTORS | {needs} if k in entry and not isinstance(entry[k], str)]
        for key in bad:
            problem(where + (key,), f"{section}[{index}].{key} must be a string")
        if not str(entry.get(needs, "")).strip():
            problem(where, f"{section}[{index}] needs a {needs}" + (" (say why it is ignored)" if needs == "reason"
                                                                     else ""))
        if needs == "level" and entry.get("level") not in LEVELS:
            problem(where + ("level",), f"level must be one of {', '.join(LEVELS)}, got {entry.get('level')!r}")
        if "kind" in entry and entry["kind"] not in KINDS:
            problem(where + ("kind",), f"unknown kind {entry['kind']!r} (known: {', '.join(KINDS)})")
        if bad:
            continue
        yield Rule(where=f"{label}:{document.line_of(where)}", path=entry.get("path"), route=entry.get("route"),
                   case=entry.get("case"), kind=entry.get("kind"), reason=entry.get("reason", ""),
                   level=entry.get("level"))


def default_config() -> DiffConfig:
    return load_config(DEFAULTS_FILE)


def platform_config() -> DiffConfig:
    """For an imported recording: the ignores for the real platform, then the defaults except the one that
    leaves error messages out. The real platform's wording is recorded, and clients match on it (dxpy and stor
    look for "specified folder"), so a different message is a difference (of kind value: it does not change
    whether an exchange matches on status, error type and key set)."""
    defaults = default_config()
    defaults.ignore = [rule for rule in defaults.ignore if rule.path != MESSAGE_PATH]
    return defaults.extend(load_config(PLATFORM_FILE))
