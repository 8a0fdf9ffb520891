"""load_spec(): cached, digest of the files, validators built once and behaving like the schemas say."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.spec import Spec, load_spec


def test_load_spec_is_cached(spec: Spec) -> None:
    assert load_spec() is spec


def test_validators_are_built_once(spec: Spec) -> None:
    first = spec.validator("/file-xxxx/addTags", "input")
    assert first is not None and spec.validator("/file-xxxx/addTags", "input") is first
    assert spec.validator("/file-xxxx/addTags", "output") is not first


def test_validator_reports_paths_and_messages(spec: Spec) -> None:
    validator = spec.validator("/file-xxxx/addTags", "input")
    good = {"project": "project-B0000000000000000000000Q", "tags": ["a"]}
    bad = {"project": 3, "tags": ["a", 7]}
    assert validator.is_valid(good) and validator.errors(good) == []
    assert not validator.is_valid(bad)
    paths = [path for path, _ in validator.errors(bad)]
    assert "$.project" in paths and "$.tags[1]" in paths


def test_validator_takes_lone_surrogates(spec: Spec) -> None:
    # An answer's "\ud800" parses to a lone surrogate, which the fast (Rust) validator cannot take as UTF-8.
    validator = spec.validator("/file-xxxx/addTags", "input")
    project = "project-B0000000000000000000000Q"
    assert validator.is_valid({"project": project, "tags": ["a\ud800"]})
    assert not validator.is_valid({"project": project[:-1] + "\ud800", "tags": ["a"]})   # the pattern fails
    assert not validator.is_valid({"project\ud800": project, "tags": ["a"]})              # project missing


def test_no_validator_without_a_schema(spec: Spec) -> None:
    assert spec.validator("/database-xxxx/describe", "input") is None
    assert spec.method_doc("/database-xxxx/describe") is None and spec.schema_uri("/database-xxxx/describe") is None
    with pytest.raises(ValueError):
        spec.validator("/file-xxxx/addTags", "both")


def test_schema_uri_is_the_method_document_id(spec: Spec) -> None:
    uri = spec.schema_uri("/file-xxxx/addTags")
    assert uri == "https://dxconform.invalid/schemas/methods/file-xxxx/addTags.json"
    assert spec.registry.contents(uri)["x-route"] == "/file-xxxx/addTags"


def test_sha256_covers_the_schema_files(spec: Spec, schemas_copy: Path) -> None:
    assert len(spec.sha256) == 64
    assert Spec(schemas_copy).sha256 == spec.sha256
    target = schemas_copy / "types" / "common.json"
    target.write_text(target.read_text() + " ")
    assert Spec(schemas_copy).sha256 != spec.sha256


def test_a_route_without_schema_in_a_copy_loses_its_flags(schemas_copy: Path) -> None:
    (schemas_copy / "methods" / "file-xxxx" / "addTags.json").unlink()
    copy = Spec(schemas_copy)
    route = copy.route("/file-xxxx/addTags")
    assert (route.has_input_schema, route.has_output_schema) == (False, False)
    assert copy.validator("/file-xxxx/addTags", "input") is None
