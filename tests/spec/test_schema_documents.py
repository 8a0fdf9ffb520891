"""Every schema document is Draft 2020-12, named by its path, and every $ref in it resolves locally."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance.spec import Spec, SpecError, load_spec
from conformance.spec.schemas import DRAFT_2020_12, iter_refs, unresolvable_refs

ID_BASE = "https://dxconform.invalid/schemas/"
DOCUMENTS = load_spec().documents


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.path)
def test_document_is_a_valid_draft_2020_12_schema(document) -> None:
    assert document.contents.get("$schema") == DRAFT_2020_12
    jsonschema.Draft202012Validator.check_schema(document.contents)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.path)
def test_document_id_names_its_path(document) -> None:
    # $ids use the reserved .invalid domain and mirror the file layout, so relative $refs mean what they say
    assert document.uri == ID_BASE + document.path


def test_every_ref_resolves(spec: Spec) -> None:
    assert sum(1 for d in spec.documents for _ in iter_refs(d.contents, d.uri)) > 0
    assert unresolvable_refs(spec.documents, spec.registry) == []


def test_the_ref_walk_sees_refs_in_schemas_but_not_in_data() -> None:
    document = {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"properties": {"$ref": {"$ref": "other.json"}}}},
        "x-examples": {"input": {"valid": [{"$ref": "not-a-reference"}]}},
        "enum": [{"$ref": "data"}],
    }
    refs = sorted(ref for _, ref in iter_refs(document, "https://dxconform.invalid/schemas/x.json"))
    assert refs == ["#/$defs/b", "other.json"]


def _write(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_dangling_ref_is_reported(schemas_copy: Path) -> None:
    target = schemas_copy / "types" / "broken.json"
    _write(target, {"$schema": DRAFT_2020_12, "$id": ID_BASE + "types/broken.json",
                    "$defs": {"a": {"$ref": "common.json#/$defs/noSuchType"},
                              "b": {"$ref": "nowhere.json"},
                              "c": {"$ref": "https://example.com/schema.json"}}})
    broken = Spec(schemas_copy)
    problems = unresolvable_refs(broken.documents, broken.registry)
    assert len(problems) == 3 and all(p.startswith("types/broken.json: ") for p in problems), problems


def test_a_duplicate_id_is_refused(schemas_copy: Path) -> None:
    common = json.loads((schemas_copy / "types" / "common.json").read_text())
    _write(schemas_copy / "types" / "copy.json", common)
    with pytest.raises(SpecError, match="already used"):
        Spec(schemas_copy)


def test_a_document_without_id_is_refused(schemas_copy: Path) -> None:
    _write(schemas_copy / "types" / "anonymous.json", {"$schema": DRAFT_2020_12, "type": "object"})
    with pytest.raises(SpecError, match=r"\$id"):
        Spec(schemas_copy)
