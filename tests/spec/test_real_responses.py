"""Real platform answers (tests/data/real_responses.json) against the schemas: real output is the final word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.spec import Spec, load_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "real_responses.json"
RECORDINGS = json.loads(DATA.read_text(encoding="utf-8"))
# Every route the recordings can be judged on: the core ones, and the others that have an output schema.
JUDGED = {r.route for r in load_spec().routes if r.profile == "core" or r.has_output_schema}
# Errors about which keys are present, as opposed to the values under them.
KEY_SET_KEYWORDS = {"required", "additionalProperties", "unevaluatedProperties", "propertyNames",
                    "dependentRequired"}


def _select(kind: str, *, errors: bool = False):
    return [pytest.param(r, id=r["name"]) for r in RECORDINGS
            if r["kind"] == kind and (r["status"] >= 400) == errors and (errors or r["route"] in JUDGED)]


def test_the_recordings_are_in_the_project_form() -> None:
    assert len(RECORDINGS) == 17
    for r in RECORDINGS:
        assert {"name", "route", "status", "kind", "source", "response", "notes"} <= set(r), r.get("name")
        assert r["kind"] in ("recorded", "hand-written-mock")
    assert _select("recorded") and _select("hand-written-mock") and _select("recorded", errors=True)


def test_the_executable_recordings_are_judged() -> None:
    judged = {r["route"] for r in RECORDINGS if r["kind"] == "recorded" and r["route"] in JUDGED}
    assert {"/applet-xxxx/describe", "/job-xxxx/describe", "/workflow-xxxx/describe",
            "/analysis-xxxx/describe"} <= judged


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("recording", [pytest.param(r, id=r["name"]) for r in RECORDINGS if "redactions" in r])
def test_a_redacted_id_is_kept_as_a_placeholder_of_its_class(recording) -> None:
    # The source had IDs cut short ('analysis-XXXX'); the kept form carries a well-formed placeholder of the same
    # class instead, and says which, so the answer can be checked without pretending the IDs are real.
    strings = set(_strings(recording["response"]))
    for placeholder, redacted in recording["redactions"].items():
        assert placeholder.split("-")[0] == redacted.split("-")[0]
        assert len(placeholder.split("-", 1)[1]) == 24 and len(set(placeholder.split("-", 1)[1])) == 1
        assert placeholder in strings and redacted not in strings


def _wrap(fragment, pointer: str | None):
    """Place a recorded fragment where it sat in the full answer ('/objects/0' -> {'objects': [fragment]})."""
    if not pointer:
        return fragment, "$"
    instance, path = fragment, "$"
    tokens = pointer.strip("/").split("/")
    for token in reversed(tokens):
        instance = [instance] if token.isdigit() else {token: instance}
    for token in tokens:
        path += "[0]" if token.isdigit() else f".{token}"
    return instance, path


@pytest.mark.parametrize("recording", _select("recorded"))
def test_recorded_core_answer_passes_its_output_schema(spec: Spec, recording) -> None:
    validator = spec.validator(recording["route"], "output")
    assert validator is not None, f"{recording['route']} has no output schema"
    instance, inside = _wrap(recording["response"], recording.get("fragment_of"))
    # a fragment is checked for itself; what the recording left out around it is not its fault
    errors = [(path, msg) for path, msg in validator.errors(instance) if path.startswith(inside)]
    assert errors == []


@pytest.mark.parametrize("recording", _select("recorded", errors=True))
def test_recorded_error_is_a_documented_envelope_with_its_status(spec: Spec, recording) -> None:
    assert spec.type_validator("types/errors.json", "documentedEnvelope").errors(recording["response"]) == []
    error_type = recording["response"]["error"]["type"]
    assert spec.error_types[error_type]["status"] == recording["status"]


def _key_set_errors(validator, instance) -> list[str]:
    found, pending = [], list(validator.raw_errors(instance))
    while pending:
        error = pending.pop()
        pending.extend(error.context or [])
        if error.validator in KEY_SET_KEYWORDS:
            found.append(f"{error.json_path}: {error.message}")
    return found


@pytest.mark.parametrize("recording", _select("hand-written-mock"))
def test_mock_answer_has_a_key_set_the_schema_allows(spec: Spec, recording) -> None:
    # mocks are shaped like real output but carry placeholder values: only their keys are evidence
    validator = spec.validator(recording["route"], "output")
    assert validator is not None
    instance, _ = _wrap(recording["response"], recording.get("fragment_of"))
    assert _key_set_errors(validator, instance) == []


def test_the_key_set_check_can_fail(spec: Spec) -> None:
    validator = spec.validator("/system/findDataObjects", "output")
    assert _key_set_errors(validator, {"no_results_key": []})
