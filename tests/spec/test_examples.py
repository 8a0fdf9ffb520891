"""Every example in a method file validates, or fails, as it is labelled; both validators agree."""

from __future__ import annotations

import json

import pytest

from conformance.spec import Spec, load_spec

SPEC = load_spec()


def _examples():
    for route_key, document in sorted(SPEC.method_documents.items()):
        for direction, labelled in (document.contents.get("x-examples") or {}).items():
            for label in ("valid", "invalid"):
                for index, example in enumerate((labelled or {}).get(label) or []):
                    yield pytest.param(route_key, direction, label == "valid", example,
                                       id=f"{route_key}:{direction}:{label}[{index}]")


EXAMPLES = list(_examples())


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize(("route_key", "direction", "valid", "example"), EXAMPLES)
def test_example_is_as_labelled(spec: Spec, route_key: str, direction: str, valid: bool, example) -> None:
    validator = spec.validator(route_key, direction)
    assert validator is not None, f"x-examples.{direction} without $defs.{direction}"
    errors = validator.errors(example)
    if valid:
        assert errors == [], f"labelled valid, but: {errors}"
    else:
        assert errors, f"labelled invalid, but it validates: {json.dumps(example)[:300]}"
    # jsonschema-rs (is_valid) and jsonschema (errors) must read the schemas the same way
    assert validator.is_valid(example) is (not errors)
