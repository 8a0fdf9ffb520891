"""The route registry: exactly the 208 routes of the upstream table, well-formed, with the core profile."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from conformance.spec import Spec

# Facts carried from the upstream wrapper table (dx-toolkit src/api_wrappers/wrapper_table.json), checked here
# so that a regenerated or hand-edited routes.json cannot drift silently.
ROUTE_COUNT = 208
KIND_COUNTS = {"instance": 174, "system": 22, "class": 10, "service": 2}
RETRYABLE_COUNT = 180
NONCE_ROUTES = {"/file/new", "/record/new", "/applet/new", "/workflow/new", "/app/new", "/globalworkflow/new",
                "/job/new", "/org/new", "/app-xxxx/run", "/applet-xxxx/run", "/workflow-xxxx/run",
                "/globalworkflow-xxxx/run"}
NOT_RETRYABLE_INSTANCE = {
    "/project-xxxx/clone", "/project-xxxx/move", "/project-xxxx/removeFolder", "/project-xxxx/removeObjects",
    "/project-xxxx/renameFolder", "/project-xxxx/invite", "/container-xxxx/clone", "/container-xxxx/move",
    "/container-xxxx/removeFolder", "/container-xxxx/removeObjects", "/container-xxxx/renameFolder",
    "/database-xxxx/relocate", "/job-xxxx/getLog", "/user-xxxx/update"}
CORE = (
    {f"/system/{m}" for m in ("whoami", "greet", "headers", "findDataObjects", "findProjects",
                              "describeDataObjects", "describeProjects", "resolveDataObjects")}
    | {"/project/new", "/file/new", "/record/new"}
    | {f"/project-xxxx/{m}" for m in ("describe", "update", "destroy", "listFolder", "newFolder", "removeFolder",
                                      "renameFolder", "move", "removeObjects", "clone", "addTags", "removeTags",
                                      "setProperties", "invite", "decreasePermissions", "leave")}
    | {f"/container-xxxx/{m}" for m in ("clone", "describe", "destroy", "listFolder", "move", "newFolder",
                                        "removeFolder", "removeObjects", "renameFolder")}
    | {f"/file-xxxx/{m}" for m in ("addTags", "addTypes", "close", "describe", "download", "getDetails",
                                   "listProjects", "removeTags", "removeTypes", "rename", "setDetails",
                                   "setProperties", "setVisibility", "upload")}
    | {f"/record-xxxx/{m}" for m in ("addTags", "addTypes", "close", "describe", "getDetails", "listProjects",
                                     "removeTags", "removeTypes", "rename", "setDetails", "setProperties",
                                     "setVisibility")}
)
SPOT_CHECKS = [
    ("/file-xxxx/close", "/{file_id}/close", "instance", "file", True, False, "core"),
    ("/file/new", "/file/new", "class", "file", False, True, "core"),
    ("/project/new", "/project/new", "class", "project", False, False, "core"),
    ("/system/whoami", "/system/whoami", "system", None, True, False, "core"),
    ("/notifications/markRead", "/notifications/markRead", "service", None, True, False, "notifications"),
    ("/project-xxxx/transfer", "/{project_id}/transfer", "instance", "project", True, False, "projects-admin"),
    ("/applet-xxxx/run", "/{applet_id}/run", "instance", "applet", False, True, "executables"),
    ("/system/findJobs", "/system/findJobs", "system", None, True, False, "executables"),
    ("/dbcluster/new", "/dbcluster/new", "class", "dbcluster", False, False, "databases"),
    ("/system/findDatabases", "/system/findDatabases", "system", None, True, False, "databases"),
    ("/org-xxxx/invite", "/{org_id}/invite", "instance", "org", True, False, "orgs-users"),
    ("/user-xxxx/update", "/{user_id}/update", "instance", "user", False, False, "orgs-users"),
    ("/system/shortenURL", "/system/shortenURL", "system", None, True, False, "misc"),
]
URL_FORM = re.compile(r"^/(system|notifications|[a-z]+|\{[a-z]+_id\})/[A-Za-z][A-Za-z0-9]*$")


def test_the_registry_has_exactly_the_upstream_routes(spec: Spec) -> None:
    keys = [r.route for r in spec.routes]
    assert len(keys) == ROUTE_COUNT
    assert len(set(keys)) == ROUTE_COUNT, [k for k, n in Counter(keys).items() if n > 1]
    assert Counter(r.subject_kind for r in spec.routes) == KIND_COUNTS
    assert sum(r.retryable for r in spec.routes) == RETRYABLE_COUNT
    assert {r.route for r in spec.routes if r.accepts_nonce} == NONCE_ROUTES
    not_retryable = {r.route for r in spec.routes if not r.retryable}
    assert NOT_RETRYABLE_INSTANCE <= not_retryable
    assert all(k.endswith("/new") or k.endswith("/run") for k in not_retryable - NOT_RETRYABLE_INSTANCE)


def test_the_core_profile_is_exactly_the_62_core_routes(spec: Spec) -> None:
    assert len(CORE) == 62
    assert {r.route for r in spec.profile_routes("core")} == CORE


def test_every_profile_is_documented_in_the_header(spec: Spec) -> None:
    documented = set(spec.registry_header["profiles"])
    assert {r.profile for r in spec.routes} == documented
    assert spec.registry_header["format"] == "dxconform-routes/1"
    assert "wrapper_table.json" in spec.registry_header["origin"]


@pytest.mark.parametrize("expected", SPOT_CHECKS, ids=lambda e: e[0])
def test_spot_check(spec: Spec, expected) -> None:
    route = spec.route(expected[0])
    actual = (route.route, route.url_form, route.subject_kind, route.cls, route.retryable, route.accepts_nonce,
              route.profile)
    assert actual == expected


def test_every_route_is_well_formed(spec: Spec) -> None:
    for r in spec.routes:
        assert URL_FORM.match(r.url_form), r
        subject, method = r.route[1:].split("/")
        assert method == r.method
        if r.subject_kind == "instance":
            assert subject == f"{r.cls}-xxxx" and r.url_form == f"/{{{r.cls}_id}}/{r.method}", r
        elif r.subject_kind == "class":
            assert subject == r.cls and r.method == "new" and r.url_form == r.route, r
        else:
            assert r.cls is None and r.url_form == r.route, r
            assert subject == ("system" if r.subject_kind == "system" else "notifications"), r
        assert r.source is None or r.source.startswith("https://documentation.dnanexus.com/"), r


def test_undocumented_routes_have_no_source(spec: Spec) -> None:
    undocumented = {r.route for r in spec.routes if r.source is None}
    assert {"/system/greet", "/system/headers", "/notifications/get", "/container-xxxx/destroy"} <= undocumented
    assert spec.route("/system/whoami").source.endswith("#api-method-system-whoami")


def test_an_unknown_route_key_is_a_key_error(spec: Spec) -> None:
    with pytest.raises(KeyError):
        spec.route("/file-xxxx/noSuchMethod")


@pytest.mark.parametrize(("path", "key"), [
    ("/system/whoami", "/system/whoami"),
    ("/file/new", "/file/new"),
    ("/notifications/get", "/notifications/get"),
    ("/file-B0000000000000000000000Q/close", "/file-xxxx/close"),
    ("/project-aB3456789012345678901234/describe", "/project-xxxx/describe"),  # loose alphabet, as dxpy sends
    ("/container-B0000000000000000000000Q/listFolder", "/container-xxxx/listFolder"),
    ("/record-B0000000000000000000000Q/describe?x=1", "/record-xxxx/describe"),  # query ignored
    ("/app-swiss-army-knife/describe", "/app-xxxx/describe"),
    ("/app-bwa_mem/1.0.0/run", "/app-xxxx/run"),
    ("/globalworkflow-B0000000000000000000000Q/run", "/globalworkflow-xxxx/run"),
])
def test_match_finds_the_route_of_a_concrete_path(spec: Spec, path: str, key: str) -> None:
    assert spec.match(path).route == key


@pytest.mark.parametrize("path", [
    "/system/noSuchMethod", "/file/close", "/file-123/close", "/file-B0000000000000000000000QQ/close",
    "/file-B0000000000000000000000Q/noSuchMethod", "/project-B0000000000000000000000Q/close",
    "/None/describe", "/file-xxxx/close", "", "/", "/system", "/system/whoami/extra",
    "/file-B000000000000000000000é0/close",
])
def test_match_refuses_what_is_no_route(spec: Spec, path: str) -> None:
    assert spec.match(path) is None


def test_schema_flags_follow_the_method_files(spec: Spec) -> None:
    for r in spec.routes:
        defs = (spec.method_doc(r.route) or {}).get("$defs", {})
        assert (r.has_input_schema, r.has_output_schema) == ("input" in defs, "output" in defs), r.route
