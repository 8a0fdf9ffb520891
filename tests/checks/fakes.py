"""A small stand-in for conformance.spec (same API) and a builder of synthetic exchanges for check tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import referencing
from referencing.jsonschema import DRAFT202012

from conformance.model import Exchange, Headers, Request, Response

BASE = "https://fake.invalid/schemas/"
COMMON = {
    "$id": BASE + "types/common.json",
    "$defs": {
        "int": {"type": "integer", "x-dx-type": "int"},
        "timestamp": {"type": "integer", "minimum": 0, "x-dx-type": "timestamp"},
        "fileIdStrict": {"type": "string", "pattern": "^file-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$", "x-dx-id": "strict"},
    },
}
DESCRIBE = {
    "$id": BASE + "methods/file-xxxx/describe.json",
    "$defs": {"output": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"$ref": "../../types/common.json#/$defs/fileIdStrict"},
            "size": {"$ref": "../../types/common.json#/$defs/int"},
            "created": {"$ref": "../../types/common.json#/$defs/timestamp"},
            "modified": {"$ref": "../../types/common.json#/$defs/timestamp"},
            "price": {"type": "number"},
            "limit": {"anyOf": [{"$ref": "../../types/common.json#/$defs/int"}, {"type": "null"}]},
            "ratio": {"anyOf": [{"$ref": "../../types/common.json#/$defs/int"}, {"type": "number"}]},
            "parts": {"type": "object", "additionalProperties": {
                "type": "object", "properties": {"size": {"$ref": "../../types/common.json#/$defs/int"}}}},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "setAt": {"$ref": "../../types/common.json#/$defs/timestamp"}}}},
        },
    }},
}
ERROR_TYPES = {
    "InvalidInput": {"status": 422, "level": "MUST", "source": "live Java tests"},
    "PermissionDenied": {"status": 401, "level": "SHOULD", "source": "dxfuse only"},
    "ResourceNotFound": {"status": 404, "level": "MUST", "source": "docs"},
    "OrgExpired": {"status": None, "level": "MAY", "source": "dxpy"},
    "ServiceUnavailable": {"status": 503, "level": "MUST", "source": "clients"},
}
_ID_PATH = re.compile(r"^/([a-z]+)-[0-9A-Za-z]{24}/([A-Za-z]+)$")


@dataclass(frozen=True)
class FakeRoute:
    route: str
    cls: str
    method: str
    profile: str = "core"


class FakeValidator:
    def __init__(self, uri: str, registry: referencing.Registry):
        self._validator = jsonschema.Draft202012Validator({"$ref": uri}, registry=registry)

    def is_valid(self, instance: Any) -> bool:
        return self._validator.is_valid(instance)

    def errors(self, instance: Any) -> list[tuple[str, str]]:
        return sorted((json.dumps(list(e.absolute_path)), e.message) for e in self._validator.iter_errors(instance))


class FakeSpec:
    """Two schema documents and a few error types; enough to exercise every check."""

    def __init__(self):
        self.registry = referencing.Registry().with_resources(
            [(doc["$id"], DRAFT202012.create_resource(doc)) for doc in (COMMON, DESCRIBE)])
        self.error_types = ERROR_TYPES
        self._docs = {"/file-xxxx/describe": DESCRIBE}

    def match(self, path: str) -> FakeRoute | None:
        found = _ID_PATH.match(path)
        if found:
            return FakeRoute(f"/{found.group(1)}-xxxx/{found.group(2)}", found.group(1), found.group(2))
        if path.startswith("/system/"):
            return FakeRoute(path, "system", path.rsplit("/", 1)[-1])
        return None

    def schema_uri(self, route: str) -> str | None:
        doc = self._docs.get(route)
        return doc["$id"] if doc else None

    def method_doc(self, route: str) -> dict | None:
        return self._docs.get(route)

    def validator(self, route: str, direction: str) -> FakeValidator | None:
        uri = self.schema_uri(route)
        return FakeValidator(f"{uri}#/$defs/{direction}", self.registry) if uri else None


FILE_ID = "file-B0000000000000000000000Q"
PROJECT_ID = "project-B0000000000000000000000Q"
JSON_HEADERS = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"}


def exchange(status: int = 200, body: Any = None, *, raw: bytes | None = None, path: str = f"/{FILE_ID}/describe",
             headers: dict[str, str] | None = None, request_body: Any = None, method: str = "POST",
             route: str | None = None, truncated: bool = False) -> Exchange:
    """A synthetic exchange: a JSON (or raw) answer to a POST of request_body (default {})."""
    content = raw if raw is not None else json.dumps({} if body is None else body).encode()
    sent = json.dumps({} if request_body is None else request_body).encode()
    request = Request(method=method, url="http://127.0.0.1:1" + path, path=path,
                      headers=Headers({"Authorization": "Bearer secret-token"}), body=sent)
    response = Response(status=status, headers=Headers(JSON_HEADERS if headers is None else headers),
                        body=content, truncated=truncated)
    return Exchange(request=request, response=response, elapsed_ms=1, route=route)
