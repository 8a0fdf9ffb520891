"""Every deliberate fault changes what the reference server does, in the way its rule says, and nothing else is needed.

Each probe runs the same calls against the app without faults and with one fault on, and returns what it
observed; the test asserts the clean observation and the faulty one, so a fault that silently stopped working
(or a clean server that started behaving like a fault) is caught. The app is driven in process through
`RefServerApp.handle` (the whole protocol path), except for the stall, which needs a real server.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from conformance.refserver.app import RefServerApp
from conformance.refserver.context import FIXED_TOKENS, SUITE_ORIGIN, Settings
from conformance.refserver.db import Database
from conformance.refserver.faults import FAULTS, select
from conformance.refserver.server import RefServer

BASE = "http://127.0.0.1:9"
TOKENS = FIXED_TOKENS
STRICT_ID = re.compile(r"^[a-z]+-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$")
MISSING_RECORD = "record-B0000000000000000000000Q"


class InProcess:
    """Calls the app's protocol entry point directly: no sockets, same parsing, auth, faults and envelope."""

    def __init__(self, fault: str | None):
        settings = Settings(closing_ms=0, faults=frozenset({fault} if fault else ()), users=dict(TOKENS))
        self.app = RefServerApp(Database(), settings)

    def call(self, path: str, body: Any = None, user: str | None = "alice", *, method: str = "POST",
             raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, Any]:
        hdrs = {"content-type": "application/json"}
        if user is not None:
            hdrs["authorization"] = f"Bearer {TOKENS[user]}"
        hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
        data = raw if raw is not None else json.dumps({} if body is None else body).encode()
        answer = self.app.handle(method, path, hdrs, data, BASE)
        head = {k.decode(): v.decode() for k, v in answer.headers}
        try:
            parsed = json.loads(answer.body)
        except ValueError:
            parsed = None
        return answer.status, head, parsed

    def ok(self, path: str, body: Any = None, user: str = "alice") -> Any:
        status, _, parsed = self.call(path, body, user)
        assert status == 200, (path, status, parsed)
        return parsed

    def project(self) -> str:
        return self.ok("/project/new", {"name": "p"})["id"]

    def record(self, project: str, **fields) -> str:
        return self.ok("/record/new", {"project": project, **fields})["id"]

    def fetch(self, url: str, method: str = "GET", headers: dict | None = None, body: bytes = b"") -> tuple[int, bytes]:
        answer = self.app.handle(method, urlsplit(url).path, {k.lower(): v for k, v in (headers or {}).items()},
                                 body, BASE)
        return answer.status, answer.body


def error_type(parsed: Any) -> str | None:
    return parsed["error"].get("type") if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict) else None


def shared_with_bob(c: InProcess, level: str) -> tuple[str, str]:
    project = c.project()
    record = c.record(project)
    c.ok(f"/{project}/invite", {"invitee": "user-bob", "level": level})
    return project, record


def uploaded_file(c: InProcess, project: str, data: bytes, announced: bytes) -> tuple[str, int]:
    """A file with one part announced as `announced`; PUT `data`; returns (file, PUT status)."""
    file_id = c.ok("/file/new", {"project": project, "name": "f"})["id"]
    up = c.ok(f"/{file_id}/upload", {"index": 1, "size": len(announced),
                                      "md5": hashlib.md5(announced).hexdigest()})
    status, _ = c.fetch(up["url"], "PUT", up.get("headers"), data)
    return file_id, status


# -- probes: (client) -> observation --------------------------------------------------------------------
def _whoami(c: InProcess, **kw):
    return c.call("/system/whoami", **kw)


def probe_content_type(c):
    return _whoami(c)[1].get("content-type")


def probe_nosniff(c):
    return _whoami(c)[1].get("x-content-type-options")


def probe_error_page(c):
    status, head, parsed = c.call(f"/{MISSING_RECORD}/describe")
    return status, head.get("content-type"), error_type(parsed)


def probe_error_body_keys(c):
    return sorted(c.call(f"/{MISSING_RECORD}/describe")[2])


def probe_invalid_input_status(c):
    status, _, parsed = c.call("/project/new", {"name": 7})
    return status, error_type(parsed)


def probe_created(c):
    created = c.ok(f"/{c.record(c.project())}/describe")["created"]
    return type(created).__name__, created > 10**12


def probe_invalid_json(c):
    status, _, parsed = _whoami(c, raw=b"{not json")
    return status, error_type(parsed)


def probe_get(c):
    return _whoami(c, method="GET")[0]


def probe_no_token(c):
    status, _, parsed = _whoami(c, user=None)
    return status, error_type(parsed)


def probe_close(c):
    record = c.record(c.project())
    c.ok(f"/{record}/close")
    return c.ok(f"/{record}/describe")["state"]


def probe_tags(c):
    project = c.project()
    record = c.record(project)
    c.ok(f"/{record}/addTags", {"project": project, "tags": ["t1"]})
    return c.ok(f"/{record}/describe")["tags"]


def probe_null_property(c):
    project = c.project()
    record = c.record(project, properties={"a": "1", "b": "2"})
    c.ok(f"/{record}/setProperties", {"project": project, "properties": {"a": None}})
    return c.ok(f"/{record}/describe", {"properties": True})["properties"]


def probe_describe_fields(c):
    return sorted(c.ok(f"/{c.record(c.project())}/describe", {"fields": {"name": True}}))


def probe_links(c):
    project = c.project()
    target = c.record(project)
    record = c.record(project, details={"x": {"$dnanexus_link": target}, "y": {"$dnanexus_link": target}})
    return len(c.ok(f"/{record}/describe")["links"])


def probe_limit(c):
    project = c.project()
    for _ in range(3):
        c.record(project)
    return len(c.ok("/system/findDataObjects", {"scope": {"project": project}, "limit": 1})["results"])


def probe_glob(c):
    project = c.project()
    c.record(project, name="alpha")
    c.record(project, name="beta")
    found = c.ok("/system/findDataObjects", {"scope": {"project": project}, "name": {"glob": "a*"}})
    return len(found["results"])


def probe_paging(c):
    project = c.project()
    made = {c.record(project) for _ in range(5)}
    seen, starting = [], None
    while True:
        page = c.ok("/system/findDataObjects", {"scope": {"project": project}, "limit": 2,
                                                **({"starting": starting} if starting else {})})
        seen += [r["id"] for r in page["results"]]
        starting = page["next"]
        if not starting:
            return len(seen), set(seen) == made


def probe_folder_order(c):
    project = c.project()
    for folder in ("/a", "/b", "/c"):
        c.ok(f"/{project}/newFolder", {"folder": folder})
    return c.ok(f"/{project}/listFolder", {"folder": "/"})["folders"]


def probe_nonce(c):
    project = c.project()
    first = c.ok("/record/new", {"project": project, "nonce": "n-1"})["id"]
    again = c.ok("/record/new", {"project": project, "nonce": "n-1"})["id"]
    return first == again


def probe_range(c):
    project = c.project()
    file_id, status = uploaded_file(c, project, b"hello", b"hello")
    assert status == 200
    c.ok(f"/{file_id}/close")
    url = c.ok(f"/{file_id}/download", {"project": project})["url"]
    return c.fetch(url, headers={"Range": "bytes=1-2"})


def probe_unknown_field(c):
    project = c.project()
    status, _, parsed = c.call(f"/{project}/newFolder", {"folder": "/x", "dxconformUnknownKey": 1})
    return status, error_type(parsed)


def probe_text_plain_request(c):
    status, _, parsed = _whoami(c, headers={"Content-Type": "text/plain"})
    return status, error_type(parsed)


def probe_missing_id(c):
    status, _, parsed = c.call(f"/{MISSING_RECORD}/describe")
    return status, error_type(parsed)


def probe_id_alphabet(c):
    project = c.project()
    record = c.record(project, name="r")
    # the server stays consistent: the ID it handed out works, whatever its alphabet
    described = c.ok(f"/{record}/describe")
    return bool(STRICT_ID.match(project)), bool(STRICT_ID.match(record)), described["id"] == record


def probe_permission_denied_status(c):
    project, record = shared_with_bob(c, "VIEW")
    status, _, parsed = c.call(f"/{record}/addTags", {"project": project, "tags": ["x"]}, user="bob")
    return status, error_type(parsed)


def probe_view_writes(c):
    project, record = shared_with_bob(c, "VIEW")
    status, _, parsed = c.call(f"/{record}/addTags", {"project": project, "tags": ["x"]}, user="bob")
    # the level itself is unchanged: only the enforcement is missing
    level = c.ok(f"/{project}/describe", user="bob")["level"]
    return status, error_type(parsed), level


def probe_md5(c):
    _, status = uploaded_file(c, c.project(), b"world", b"hello")
    return status



def probe_cors_origin(c):
    return _whoami(c, headers={"Origin": SUITE_ORIGIN})[1].get("access-control-allow-origin")


def probe_preflight(c):
    hdrs = {"Origin": SUITE_ORIGIN, "Access-Control-Request-Method": "POST"}
    return _whoami(c, method="OPTIONS", user=None, headers=hdrs)[0]


def probe_trailing_garbage(c):
    status, _, parsed = _whoami(c, raw=b"{} trailing")
    return status, error_type(parsed)


def probe_array_describe(c):
    record = c.record(c.project())
    status, _, parsed = c.call(f"/{record}/describe", [{"fields": {"name": True}}])
    return status, error_type(parsed)


def probe_set_details_array(c):
    record = c.record(c.project())
    c.ok(f"/{record}/setDetails", [1, 2])
    return c.ok(f"/{record}/getDetails")


def probe_project_without_name(c):
    status, _, parsed = c.call("/project/new", {})
    return status, error_type(parsed)


def probe_name_number(c):
    status, _, parsed = c.call("/record/new", {"project": c.project(), "name": 7})
    return status, error_type(parsed)


def probe_nonce_reuse(c):
    project = c.project()
    c.ok("/record/new", {"project": project, "nonce": "n-9", "name": "one"})
    status, _, parsed = c.call("/record/new", {"project": project, "nonce": "n-9", "name": "two"})
    return status, error_type(parsed)


def probe_invalid_state_status(c):
    project = c.project()
    record = c.record(project)
    c.ok(f"/{record}/close")
    status, _, parsed = c.call(f"/{record}/addTypes", {"types": ["T"]})
    return status, error_type(parsed)


def probe_error_message(c):
    parsed = c.call(f"/{MISSING_RECORD}/describe")[2]
    return sorted(parsed["error"])


def probe_refusal_status(c):
    """A refusal (bob, at CONTRIBUTE, destroys the project) and a missing record: status and type of each,
    and whether the project survived."""
    project, _ = shared_with_bob(c, "CONTRIBUTE")
    refused, _, parsed = c.call(f"/{project}/destroy", user="bob")
    missing, _, missing_parsed = c.call(f"/{MISSING_RECORD}/describe")
    return refused, error_type(parsed), missing, error_type(missing_parsed), c.ok(f"/{project}/describe")["id"] == project


def probe_hidden(c):
    return c.ok(f"/{c.record(c.project(), hidden=True)}/describe")["hidden"]


def probe_unknown_token(c):
    status, _, parsed = c.call("/system/whoami", headers={"Authorization": "Bearer nobody-has-this"}, user=None)
    missing_status = c.call("/system/whoami", user=None)[0]
    return status, error_type(parsed), missing_status


def probe_contribute_invites(c):
    project = c.project()
    c.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "CONTRIBUTE"})
    status, _, parsed = c.call(f"/{project}/update", {"protected": True}, user="bob")
    # the level itself is unchanged: only the enforcement is missing
    level = c.ok(f"/{project}/describe", user="bob")["level"]
    return status, error_type(parsed), level


def probe_no_access_describe(c):
    project = c.project()
    status, _, parsed = c.call(f"/{project}/describe", user="bob")
    members = c.ok(f"/{project}/describe", {"fields": {"permissions": True}})["permissions"]
    return status, error_type(parsed), sorted(members)


def probe_paging_repeats(c):
    project = c.project()
    made = {c.record(project) for _ in range(5)}
    seen, starting = [], None
    while len(seen) < 20:
        page = c.ok("/system/findDataObjects", {"scope": {"project": project}, "limit": 2,
                                                **({"starting": starting} if starting else {})})
        seen += [r["id"] for r in page["results"]]
        starting = page["next"]
        if not starting:
            break
    return len(seen), set(seen) == made


def probe_hidden_in_listing(c):
    project = c.project()
    c.record(project, hidden=True)
    return len(c.ok(f"/{project}/listFolder", {"folder": "/"})["objects"])


def probe_rename(c):
    project = c.project()
    record = c.record(project, name="before")
    c.ok(f"/{record}/rename", {"project": project, "name": "after"})
    return c.ok(f"/{record}/describe")["name"]


def probe_greet(c):
    status, head, parsed = c.call("/system/greet", {})
    return status, error_type(parsed), "retry-after" in head


def probe_closing(c):
    c.app.settings.closing_ms = 20  # the probes' server closes at once; this one passes through closing
    project = c.project()
    file_id, _ = uploaded_file(c, project, b"hello", b"hello")
    c.ok(f"/{file_id}/close")
    time.sleep(0.1)
    return c.ok(f"/{file_id}/describe")["state"]


def _closed_record_in_two_projects(c):
    source, target = c.project(), c.project()
    record = c.record(source, name="r", close=True)
    c.ok(f"/{source}/clone", {"objects": [record], "project": target})
    return source, target, record


def probe_clone_ids(c):
    _, target, record = _closed_record_in_two_projects(c)
    found = c.ok("/system/findDataObjects", {"scope": {"project": target}})["results"]
    return [r["id"] == record for r in found]


def probe_remove_objects(c):
    source, target, record = _closed_record_in_two_projects(c)
    c.ok(f"/{source}/removeObjects", {"objects": [record]})
    status, _, _ = c.call(f"/{record}/describe", {"project": target})
    return status


# fault -> (probe, observation without faults, observation with the fault)
EXPECTED: dict[str, tuple[Any, Any, Any]] = {
    "text-plain-answers": (probe_content_type, "application/json; charset=utf-8", "text/plain"),
    "no-nosniff": (probe_nosniff, "nosniff", None),
    "html-error-pages": (probe_error_page, (404, "application/json", "ResourceNotFound"), (404, "text/html", None)),
    "envelope-without-error": (probe_error_body_keys, ["error"], ["message", "type"]),
    "invalid-input-as-400": (probe_invalid_input_status, (422, "InvalidInput"), (400, "InvalidInput")),
    "timestamps-in-seconds": (probe_created, ("int", True), ("int", False)),
    "float-timestamps": (probe_created, ("int", True), ("float", True)),
    "accepts-invalid-json": (probe_invalid_json, (400, "MalformedJSON"), (200, None)),
    "accepts-get": (probe_get, 405, 200),
    "ignores-token": (probe_no_token, (401, "InvalidAuthentication"), (200, None)),
    "close-does-nothing": (probe_close, "closed", "open"),
    "tags-do-not-stick": (probe_tags, ["t1"], []),
    "null-keeps-property": (probe_null_property, {"b": "2"}, {"a": "1", "b": "2"}),
    "describe-ignores-fields": (probe_describe_fields, ["id", "name"], None),
    "links-not-deduplicated": (probe_links, 1, 2),
    "limit-ignored": (probe_limit, 1, 3),
    "glob-as-exact": (probe_glob, 1, 0),
    "paging-skips": (probe_paging, (5, True), None),
    "folders-unsorted": (probe_folder_order, ["/a", "/b", "/c"], ["/c", "/b", "/a"]),
    "nonce-not-idempotent": (probe_nonce, True, False),
    "range-ignored": (probe_range, (206, b"el"), None),
    "unknown-fields-rejected": (probe_unknown_field, (200, None), (422, "InvalidInput")),
    "accepts-any-content-type": (probe_text_plain_request, (400, "MalformedJSON"), (200, None)),
    "missing-id-as-invalid-input": (probe_missing_id, (404, "ResourceNotFound"), (422, "InvalidInput")),
    "ids-outside-alphabet": (probe_id_alphabet, (True, True, True), (False, False, True)),
    "permission-denied-as-403": (probe_permission_denied_status, (401, "PermissionDenied"), (403, "PermissionDenied")),
    "permission-not-enforced-at-view": (probe_view_writes, (401, "PermissionDenied", "VIEW"), (200, None, "VIEW")),
    "md5-not-checked": (probe_md5, 400, 200),
    "cors-origin-not-echoed": (probe_cors_origin, SUITE_ORIGIN, None),
    "preflight-refused": (probe_preflight, 200, 405),
    "accepts-trailing-garbage": (probe_trailing_garbage, (400, "MalformedJSON"), (200, None)),
    "accepts-non-object-input": (probe_array_describe, (422, "InvalidInput"), (200, None)),
    "required-name-defaulted": (probe_project_without_name, (422, "InvalidInput"), (200, None)),
    "numbers-coerced-to-strings": (probe_name_number, (422, "InvalidInput"), (200, None)),
    "nonce-reuse-accepted": (probe_nonce_reuse, (422, "InvalidInput"), (200, None)),
    "invalid-state-as-409": (probe_invalid_state_status, (422, "InvalidState"), (409, "InvalidState")),
    "error-without-message": (probe_error_message, ["message", "type"], ["type"]),
    "errors-as-200": (probe_refusal_status, (401, "PermissionDenied", 404, "ResourceNotFound", True),
                      (200, "PermissionDenied", 200, "ResourceNotFound", True)),
    "hidden-as-string": (probe_hidden, True, "true"),
    "unknown-token-accepted": (probe_unknown_token, (401, "InvalidAuthentication", 401), (200, None, 401)),
    "contribute-acts-as-administer": (probe_contribute_invites, (401, "PermissionDenied", "CONTRIBUTE"),
                                      (200, None, "CONTRIBUTE")),
    "project-readable-without-access": (probe_no_access_describe, (404, "ResourceNotFound", ["user-alice"]),
                                        (200, None, ["user-alice"])),
    "paging-repeats": (probe_paging_repeats, (5, True), None),
    "listing-includes-hidden": (probe_hidden_in_listing, 0, 1),
    "rename-does-nothing": (probe_rename, "after", "before"),
    "unavailable-without-retry-after": (probe_greet, (200, None, False), (503, "ServiceUnavailable", False)),
    "closing-never-ends": (probe_closing, "closed", "closing"),
    "clone-changes-id": (probe_clone_ids, [True], [False]),
    "remove-objects-from-every-project": (probe_remove_objects, 200, 404),
}

STALLING = {"hangs-on-whoami"}


def faults_of_this_module() -> set[str]:
    """The faults of the catalogue; the fuzzing faults (faults/fuzz.py) are tested by tests/fuzz."""
    # differential mode's faults are tested in tests/differential, applets' and jobs' in test_faults_executables.py,
    # workflows', analyses' and apps' in test_faults_workflows.py, the real platform's in test_real_platform_facts.py
    from conformance.refserver.faults import (
        DIFF_FAULTS,
        EXECUTABLE_FAULTS,
        REAL_TRAFFIC_FAULTS,
        WORKFLOW_FAULTS,
    )

    fuzz_module = "conformance.refserver.faults.fuzz"
    others = DIFF_FAULTS | EXECUTABLE_FAULTS | WORKFLOW_FAULTS | REAL_TRAFFIC_FAULTS
    return {name for name, f in FAULTS.items() if name not in others
            and not any(getattr(fn, "__module__", "") == fuzz_module for fn in (f.wrap, f.request, f.response))}


def test_every_fault_has_a_probe():
    assert set(EXPECTED) | STALLING == faults_of_this_module()


def test_every_fault_names_an_area_and_a_rule():
    areas = {"url-forms", "json-input", "json-output", "data-types", "auth", "semantics"}
    assert {f.area for f in FAULTS.values()} == areas
    assert all(f.rule and f.area in areas for f in FAULTS.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_changes_behaviour(name):
    probe, clean, broken = EXPECTED[name]
    assert probe(InProcess(None)) == clean
    observed = probe(InProcess(name))
    assert observed != clean
    if broken is not None:
        assert observed == broken


def test_describe_ignores_fields_answers_the_default_set():
    keys = probe_describe_fields(InProcess("describe-ignores-fields"))
    assert {"id", "name", "state", "created", "tags"} <= set(keys)


def test_paging_skips_loses_objects():
    count, complete = probe_paging(InProcess("paging-skips"))
    assert count < 5 and not complete


def test_range_ignored_gives_the_whole_file():
    assert probe_range(InProcess("range-ignored")) == (200, b"hello")


def test_hangs_on_whoami_stalls_that_route_only():
    with RefServer(settings=Settings(faults=frozenset({"hangs-on-whoami"}))) as server:
        auth = {"Authorization": f"Bearer {server.token('alice')}"}
        greet = requests.post(f"{server.url}/system/greet", json={}, headers=auth, timeout=5)
        assert greet.status_code == 200
        with pytest.raises(requests.Timeout):
            requests.post(f"{server.url}/system/whoami", json={}, headers=auth, timeout=0.5)
        # the stall holds one request, not the server
        assert requests.post(f"{server.url}/system/greet", json={}, headers=auth, timeout=5).status_code == 200


def test_ids_outside_alphabet_leaves_other_urls_alone():
    c = InProcess("ids-outside-alphabet")
    status, _, parsed = c.call("/project-\u044d\u043a\u0441/describe")
    assert (status, error_type(parsed)) == (404, "ResourceNotFound")


def test_unknown_fault_is_refused_with_the_known_names():
    with pytest.raises(KeyError, match="unknown fault"):
        select({"no-such-fault"})


def test_unknown_fields_fault_accepts_every_documented_key():
    """The read-tracking must not mistake documented keys for unknown ones (or the fault breaks more rules)."""
    c = InProcess("unknown-fields-rejected")
    project = c.ok("/project/new", {"name": "p", "summary": "s", "description": "d", "tags": ["t"],
                                    "properties": {"k": "v"}})["id"]
    record = c.ok("/record/new", {"project": project, "name": "r", "tags": ["a"], "types": ["T"], "hidden": False,
                                  "properties": {"p": "1"}, "details": {"d": 1}, "folder": "/f", "parents": True,
                                  "nonce": "n-2"})["id"]
    c.ok(f"/{record}/describe", {"project": project, "fields": {"name": True}, "defaultFields": True})
    c.ok("/system/findDataObjects", {"scope": {"project": project, "folder": "/", "recurse": True},
                                     "name": {"glob": "r*"}, "visibility": "either", "limit": 10,
                                     "describe": {"fields": {"name": True}}})
    c.ok(f"/{project}/listFolder", {"folder": "/f", "only": "all", "includeHidden": True})
    c.ok(f"/{record}/setDetails", {"any": "key", "is": "data"})
