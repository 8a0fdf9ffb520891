"""Method files: every core route has one, complete; each file names its route and only known error types."""

from __future__ import annotations

import pytest

from conformance.spec import Spec, load_spec, method_route_key

SPEC = load_spec()
CORE_ROUTES = [r.route for r in SPEC.profile_routes("core")]
METHOD_FILES = sorted(SPEC.method_documents.items())


@pytest.mark.parametrize("route_key", CORE_ROUTES)
def test_core_route_has_a_complete_method_file(spec: Spec, route_key: str) -> None:
    doc = spec.method_doc(route_key)
    assert doc is not None, f"schemas/methods{route_key}.json is missing"
    assert {"input", "output"} <= set(doc.get("$defs", {})), "needs $defs.input and $defs.output"
    assert isinstance(doc.get("x-source"), str) and doc["x-source"].strip(), "needs x-source"
    assert isinstance(doc.get("x-errors"), list), "needs x-errors (may be empty)"
    examples = doc.get("x-examples", {})
    assert examples.get("input", {}).get("valid"), "needs a valid input example"
    assert examples.get("input", {}).get("invalid"), "needs an invalid input example"
    assert examples.get("output", {}).get("valid"), "needs a valid output example"


@pytest.mark.parametrize(("route_key", "document"), METHOD_FILES, ids=[k for k, _ in METHOD_FILES])
def test_method_file_names_its_route(spec: Spec, route_key: str, document) -> None:
    assert method_route_key(document.path) == route_key
    assert document.contents.get("x-route") == route_key, "x-route must equal the route its path stands for"
    assert route_key in {r.route for r in spec.routes}, f"{route_key} is not a route of the registry"
    assert document.contents.get("title") == f"POST {route_key}"


@pytest.mark.parametrize(("route_key", "document"), METHOD_FILES, ids=[k for k, _ in METHOD_FILES])
def test_method_file_lists_only_known_error_types(spec: Spec, route_key: str, document) -> None:
    unknown = set(document.contents.get("x-errors", [])) - set(spec.error_types)
    assert not unknown, f"x-errors names types that types/errors.json does not define: {sorted(unknown)}"


def test_non_core_routes_have_no_method_file_unless_marked(spec: Spec) -> None:
    # A schema for a route outside core must say which profile it serves, so nobody mistakes it for core.
    for route_key, document in METHOD_FILES:
        route = spec.route(route_key) if route_key in {r.route for r in spec.routes} else None
        if route is not None and route.profile != "core":
            assert document.contents.get("x-profile") == route.profile, (
                f"{document.path} describes a {route.profile} route: mark it with \"x-profile\": \"{route.profile}\"")


def test_every_documented_error_type_has_a_status_level_and_source(spec: Spec) -> None:
    assert spec.error_types["InvalidInput"]["status"] == 422
    assert spec.error_types["ResourceNotFound"]["status"] == 404
    assert spec.error_types["MalformedJSON"]["status"] == 400
    for name, entry in spec.error_types.items():
        assert entry["status"] is None or 400 <= entry["status"] <= 599, name
        assert entry["level"] in ("MUST", "SHOULD", "MAY"), name
        assert entry["source"], name
