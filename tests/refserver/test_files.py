"""Files over HTTP: /file/new (with nonces), upload and the PUT URL, close and its part rules, download and
the GET URL with Range — results and every documented error path, with raw `requests`."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlparse

import pytest
import requests

from .dataobject_support import MIB, closed_file, new_file, share, upload_part, wait_closed

MISSING = "file-B00000000000000000000000"


# -- /file/new -------------------------------------------------------------------------------------------
def test_new_file_defaults_and_creation_fields(client, project):
    fid = new_file(client, project, name="a.txt", folder="/x/y", parents=True, tags=["t"], types=["T"],
                   hidden=True, properties={"k": "v"}, details={"d": 1}, media="text/plain")
    desc = client.ok(f"/{fid}/describe", {"properties": True, "details": True})
    assert fid.startswith("file-") and desc["state"] == "open"
    assert (desc["name"], desc["folder"], desc["tags"], desc["types"], desc["hidden"]) == ("a.txt", "/x/y", ["t"],
                                                                                           ["T"], True)
    assert (desc["properties"], desc["details"], desc["media"]) == ({"k": "v"}, {"d": 1}, "text/plain")
    assert client.ok(f"/{project}/listFolder", {"folder": "/x"})["folders"] == ["/x/y"]
    assert client.ok(f"/{new_file(client, project)}/describe", {})["name"].startswith("file-")


def test_new_file_generates_strict_ids(client, project):
    fid = new_file(client, project)
    assert len(fid) == 29 and set(fid[5:]) <= set("0123456789BFGJKPQVXYZbfgjkpqvxyz")


@pytest.mark.parametrize("body", [{}, {"project": 5}, {"project": "nope"}, {"project": "P", "name": ""},
                                  {"project": "P", "name": 1}, {"project": "P", "folder": "x"},
                                  {"project": "P", "parents": "yes"}, {"project": "P", "tags": "t"},
                                  {"project": "P", "types": ["a-b"]}, {"project": "P", "hidden": 0},
                                  {"project": "P", "properties": {"k": 1}}, {"project": "P", "details": "d"},
                                  {"project": "P", "media": 7}])
def test_new_file_invalid_input(client, project, body):
    body = {k: (project if v == "P" else v) for k, v in body.items()}
    client.expect_error("/file/new", body, "InvalidInput", 422)


def test_new_file_not_found_and_permission(client, project):
    client.expect_error("/file/new", {"project": "project-B00000000000000000000000"}, "ResourceNotFound", 404)
    client.expect_error("/file/new", {"project": project, "folder": "/no/such"}, "ResourceNotFound", 404)
    client.expect_error("/file/new", {"project": project}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error("/file/new", {"project": project}, "PermissionDenied", 401, user="bob")
    share(client, project, "UPLOAD")
    assert new_file(client, project, user="bob").startswith("file-")
    client.expect_error("/file/new", [], "InvalidInput", 422)
    client.expect_error("/file/new", {"project": project}, "InvalidAuthentication", 401, user=None)


def test_nonce_same_input_same_id_different_input_invalid(client, project):
    body = {"project": project, "name": "n", "nonce": "nonce-files-1"}
    first = client.ok("/file/new", body)
    assert client.ok("/file/new", body) == first
    client.expect_error("/file/new", {**body, "name": "other"}, "InvalidInput", 422)
    client.expect_error("/file/new", {"project": project, "nonce": "x" * 129}, "InvalidInput", 422)
    client.expect_error("/file/new", {"project": project, "nonce": 5}, "InvalidInput", 422)
    listed = client.ok(f"/{project}/listFolder", {})["objects"]
    assert listed == [{"id": first["id"]}]


# -- upload and PUT --------------------------------------------------------------------------------------
def test_upload_answer_shape(client, project):
    fid = new_file(client, project)
    before = int(time.time() * 1000)
    answer = client.ok(f"/{fid}/upload", {"index": 1, "size": 5, "md5": hashlib.md5(b"hello").hexdigest()})
    assert set(answer) == {"url", "headers", "expires"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in answer["headers"].items())
    assert type(answer["expires"]) is int and answer["expires"] > before
    assert urlparse(answer["url"]).hostname == "127.0.0.1"
    # the URL carries an unguessable secret: two URLs for the same part differ
    assert client.ok(f"/{fid}/upload", {"index": 1})["url"] != answer["url"]
    assert client.ok(f"/{fid}/upload", {})["url"]  # index defaults to 1


def test_put_needs_no_token_and_parts_show_in_describe(client, project):
    fid = new_file(client, project)
    response = upload_part(client, fid, b"hello")
    assert response.status_code == 200
    parts = client.ok(f"/{fid}/describe", {"fields": {"parts": True}})["parts"]
    assert parts == {"1": {"state": "complete", "md5": hashlib.md5(b"hello").hexdigest(), "size": 5}}
    # the last successful PUT of a part wins
    assert upload_part(client, fid, b"bye", 1).status_code == 200
    assert client.ok(f"/{fid}/describe", {"fields": {"parts": True}})["parts"]["1"]["size"] == 3


def test_pending_part_until_put(client, project):
    fid = new_file(client, project)
    client.ok(f"/{fid}/upload", {"index": 2, "size": 3})
    assert client.ok(f"/{fid}/describe", {"fields": {"parts": True}})["parts"]["2"]["state"] == "pending"


@pytest.mark.parametrize("body", [{"index": 0}, {"index": 10001}, {"index": 1.0}, {"index": "1"},
                                  {"size": -1}, {"size": "5"}, {"md5": "xyz"}, {"md5": 5}])
def test_upload_invalid_input(client, project, body):
    client.expect_error(f"/{new_file(client, project)}/upload", body, "InvalidInput", 422)


def test_upload_not_found_permission_and_state(client, project):
    fid = new_file(client, project)
    client.expect_error(f"/{MISSING}/upload", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{fid}/upload", {}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{fid}/upload", {}, "PermissionDenied", 401, user="bob")
    client.ok(f"/{fid}/close", {})
    answer = client.expect_error(f"/{fid}/upload", {}, "InvalidState", 422)  # closing
    assert "is not in the open state" in answer.json["error"]["message"]
    wait_closed(client, fid)
    answer = client.expect_error(f"/{fid}/upload", {}, "InvalidState", 422)  # closed
    assert "is not in the open state" in answer.json["error"]["message"]


def test_put_with_wrong_md5_is_bad_digest(client, project):
    fid = new_file(client, project)
    target = client.ok(f"/{fid}/upload", {"index": 1, "md5": hashlib.md5(b"hello").hexdigest()})
    response = requests.put(target["url"], data=b"HELLO", headers=target["headers"], timeout=30)
    assert response.status_code == 400 and response.json()["error"]["type"] == "BadDigest"
    assert isinstance(response.json()["error"]["message"], str)
    assert client.ok(f"/{fid}/describe", {"fields": {"parts": True}})["parts"]["1"]["state"] == "pending"


def test_put_with_wrong_size_fails(client, project):
    fid = new_file(client, project)
    target = client.ok(f"/{fid}/upload", {"index": 1, "size": 10})
    response = requests.put(target["url"], data=b"short", timeout=30)
    assert response.status_code == 400 and response.json()["error"]["type"] == "BadRequest"


def test_put_to_an_unknown_url_is_not_found(client, refserver):
    response = requests.put(refserver.url + "/_dx/upload/not-a-secret", data=b"x", timeout=30)
    assert response.status_code == 404 and response.json()["error"]["type"] == "ResourceNotFound"


def test_put_after_close_is_invalid_state(client, project):
    fid = new_file(client, project)
    upload_part(client, fid, b"first")
    target = client.ok(f"/{fid}/upload", {"index": 1})  # a re-upload URL: part 1 stays complete
    client.ok(f"/{fid}/close", {})
    response = requests.put(target["url"], data=b"late", timeout=30)
    assert response.status_code == 422 and response.json()["error"]["type"] == "InvalidState"


# -- close -----------------------------------------------------------------------------------------------
def test_close_goes_through_closing_to_closed(client, project):
    fid = new_file(client, project)
    upload_part(client, fid, b"hello")
    assert client.ok(f"/{fid}/close", {}) == {"id": fid}
    assert client.ok(f"/{fid}/describe", {"fields": {"state": True}})["state"] == "closing"
    assert client.ok(f"/{fid}/close", {}) == {"id": fid}  # closing: no effect, success
    desc = wait_closed(client, fid)
    assert (desc["state"], desc["size"]) == ("closed", 5)
    assert client.ok(f"/{fid}/close", {}) == {"id": fid}  # closed: no effect, success


def test_multipart_file_size_is_the_sum_of_parts(client, project):
    first, last = b"a" * (5 * MIB), b"tail"
    fid = closed_file(client, project, [first, last])
    desc = client.ok(f"/{fid}/describe", {"fields": {"size": True, "parts": True}})
    assert desc["size"] == 5 * MIB + 4
    assert desc["parts"]["1"]["size"] == 5 * MIB and desc["parts"]["2"]["md5"] == hashlib.md5(last).hexdigest()


def test_empty_file_and_file_without_parts(client, project):
    assert client.ok(f"/{closed_file(client, project, [b''])}/describe", {})["size"] == 0
    fid = new_file(client, project)
    client.ok(f"/{fid}/close", {})
    assert wait_closed(client, fid)["size"] == 0


def test_close_refuses_gaps_pending_and_small_middle_parts(client, project):
    gap = new_file(client, project)
    upload_part(client, gap, b"a" * (5 * MIB), 1)
    upload_part(client, gap, b"c", 3)
    client.expect_error(f"/{gap}/close", {}, "InvalidState", 422)
    pending = new_file(client, project)
    client.ok(f"/{pending}/upload", {"index": 1, "size": 4})
    client.expect_error(f"/{pending}/close", {}, "InvalidState", 422)
    small = new_file(client, project)
    upload_part(client, small, b"tiny", 1)
    upload_part(client, small, b"last", 2)
    client.expect_error(f"/{small}/close", {}, "InvalidState", 422)
    assert client.ok(f"/{small}/describe", {})["state"] == "open"


def test_close_not_found_and_permission(client, project):
    fid = new_file(client, project)
    client.expect_error(f"/{MISSING}/close", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{fid}/close", {}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{fid}/close", {}, "PermissionDenied", 401, user="bob")
    client.expect_error(f"/{fid}/close", [], "InvalidInput", 422)
    share(client, project, "UPLOAD")
    assert client.ok(f"/{fid}/close", {}, "bob") == {"id": fid}


# -- download and GET ------------------------------------------------------------------------------------
def test_download_whole_file_and_ranges(client, project):
    data = bytes(range(256)) * 4
    fid = closed_file(client, project, [data], name="bytes.bin")
    answer = client.ok(f"/{fid}/download", {"project": project, "preauthenticated": False})
    assert set(answer) == {"url", "headers"}  # the platform's answer when not preauthenticated (real traffic)
    url, headers = answer["url"], answer["headers"]
    whole = requests.get(url, headers=headers, timeout=30)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-Length"] == str(len(data))
    for header, first, last in [("bytes=0-4", 0, 4), ("bytes=100-199", 100, 199), ("bytes=1000-", 1000, 1023),
                                ("bytes=-24", 1000, 1023), ("bytes=1020-5000", 1020, 1023)]:
        part = requests.get(url, headers={**headers, "Range": header}, timeout=30)
        assert part.status_code == 206, header
        assert part.content == data[first:last + 1], header
        assert part.headers["Content-Length"] == str(last - first + 1)
        assert part.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"


def test_range_past_the_end_is_416(client, project):
    fid = closed_file(client, project, [b"hello"])
    url = client.ok(f"/{fid}/download", {})["url"]
    response = requests.get(url, headers={"Range": "bytes=5-9"}, timeout=30)
    assert response.status_code == 416 and response.headers["Content-Range"] == "bytes */5"
    assert response.json()["error"]["type"] == "RequestedRangeNotSatisfiable"


def test_multipart_download_reassembles_parts(client, project):
    first, last = b"x" * (5 * MIB), b"the end"
    fid = closed_file(client, project, [first, last])
    url = client.ok(f"/{fid}/download", {})["url"]
    response = requests.get(url, headers={"Range": f"bytes={5 * MIB - 2}-{5 * MIB + 2}"}, timeout=30)
    assert response.status_code == 206 and response.content == b"xxthe"
    assert hashlib.md5(requests.get(url, timeout=60).content).hexdigest() == hashlib.md5(first + last).hexdigest()


def test_download_of_an_open_or_closing_file_is_invalid_state(client, project):
    fid = new_file(client, project)
    upload_part(client, fid, b"data")
    client.expect_error(f"/{fid}/download", {}, "InvalidState", 422)
    client.ok(f"/{fid}/close", {})
    client.expect_error(f"/{fid}/download", {}, "InvalidState", 422)


def test_download_project_hint_must_contain_the_file(client, project):
    fid = closed_file(client, project, [b"data"])
    client.expect_error(f"/{fid}/download", {"project": "project-012301230123012301230123"},
                        "ResourceNotFound", 404)
    client.expect_error(f"/{fid}/download", {"project": client.new_project("other")}, "ResourceNotFound", 404)


@pytest.mark.parametrize("body", [{"duration": "60"}, {"duration": 0}, {"filename": 3},
                                  {"preauthenticated": "no"}, {"project": 1}])
def test_download_invalid_input(client, project, body):
    fid = closed_file(client, project, [b"data"])
    client.expect_error(f"/{fid}/download", body, "InvalidInput", 422)


def test_download_not_found_and_permission(client, project):
    fid = closed_file(client, project, [b"data"])
    client.expect_error(f"/{MISSING}/download", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{fid}/download", {}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    url = client.ok(f"/{fid}/download", {"project": project}, "bob")["url"]
    assert requests.get(url, timeout=30).content == b"data"


def test_download_url_is_secret_and_dies_with_the_file(client, project, refserver):
    fid = closed_file(client, project, [b"data"])
    answer = client.ok(f"/{fid}/download", {"duration": 60, "filename": "x y.txt", "preauthenticated": True})
    assert answer["expires"] - int(time.time() * 1000) <= 61_000
    assert requests.get(refserver.url + "/_dx/download/guess/x.txt", timeout=30).status_code == 404
    client.ok(f"/{project}/removeObjects", {"objects": [fid]})
    gone = requests.get(answer["url"], timeout=30)
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "ResourceNotFound"
