"""Bundling schema definitions into one self-contained document (OpenAPI components/schemas)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urljoin

from .schemas import SchemaDocument, SpecError, absolute_ref

COMPONENTS_POINTER = "#/components/schemas/"
# Keywords whose values are data, not schemas: a "$ref" inside them is not a reference.
DATA_KEYWORDS = ("examples", "enum", "const", "default")


def component_prefix(path: str) -> str:
    """The component-name prefix of a schema file: types/common.json -> common,
    methods/file-xxxx/addTags.json -> file-xxxx.addTags (names must match [a-zA-Z0-9.\\-_]+)."""
    stem = path[: -len(".json")] if path.endswith(".json") else path
    for folder in ("types/", "methods/"):
        if stem.startswith(folder):
            stem = stem[len(folder):]
            break
    return stem.replace("/", ".")


class Bundler:
    """Copies the $defs that operations reach into `components`, rewriting every $ref to point there."""

    def __init__(self, documents: list[SchemaDocument]):
        self._documents = {d.uri: d for d in documents}
        self.components: dict[str, Any] = {}

    def ref_to(self, uri: str, definition: str) -> dict[str, str]:
        """A local {"$ref"} to `definition` of the document `uri`, bundling it (and what it reaches)."""
        return {"$ref": self._component_ref(uri, f"/$defs/{definition}")}

    def _component_ref(self, uri: str, fragment: str) -> str:
        document = self._documents.get(uri)
        if document is None:
            raise SpecError(f"$ref to {uri}, which is not a document of schemas/")
        parts = fragment.split("/", 3)  # '', '$defs', name, rest
        if len(parts) < 3 or parts[0] != "" or parts[1] != "$defs":
            raise SpecError(f"{document.path}: only references into $defs can be bundled, not #{fragment}")
        name = parts[2]
        definitions = document.contents.get("$defs") or {}
        if name not in definitions:
            raise SpecError(f"{document.path}: no $defs/{name}")
        component = f"{component_prefix(document.path)}.{name}"
        if component not in self.components:
            self.components[component] = {}  # reserve first: definitions may refer to themselves
            self.components[component] = self._rewrite(definitions[name], uri)
        rest = f"/{parts[3]}" if len(parts) == 4 else ""
        return COMPONENTS_POINTER + component + rest

    def _rewrite(self, node: Any, base: str) -> Any:
        if isinstance(node, list):
            return [self._rewrite(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
        out = {}
        for key, value in node.items():
            if key in ("$id", "$schema", "$defs"):
                continue  # identity lives in the component name; $defs are bundled on demand
            if key == "$ref" and isinstance(value, str):
                out[key] = self._component_ref(*absolute_ref(base, value))
            elif key.startswith("x-") or key in DATA_KEYWORDS:
                out[key] = copy.deepcopy(value)
            elif key == "properties" and isinstance(value, dict):
                out[key] = {name: self._rewrite(sub, base) for name, sub in value.items()}
            else:
                out[key] = self._rewrite(value, base)
        return out
