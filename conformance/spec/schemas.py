"""The schema documents of schemas/: loading, the $ref registry, validators and the content digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

import jsonschema_rs
import referencing
import referencing.exceptions
import referencing.jsonschema

if TYPE_CHECKING:
    import jsonschema

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# schemas/ files that are data about the API, not JSON Schema documents.
NOT_SCHEMAS = frozenset({"routes.json"})


class SpecError(Exception):
    """schemas/ is broken: unreadable JSON, a document without $id, two documents with one $id."""


@dataclass(frozen=True)
class SchemaDocument:
    """One JSON Schema file: its path relative to schemas/ (posix), its $id and its parsed contents."""

    path: str
    uri: str
    contents: dict[str, Any]


def load_documents(root: Path) -> list[SchemaDocument]:
    """Every JSON Schema document under `root`, sorted by path."""
    documents, seen = [], {}
    for file in sorted(root.rglob("*.json")):
        rel = file.relative_to(root).as_posix()
        if rel in NOT_SCHEMAS:
            continue
        try:
            contents = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SpecError(f"schemas/{rel}: not readable JSON: {exc}") from None
        uri = contents.get("$id") if isinstance(contents, dict) else None
        if not isinstance(uri, str) or not uri:
            raise SpecError(f"schemas/{rel}: a schema document needs a string $id")
        if uri in seen:
            raise SpecError(f"schemas/{rel}: $id {uri} is already used by schemas/{seen[uri]}")
        seen[uri] = rel
        documents.append(SchemaDocument(rel, uri, contents))
    return documents


def _refuse_retrieval(uri: str):
    # Every reference must resolve inside schemas/; nothing is ever fetched from the network.
    raise referencing.exceptions.NoSuchResource(ref=uri)


def build_registry(documents: list[SchemaDocument]) -> referencing.Registry:
    resources = [(d.uri, referencing.jsonschema.DRAFT202012.create_resource(d.contents)) for d in documents]
    return referencing.Registry(retrieve=_refuse_retrieval).with_resources(resources).crawl()


def _refuse_rs_retrieval(uri: str):
    raise ValueError(f"{uri} is not a schema of dxconform (no network retrieval)")


def build_rs_registry(documents: list[SchemaDocument]) -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(d.uri, d.contents) for d in documents], retriever=_refuse_rs_retrieval)


def json_path(parts) -> str:
    """A JSONPath-like rendering of an instance location: $, $.key, $[0], $["odd key"]."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


class SchemaValidator:
    """Validates instances against one schema (given by URI) of the registry.

    is_valid() uses jsonschema-rs (fast, for the hot path of checking every answer); errors() uses Python
    jsonschema, whose messages are the readable ones. Both check formats. The jsonschema validator is built
    (and jsonschema imported: ~0.8 s, its IRI format grammars) only when an instance fails.
    """

    def __init__(self, uri: str, registry: referencing.Registry, rs_registry: jsonschema_rs.Registry):
        self.uri = uri
        wrapper = {"$schema": DRAFT_2020_12, "$ref": uri}
        self._fast = jsonschema_rs.Draft202012Validator(
            wrapper, registry=rs_registry, validate_formats=True, retriever=_refuse_rs_retrieval)
        self._wrapper, self._registry = wrapper, registry
        self._readable_validator: jsonschema.Draft202012Validator | None = None

    @property
    def _readable(self) -> jsonschema.Draft202012Validator:
        if self._readable_validator is None:
            import jsonschema

            self._readable_validator = jsonschema.Draft202012Validator(
                self._wrapper, registry=self._registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        return self._readable_validator

    def is_valid(self, instance: Any) -> bool:
        try:
            return self._fast.is_valid(instance)
        except UnicodeEncodeError:
            # jsonschema-rs takes strings as UTF-8, and a lone surrogate (an answer's "\ud800") is not UTF-8:
            # the Python validator reads it as any other character.
            return not any(True for _ in self.raw_errors(instance))

    def errors(self, instance: Any) -> list[tuple[str, str]]:
        """(JSON path, message) for every violation, sorted by path; [] when the instance is valid."""
        found = {(json_path(e.absolute_path), e.message) for e in self._readable.iter_errors(instance)}
        return sorted(found)

    def raw_errors(self, instance: Any) -> Iterator[jsonschema.ValidationError]:
        """The jsonschema errors themselves, for callers that need the failing keyword."""
        return self._readable.iter_errors(instance)


def iter_refs(node: Any, base: str) -> Iterator[tuple[str, str]]:
    """(base URI, $ref) for every reference in a schema document, following nested $id changes of base.

    Values of non-schema keywords (x-* annotations, examples, enum, const, default) are data, not schemas,
    so a "$ref" key inside them is not a reference.
    """
    if isinstance(node, list):
        for item in node:
            yield from iter_refs(item, base)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        base = urljoin(base, node["$id"])
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            yield base, value
        elif key.startswith("x-") or key in ("examples", "enum", "const", "default"):
            continue
        elif key == "properties" and isinstance(value, dict):
            # property names are data; each value is a schema
            for sub in value.values():
                yield from iter_refs(sub, base)
        else:
            yield from iter_refs(value, base)


def unresolvable_refs(documents: list[SchemaDocument], registry: referencing.Registry) -> list[str]:
    """One line per $ref that does not resolve: 'path: ref (reason)'."""
    problems = []
    for doc in documents:
        for base, ref in iter_refs(doc.contents, doc.uri):
            try:
                registry.resolver(base_uri=base).lookup(ref)
            except referencing.exceptions.Unresolvable as exc:
                problems.append(f"{doc.path}: {ref} ({type(exc).__name__})")
    return problems


def absolute_ref(base: str, ref: str) -> tuple[str, str]:
    """(document URI, JSON pointer fragment) that `ref` names when read in a document at `base`."""
    uri, fragment = urldefrag(urljoin(base, ref))
    return uri, fragment


def tree_sha256(root: Path) -> str:
    """Digest of every JSON file under root: sorted relative paths and their bytes."""
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*.json"), key=lambda p: p.relative_to(root).as_posix()):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


_ALL_COMBINATORS = ("allOf", "anyOf", "oneOf")
_BRANCHES = ("then", "else")
# A schema that refers to itself must not loop: no real schema nests deeper than this.
_MAX_SCHEMAS_VISITED = 200


def declared_properties(spec: Any, route_key: str, direction: str,
                        combinators: tuple[str, ...] = _ALL_COMBINATORS) -> set[str] | None:
    """Top-level property names of a route's input or output schema (through $ref, the given combinators and,
    with all of them, if/then/else); None when schemas/ has no such schema."""
    uri = spec.schema_uri(route_key)
    doc = spec.method_doc(route_key)
    if uri is None or doc is None or direction not in (doc.get("$defs") or {}):
        return None
    resolver = spec.registry.resolver(base_uri=uri)
    names: set[str] = set()
    pending = [(resolver, resolver.lookup(f"#/$defs/{direction}").contents)]
    visited = 0
    while pending and visited < _MAX_SCHEMAS_VISITED:
        visited += 1
        current, schema = pending.pop()
        if not isinstance(schema, dict):
            continue
        names.update((schema.get("properties") or {}).keys())
        if isinstance(schema.get("$ref"), str):
            resolved = current.lookup(schema["$ref"])
            pending.append((resolved.resolver, resolved.contents))
        for keyword in combinators:
            pending.extend((current, part) for part in schema.get(keyword) or [])
        if combinators == _ALL_COMBINATORS:
            pending.extend((current, schema[keyword]) for keyword in _BRANCHES if keyword in schema)
    return names
