"""The reference server does what the real platform was recorded doing (real traffic, issue 20), and each fault of
faults/real_traffic.py is caught by its killer cases in cases/semantics/real-platform.yaml.

The facts are checked over HTTP against the session's server; each fault runs `dxconform run` on the killer cases
only (`-k`, a few seconds), as the self-test does.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
import requests

from conformance.refserver.faults import REAL_TRAFFIC_FAULTS
from conformance.selftest import CATALOGUE, judge_fault
from conformance.selftest.sweep import run_suite

from .dataobject_support import closed_file, new_file, share

MISSING_FILE = "file-B0000000000000000000000Q"
REQUEST_ID = re.compile(r"^[0-9]+-[0-9]+$")
# the nonce of the recording (TestCopy::test_clone_move_project_fail exchange 4): a client bug put quotes in it
QUOTED_NONCE = "b'bbf43f5107c668864466f69213cf72657bc83648acf813d08f8ead171e9c9611'1540593398.398499"


def now_ms() -> int:
    return int(time.time() * 1000)


# -- folders --------------------------------------------------------------------------------------------------
def test_a_missing_folder_is_worded_as_the_platform_words_it(client, project):
    specified = f"The specified folder could not be found in {project}"
    for path, body in [("listFolder", {"folder": "/random_folder"}),
                       ("renameFolder", {"folder": "/random_folder", "name": "x"}),
                       ("move", {"destination": "/random_folder"}),
                       ("newFolder", {"folder": "/no/parent"})]:
        answer = client.expect_error(f"/{project}/{path}", body, "ResourceNotFound", 404)
        assert answer.json["error"]["message"] == specified, path
    removed = client.expect_error(f"/{project}/removeFolder", {"folder": "/temp_file.txt", "recurse": True,
                                                               "force": False, "partial": True},
                                  "ResourceNotFound", 404)
    assert removed.json["error"]["message"] == "The specified folder could not be found"
    other = client.new_project("other")
    clone = client.expect_error(f"/{project}/clone", {"folders": ["/nope"], "project": other}, "ResourceNotFound", 404)
    assert clone.json["error"]["message"] == specified


# -- listProjects -------------------------------------------------------------------------------------------
def test_list_projects_of_an_unknown_or_unseen_object_is_empty(client, project):
    assert client.ok(f"/{MISSING_FILE}/listProjects", {}) == {}
    fid = new_file(client, project)
    assert client.ok(f"/{fid}/listProjects", {}, "bob") == {}
    assert client.ok(f"/{fid}/listProjects", {}) == {project: "ADMINISTER"}
    client.expect_error(f"/{fid}/listProjects", [], "InvalidInput", 422)


# -- the public token ------------------------------------------------------------------------------------------
def test_the_public_token_finds_public_projects_only(client, refserver, project):
    public = {"Authorization": "Bearer PUBLIC"}
    name = f"public-{now_ms()}"
    client.ok(f"/{project}/update", {"name": name})
    found = client.call("/system/findProjects", {"name": name, "level": "VIEW", "limit": 2}, None, headers=public)
    assert (found.status, found.json) == (200, {"results": [], "next": None})
    client.ok(f"/{project}/invite", {"invitee": "PUBLIC", "level": "VIEW"})
    found = client.call("/system/findProjects", {"name": name, "level": "VIEW"}, None, headers=public)
    assert found.json["results"] == [{"id": project, "level": "VIEW", "permissionSources": ["PUBLIC"],
                                      "public": True}]
    # elsewhere the public token is an unknown token
    for path in ("/system/whoami", f"/{project}/describe"):
        answer = client.call(path, {}, None, headers=public)
        assert (answer.status, answer.error_type) == (401, "InvalidAuthentication"), path


def test_find_projects_names_public_and_permission_sources(client, project):
    found = client.ok("/system/findProjects", {"level": "VIEW"})["results"]
    assert {"id": project, "level": "ADMINISTER", "permissionSources": ["user-alice"], "public": False} in found


# -- headers ----------------------------------------------------------------------------------------------------
def test_success_and_error_answers_carry_the_platforms_headers(client, project):
    ok = client.call(f"/{project}/describe", {})
    assert ok.headers["Content-Type"] == "application/json; charset=utf-8"
    assert ok.headers["Content-Length"] == str(len(ok.response.content))
    error = client.call(f"/{project}/listFolder", {"folder": "/nope"})
    assert error.headers["Content-Type"] == "application/json"
    for answer in (ok, error):
        assert REQUEST_ID.match(answer.headers["X-Request-ID"]), answer.headers
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_project_describe_has_the_recorded_fields_with_honest_values(client, project):
    described = client.ok(f"/{project}/describe", {})
    assert {k: described[k] for k in ("archivalState", "archivalProgress", "pendingTransfer", "atSpendingLimit",
                                      "totalSponsoredEgressBytes", "consumedSponsoredEgressBytes")} == {
        "archivalState": "live", "archivalProgress": None, "pendingTransfer": None, "atSpendingLimit": False,
        "totalSponsoredEgressBytes": 0, "consumedSponsoredEgressBytes": 0}
    assert client.ok(f"/{project}/describe", {"fields": {"atSpendingLimit": True}}) == {
        "id": project, "atSpendingLimit": False}


# -- upload and download ----------------------------------------------------------------------------------------
def test_the_upload_answer_names_the_put_headers(client, project, refserver):
    fid = new_file(client, project)
    md5 = hashlib.md5(b"data").hexdigest()
    answer = client.ok(f"/{fid}/upload", {"index": 1, "md5": md5, "size": 4})
    assert answer["headers"] == {"host": f"{refserver.host}:{refserver.port}", "content-type": "application/octet-stream",
                                 "content-md5": base64.b64encode(bytes.fromhex(md5)).decode(), "content-length": "4"}
    assert type(answer["expires"]) is int and answer["expires"] > now_ms()
    put = requests.put(answer["url"], data=b"data", headers=answer["headers"], timeout=30)
    assert put.status_code == 200


def test_download_answers_as_the_platform_does(client, project):
    fid = closed_file(client, project, [b"data"], name="random.txt")
    plain = client.ok(f"/{fid}/download", {"preauthenticated": False, "project": project})
    assert set(plain) == {"url", "headers"} and plain["url"].endswith(f"/{fid}/{project}")
    assert requests.get(plain["url"], headers=plain["headers"], timeout=30).content == b"data"
    before = now_ms()
    signed = client.ok(f"/{fid}/download", {"preauthenticated": True, "duration": 300, "filename": "t.txt"})
    assert set(signed) == {"url", "headers", "expires"} and signed["url"].endswith("/t.txt")
    assert before + 300_000 <= signed["expires"] <= now_ms() + 300_000


def test_the_same_download_gets_the_same_url_other_options_another(client, project):
    fid = closed_file(client, project, [b"data"])
    plain = {"preauthenticated": False, "project": project}
    first = client.ok(f"/{fid}/download", plain)["url"]
    assert client.ok(f"/{fid}/download", plain)["url"] == first
    signed = {"preauthenticated": True, "filename": "foo"}
    url, expires = (client.ok(f"/{fid}/download", signed)[k] for k in ("url", "expires"))
    assert client.ok(f"/{fid}/download", signed) == {"url": url, "headers": {}, "expires": expires}
    # other options, another caller: another URL (dxpy test_download_url_helper: duration 30 then the default)
    assert client.ok(f"/{fid}/download", {**signed, "duration": 30})["url"] != url
    assert client.ok(f"/{fid}/download", {})["url"] != first
    share(client, project, "VIEW")
    assert client.ok(f"/{fid}/download", plain, "bob")["url"] != first


def test_a_url_with_less_than_half_its_life_left_is_not_handed_out_again(client, project):
    fid = closed_file(client, project, [b"data"])
    first = client.ok(f"/{fid}/download", {"preauthenticated": True, "duration": 2})
    time.sleep(1.1)
    second = client.ok(f"/{fid}/download", {"preauthenticated": True, "duration": 2})
    assert second["url"] != first["url"] and second["expires"] > first["expires"]


def test_an_expired_download_url_is_invalid_authentication(client, project, refserver):
    fid = closed_file(client, project, [b"data"])
    url = client.ok(f"/{fid}/download", {"preauthenticated": True, "duration": 1, "filename": "random.txt"})["url"]
    assert requests.get(url, timeout=30).content == b"data"
    time.sleep(1.1)
    expired = requests.get(url, timeout=30)
    assert expired.status_code == 401
    assert expired.json()["error"] == {"type": "InvalidAuthentication",
                                       "message": "The supplied authentication token has expired"}
    unknown = requests.get(refserver.url + "/_dx/download/never-handed-out", timeout=30)
    assert (unknown.status_code, unknown.json()["error"]["type"]) == (404, "ResourceNotFound")


# -- nonces -------------------------------------------------------------------------------------------------------
def test_a_nonce_with_quotes_is_accepted_and_replays(client, project):
    body = {"project": project, "name": "random.txt", "folder": "/", "nonce": QUOTED_NONCE}
    first = client.ok("/file/new", body)
    assert client.ok("/file/new", body) == first


# -- /system/comeBackLater ---------------------------------------------------------------------------------------
def test_come_back_later(client):
    current = client.ok("/system/comeBackLater", {})["currentTime"]
    assert abs(current - now_ms()) < 5_000
    later = client.call("/system/comeBackLater", {"waitUntil": now_ms() + 2_500})
    assert (later.status, later.error_type, later.headers["Retry-After"]) == (503, "ServiceUnavailable", "3")
    quiet = client.call("/system/comeBackLater", {"waitUntil": now_ms() + 2_500, "setRetryAfter": False})
    assert (quiet.status, quiet.error_type) == (503, "ServiceUnavailable") and "Retry-After" not in quiet.headers
    assert client.ok("/system/comeBackLater", {"waitUntil": now_ms() - 1})["currentTime"] >= current
    for bad in ({"waitUntil": "soon"}, {"waitUntil": 1.5}, {"setRetryAfter": "no"}):
        client.expect_error("/system/comeBackLater", bad, "InvalidInput", 422)
    client.expect_error("/system/comeBackLater", {}, "InvalidAuthentication", 401, user=None)


# -- the faults of faults/real_traffic.py ------------------------------------------------------------------------
ENTRIES = [e for e in CATALOGUE if e.fault in REAL_TRAFFIC_FAULTS]


def test_every_real_traffic_fault_is_in_the_catalogue():
    assert {e.fault for e in ENTRIES} == REAL_TRAFFIC_FAULTS


@pytest.mark.parametrize("entry", ENTRIES, ids=repr)
def test_the_killer_cases_catch_the_fault(entry, tmp_path):
    code, document, seconds = run_suite(tmp_path / "out", fault=entry.fault, keyword=entry.keyword, timeout=120)
    verdict = judge_fault(entry, code, document, seconds)
    assert verdict.caught, verdict.to_json()
