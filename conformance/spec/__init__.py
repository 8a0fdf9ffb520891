"""The DNAnexus API as data: load_spec() gives the routes, method schemas, validators and error types."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

from ..resources import schemas_dir
from .routes import Route, build_routes, read_registry, route_key_of_path
from .schemas import (
    SchemaDocument,
    SchemaValidator,
    SpecError,
    build_registry,
    build_rs_registry,
    load_documents,
    tree_sha256,
)

__all__ = ["Route", "SchemaValidator", "Spec", "SpecError", "load_spec", "method_route_key"]

ERRORS_PATH = "types/errors.json"
DIRECTIONS = ("input", "output")


def method_route_key(path: str) -> str | None:
    """The route key a schema file stands for: 'methods/file-xxxx/close.json' -> '/file-xxxx/close'."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "methods" and parts[2].endswith(".json"):
        return f"/{parts[1]}/{parts[2][: -len('.json')]}"
    return None


class Spec:
    """Everything schemas/ says, loaded once. Validators are built on first use and kept."""

    def __init__(self, root: Path):
        self.root = root
        self.documents: list[SchemaDocument] = load_documents(root)
        self.method_documents: dict[str, SchemaDocument] = {}
        for doc in self.documents:
            key = method_route_key(doc.path)
            if key is not None:
                self.method_documents[key] = doc
        registry_doc = read_registry(root / "routes.json")
        self.registry_header = {k: v for k, v in registry_doc.items() if k != "routes"}
        self.routes: list[Route] = build_routes(
            registry_doc["routes"], {k: d.contents for k, d in self.method_documents.items()})
        self._by_key = {r.route: r for r in self.routes}
        self.registry = build_registry(self.documents)
        self._rs_registry_cache = None
        self.error_types: dict[str, dict[str, Any]] = self._error_types()
        self.sha256 = tree_sha256(root)
        self._validators: dict[tuple[str, str], SchemaValidator | None] = {}
        self._lock = threading.Lock()

    def _error_types(self) -> dict[str, dict[str, Any]]:
        errors_doc = next((d for d in self.documents if d.path == ERRORS_PATH), None)
        if errors_doc is None:
            raise SpecError(f"schemas/{ERRORS_PATH} is missing")
        return {name: dict(entry) for name, entry in errors_doc.contents.get("x-error-types", {}).items()}

    @property
    def _rs_registry(self):
        # Built on first use: jsonschema-rs resolves every $ref while building, so a dangling one fails here
        # (as a SpecError naming it) rather than when the spec is merely loaded.
        if self._rs_registry_cache is None:
            try:
                self._rs_registry_cache = build_rs_registry(self.documents)
            except ValueError as exc:
                raise SpecError(f"schemas/ has an unresolvable $ref: {str(exc).splitlines()[0]}") from None
        return self._rs_registry_cache

    def route(self, key: str) -> Route:
        """The route with this key ('/file-xxxx/close'); KeyError if the registry has none."""
        return self._by_key[key]

    def match(self, path: str) -> Route | None:
        """The route a concrete URL path calls ('/file-B0000000000000000000000Q/close'), or None."""
        key = route_key_of_path(path)
        return self._by_key.get(key) if key else None

    def profile_routes(self, profile: str) -> list[Route]:
        return [r for r in self.routes if r.profile == profile]

    def method_doc(self, route_key: str) -> dict[str, Any] | None:
        doc = self.method_documents.get(route_key)
        return doc.contents if doc else None

    def schema_uri(self, route_key: str) -> str | None:
        doc = self.method_documents.get(route_key)
        return doc.uri if doc else None

    def validator(self, route_key: str, direction: str) -> SchemaValidator | None:
        """The validator of a route's input or output schema; None if schemas/ has no such schema."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'input' or 'output', not {direction!r}")
        cache_key = (route_key, direction)
        with self._lock:
            if cache_key not in self._validators:
                doc = self.method_documents.get(route_key)
                has = doc is not None and direction in (doc.contents.get("$defs") or {})
                self._validators[cache_key] = (
                    SchemaValidator(f"{doc.uri}#/$defs/{direction}", self.registry, self._rs_registry)
                    if has else None)
            return self._validators[cache_key]

    def type_validator(self, document_path: str, name: str) -> SchemaValidator:
        """A validator for a shared definition, e.g. ('types/errors.json', 'envelope')."""
        cache_key = (document_path, name)
        with self._lock:
            if cache_key not in self._validators:
                doc = next((d for d in self.documents if d.path == document_path), None)
                if doc is None or name not in (doc.contents.get("$defs") or {}):
                    raise KeyError(f"{document_path}#/$defs/{name}")
                self._validators[cache_key] = SchemaValidator(
                    f"{doc.uri}#/$defs/{name}", self.registry, self._rs_registry)
            return self._validators[cache_key]


@cache
def _load(root: Path) -> Spec:
    return Spec(root)


def load_spec(root: Path | None = None) -> Spec:
    """The spec in schemas/ (the shipped copy unless `root` names another directory); loaded once per root."""
    return _load((root or schemas_dir()).resolve())
