"""Requests that break the rules, sent through the proxy with plain HTTP: violations on the client side."""

from __future__ import annotations

import json

import pytest
import requests

from .conftest import proxied
from .support import broken, broken_checks

AUTH = {"Authorization": "Bearer alice-token"}
JSON = {**AUTH, "Content-Type": "application/json"}


def post(url: str, path: str, data: bytes | str, headers: dict[str, str] = JSON, method: str = "POST"):
    return requests.request(method, url + path, data=data, headers=headers, timeout=30)


@pytest.mark.parametrize(("send", "rule"), [
    (dict(data=b'{"name": '), "request_json"),
    (dict(data=b""), "request_json"),
    (dict(data=b"{}", headers={**AUTH, "Content-Type": "text/plain"}), "request_content_type"),
    (dict(data=b"[1, 2]"), "request_mapping"),
    (dict(data=b"{}", method="GET"), "request_post"),
])
def test_malformed_requests_are_the_clients_fault(proxy_pair, tmp_path, send, rule):
    server, proxy = proxy_pair
    answer = post(proxy.url, "/system/whoami", **send)
    assert answer.status_code >= 400  # the reference server refuses them, as it must
    document, _ = proxy.finish(tmp_path)
    assert broken_checks(document, "client") == {rule}
    assert broken_checks(document, "server") == set(), "the server answered correctly"
    [result] = broken(document, "client").values()
    assert result["level"] == "MUST" and result["findings"][0]["check"] == rule
    headers = {k.lower(): v for k, v in result["exchanges"][0]["request"]["headers"].items()}
    assert headers["authorization"] == "Bearer ***"


def test_input_schema_and_route_violations(proxy_pair, tmp_path):
    server, proxy = proxy_pair
    project = post(proxy.url, "/project/new", json.dumps({"name": "p"})).json()["id"]
    record = post(proxy.url, "/record/new", json.dumps({"project": project})).json()["id"]
    # tags must be an array of strings; an unknown key next to valid input is allowed.
    assert post(proxy.url, f"/{record}/addTags", json.dumps({"project": project, "tags": "x"})).status_code == 422
    assert post(proxy.url, f"/{record}/addTags",
                json.dumps({"project": project, "tags": ["a"], "unknownKey": 1})).status_code == 200
    post(proxy.url, "/system/noSuchMethod", "{}")
    post(proxy.url, "/not/a/route/at/all", "{}")
    document, _ = proxy.finish(tmp_path)
    client = broken(document, "client")
    schema = client["checks/input_schema::/record-xxxx/addTags"]
    assert "1 finding(s) in 2 exchange(s)" in schema["message"] and schema["findings"][0]["path"] == "$.tags"
    routes = {rid: r["level"] for rid, r in client.items() if rid.startswith("checks/request_route::")}
    assert routes == {"checks/request_route::(no route)": "MUST"}
    assert "2 finding(s)" in client["checks/request_route::(no route)"]["message"]
    # The first evidence is /system/noSuchMethod (well formed, undocumented); the result is MUST because of
    # the second, which has no route form at all.
    [first] = client["checks/request_route::(no route)"]["findings"]
    assert "'/system/noSuchMethod' is not a documented route" in first["message"]
    assert client["checks/request_route::(no route)"]["level"] == "MUST"
    assert broken_checks(document, "server") == set()


def test_strict_mode_answers_a_broken_request_with_an_envelope(tmp_path):
    with proxied(strict=True) as (server, proxy):
        bad = post(proxy.url, "/system/whoami", b"{", headers=JSON)
        good = post(proxy.url, "/system/whoami", b"{}", headers=JSON)
    assert (bad.status_code, bad.json()["error"]["type"]) == (400, "MalformedJSON")
    assert bad.headers["x-dxconform-violation"] == "client" and "request_json" in bad.json()["error"]["message"]
    assert good.status_code == 200 and good.json()["id"] == "user-alice"
    document, files = proxy.finish(tmp_path)
    assert broken_checks(document, "client") == {"request_json"}
    entries = json.loads(files["har"].read_text())["log"]["entries"]
    # The HAR keeps what the server answered, and notes what the client got instead.
    assert entries[0]["response"]["status"] == 400 and entries[0]["_dxconform"]["strict"]["side"] == "client"


def test_strict_mode_answers_a_broken_answer_with_an_envelope(tmp_path):
    with proxied("float-timestamps", strict=True) as (server, proxy):
        answer = post(proxy.url, "/project/new", json.dumps({"name": "p"}))
        project = answer.json()["id"]
        described = post(proxy.url, f"/{project}/describe", "{}")
    assert answer.status_code == 200
    assert (described.status_code, described.json()["error"]["type"]) == (500, "InternalError")
    assert described.headers["x-dxconform-violation"] == "server"
    assert "strict_int" in described.json()["error"]["message"]
    document, _ = proxy.finish(tmp_path)
    assert "strict_int" in broken_checks(document, "server")


def test_non_json_answers_are_the_servers_fault(tmp_path):
    # dxpy cannot parse text/plain answers, so this workload is plain HTTP; the proxy records what it saw.
    with proxied("text-plain-answers") as (server, proxy):
        assert post(proxy.url, "/project/new", json.dumps({"name": "p"})).headers["content-type"] == "text/plain"
        post(proxy.url, "/system/whoami", "{}")
    document, _ = proxy.finish(tmp_path)
    server_side = broken(document, "server")
    assert {"checks/json_content_type::/project/new", "checks/json_content_type::/system/whoami"} <= set(server_side)
    assert broken_checks(document, "client") == set()


def test_no_token_in_any_output(tmp_path):
    with proxied() as (server, proxy):
        post(proxy.url, "/system/whoami", "{}")
        post(proxy.url, "/system/whoami", "{", headers={"Authorization": "Bearer bob-token"})
        # A token inside a body (a client echoing it, a server answering it) is scrubbed too.
        assert post(proxy.url, "/system/whoami", json.dumps({"note": "alice-token"})).status_code == 200
    _, files = proxy.finish(tmp_path)
    for path in files.values():
        text = path.read_text()
        assert "alice-token" not in text and "bob-token" not in text, path
    har = json.loads(files["har"].read_text())["log"]["entries"]
    assert {h["value"] for e in har for h in e["request"]["headers"] if h["name"].lower() == "authorization"} == {
        "Bearer ***"}
