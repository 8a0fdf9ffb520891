"""Known failures: the run-level expectations file, read (errors as `file:line: message`), applied, written."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..cases.yamlmarks import YamlProblem, load_marked_file
from ..model import Outcome
from ..resources import schemas_dir

if TYPE_CHECKING:
    import jsonschema

FORMAT = "dxconform-expectations/1"
META_SCHEMA = "meta/expectations.schema.json"
EXPECTABLE = (Outcome.FAILED.value, Outcome.ERROR.value)
# What a result carries once an expectation decided its outcome (results.json key).
EXPECTED_KEY = "expected"
REASON_CHARS = 300


class ExpectationsError(Exception):
    """The file is unreadable or invalid; `errors` lists each problem as `file:line: message`."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Expectation:
    """What one result is known to do on the server under test."""

    outcome: str
    reason: str = ""
    link: str = ""

    def to_json(self) -> dict[str, str]:
        record = {"outcome": self.outcome}
        if self.reason:
            record["reason"] = self.reason
        if self.link:
            record["link"] = self.link
        return record

    def describe(self) -> str:
        return "; ".join(filter(None, [f"expected {self.outcome}", self.reason, self.link]))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # here: its import costs ~0.8 s, and most runs read no expectations file

    schema = json.loads((schemas_dir() / META_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_expectations(path: str | Path) -> dict[str, Expectation]:
    """{result id: Expectation} from a YAML file; ExpectationsError listing every problem with its line."""
    label = str(path)
    try:
        document = load_marked_file(path)
    except YamlProblem as problem:
        raise ExpectationsError([f"{label}:{problem.line}: {problem.message}"]) from None
    errors = []
    for error in _validator().iter_errors(document.data):
        where, message = _explain(error)
        errors.append((document.line_of(where), f"{label}:{document.line_of(where)}: {message}"))
    if errors:
        raise ExpectationsError([text for _, text in sorted(set(errors))])
    return {result_id: Expectation(raw["outcome"], raw.get("reason", ""), raw.get("link", ""))
            for result_id, raw in document.data["expectations"].items()}


def _explain(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    """The path of the offending node (a bad key: the key itself) and a message naming it."""
    where = tuple(error.absolute_path)
    shown = ".".join(map(str, where)) or "the file"
    if "propertyNames" in error.absolute_schema_path:
        return where + (error.instance,), f"{error.instance!r} is not a result id (`<file>::<case>` or " \
                                          "`checks/<check>::<route>`)"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return where + (extra[0],), f"unknown key {extra[0]!r} in {shown} (allowed: {', '.join(sorted(allowed))})"
    return where, f"{shown}: {error.message}"


def judge(outcome: str, expectation: Expectation | None) -> str:
    """The outcome a result ends in once its expectation (if any) is taken into account."""
    if expectation is None:
        return outcome
    if outcome == expectation.outcome:
        return Outcome.XFAILED.value
    if outcome == Outcome.PASSED.value:
        return Outcome.XPASSED.value
    return outcome


def verdict(outcome: str, message: str, expectation: Expectation | None) -> tuple[str, str]:
    """(outcome, message) of a result once its expectation is applied; the message says why it changed."""
    judged = judge(outcome, expectation)
    if judged == outcome or expectation is None:
        return outcome, message
    return judged, f"{judged} ({expectation.describe()}): {message}"


def apply_to_json(result: dict[str, Any], expectations: Mapping[str, Expectation]) -> dict[str, Any]:
    """`result` (a results.json entry) judged against the expectations: outcome, message and `expected`."""
    expectation = expectations.get(result["id"])
    if expectation is None:
        return result
    outcome, message = verdict(result["outcome"], result.get("message", ""), expectation)
    return dict(result, outcome=outcome, message=message, **{EXPECTED_KEY: expectation.to_json()})


def known_failure(result: Mapping[str, Any]) -> Expectation | None:
    """The expectation a result of a run stands for: its failure, or the expectation that xfailed it."""
    if result.get("outcome") in EXPECTABLE:
        return Expectation(result["outcome"], _one_line(result.get("message", "")), result.get("source", ""))
    if result.get("outcome") == Outcome.XFAILED.value and isinstance(result.get(EXPECTED_KEY), Mapping):
        carried = result[EXPECTED_KEY]
        return Expectation(carried["outcome"], carried.get("reason", ""), carried.get("link", ""))
    return None


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 3] + "..."


def expectations_from_results(document: Mapping[str, Any],
                              levels: Iterable[str] | None = None) -> dict[str, Expectation]:
    """Every failing (or already expected-to-fail) result of a results.json, optionally only at `levels`."""
    wanted = set(levels) if levels is not None else None
    found = {}
    for result in document.get("results", []):
        expectation = known_failure(result)
        if expectation is not None and (wanted is None or result.get("level") in wanted):
            found[result["id"]] = expectation
    return dict(sorted(found.items()))


def dump_expectations(expectations: Mapping[str, Expectation], server: str = "") -> str:
    """The YAML text of an expectations file (readable, stable order, loadable by load_expectations)."""
    header = ("# dxconform expectations: results known to fail on this server. A listed result that fails as\n"
              "# expected is `xfailed` and does not fail the gate; one that passes is `xpassed`.\n")
    data: dict[str, Any] = {"format": FORMAT}
    if server:
        data["server"] = server
    data["expectations"] = {result_id: e.to_json() for result_id, e in expectations.items()}
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
