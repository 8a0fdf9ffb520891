"""Bridge to schemathesis: the OpenAPI export of each fuzzed profile loaded once, and a positive body
strategy per route key."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

from hypothesis import strategies as st

from ..spec import Spec, load_spec
from ..spec.openapi import build_openapi
from .config import CORE, FUZZ_PROFILES

# Where the pool or the runner gives the value: generated values there are replaced, never sent as is.
PATH_PARAMETER_SUFFIX = "_hash"
PATH_PARAMETER = re.compile(r"\{([a-z]+" + PATH_PARAMETER_SUFFIX + r")\}")
PATH_PARAMETER_VALUE = "0" * 24
# The profiles the fuzzer can drive (it makes the objects their instance routes need), core first.


def _component(document: dict[str, Any], node: Any) -> Any:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return document["components"]["schemas"].get(ref.rsplit("/", 1)[1], node)
    return node


def closed_for_generation(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the export whose objects with declared properties take no others (allOf object parts
    merged first, so a closed part does not shut out its sibling's properties).

    Only for drawing request bodies: the API ignores unknown keys, and drawing arbitrary JSON under unknown
    keys was four fifths of the fuzzer's time. Unknown keys are still sent, as an edge value (edges.py)."""
    document = copy.deepcopy(document)

    def merge_object_parts(node: dict) -> None:
        parts = [_component(document, part) for part in node.get("allOf", ())]
        if parts and all(isinstance(p, dict) and "properties" in p and "allOf" not in p for p in parts):
            node.pop("allOf")
            node["type"] = "object"
            node["properties"] = {k: v for p in parts for k, v in p["properties"].items()}
            node["required"] = sorted({r for p in parts for r in p.get("required", ())})

    def close(node: Any) -> None:
        if isinstance(node, dict):
            merge_object_parts(node)
            if "properties" in node and "additionalProperties" not in node and "patternProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(document["components"]["schemas"])
    for item in document["paths"].values():
        close(item["post"]["requestBody"])
    return document


@cache
def _export(spec: Spec, profile: str = CORE) -> tuple[dict[str, Any], dict[str, str]]:
    """The OpenAPI export of a profile and its operations (route key -> path), in the export's order."""
    document = build_openapi(spec, profile)
    return document, {item["post"]["x-dx-route"]: path for path, item in document["paths"].items()}


@cache
def _schemathesis_schema(spec: Spec, profile: str = CORE) -> tuple[Any, dict[str, Any]]:
    import schemathesis  # imported late: it is heavy, and only a plan that falls back to it needs it

    document, operations = _export(spec, profile)
    schema = schemathesis.openapi.from_dict(closed_for_generation(document))
    # NUL bytes in strings are a transport curiosity, not an API edge: servers in C cut strings there.
    schema.config.generation.update(allow_x00=False)
    return schema, operations


def fuzzable_routes(spec: Spec | None = None, profiles: tuple[str, ...] = (CORE,)) -> list[str]:
    """The route keys the OpenAPI exports of `profiles` have an operation for, profile by profile in
    FUZZ_PROFILES order, each in its export's order. Profiles the fuzzer cannot drive are left out."""
    spec = spec or load_spec()
    return [route for profile in FUZZ_PROFILES if profile in profiles
            for route in _export(spec, profile)[1]]


def route_profile(spec: Spec, route: str) -> str:
    """The profile a route key belongs to (schemas/routes.json)."""
    return spec.route(route).profile


def documented_errors(spec: Spec, route: str) -> frozenset[str]:
    """The error types an operation of the export declares: the method's x-errors and the protocol errors."""
    from ..spec.openapi import PROTOCOL_ERRORS

    doc = spec.method_doc(route) or {}
    return frozenset((*PROTOCOL_ERRORS, *(doc.get("x-errors") or ()), "MalformedJSON"))


@cache
def body_strategy(spec: Spec, route: str) -> st.SearchStrategy[Any]:
    """Schema-valid request bodies of one route, drawn by schemathesis from the OpenAPI export.

    The body's own strategy (schemathesis's body parameter), not a whole case: a case also draws path
    parameters, headers and the rest, which the fuzzer never sends (the pool gives the path's IDs) and which
    took most of the generation time. Should a schemathesis release move that method, the whole case's body
    is drawn instead, with the path parameters fixed."""
    from schemathesis import GenerationMode

    schema, operations = _schemathesis_schema(spec, route_profile(spec, route))
    path = operations[route]
    operation = schema[path]["POST"]
    try:
        config = schema.config.generation_for(operation=operation, phase="fuzzing")
        return operation.body[0].get_strategy(operation, config, GenerationMode.POSITIVE)
    except (AttributeError, IndexError, TypeError):
        fixed = {name: PATH_PARAMETER_VALUE for name in PATH_PARAMETER.findall(path)}
        return operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=fixed).map(
            lambda case: case.body)
