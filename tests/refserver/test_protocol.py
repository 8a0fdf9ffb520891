"""The reference server's protocol layer (app.py): POST only, JSON bodies, auth, envelope, headers, CORS."""

from __future__ import annotations

import pytest

from conformance.refserver.context import SUITE_ORIGIN, Settings
from conformance.refserver.server import RefServer

WHOAMI = "/system/whoami"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused_with_allow_post(client, method):
    answer = client.call(WHOAMI, {}, method=method)
    assert (answer.status, answer.error_type) == (405, "MethodNotAllowed"), answer
    assert answer.headers["Allow"] == "POST"


@pytest.mark.parametrize("raw", [b"", b"{", b"{'a': 1}", b'{"a": NaN}', b'{"a": Infinity}', b"{} x", b"\xff"])
def test_bodies_that_are_not_json_are_malformed(client, raw):
    answer = client.call(WHOAMI, raw=raw)
    assert (answer.status, answer.error_type) == (400, "MalformedJSON"), answer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_content_types_other_than_json_are_malformed(client, content_type):
    answer = client.call(WHOAMI, {}, headers={"Content-Type": content_type})
    assert (answer.status, answer.error_type) == (400, "MalformedJSON"), answer


def test_absent_or_parametrised_json_content_type_is_accepted(client):
    assert client.call(WHOAMI, {}, headers={"Content-Type": "application/json; charset=utf-8"}).status == 200
    session = client.session
    answer = session.post(client.url + WHOAMI, data=b"{}", headers={"Authorization": f"Bearer {client.tokens['alice']}"})
    assert "content-type" not in {k.lower() for k in answer.request.headers}
    assert answer.status_code == 200


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"1", b"null"])
def test_top_level_must_be_a_mapping(client, raw):
    answer = client.call(WHOAMI, raw=raw)
    assert (answer.status, answer.error_type) == (422, "InvalidInput"), answer


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer"},
                                     {"Authorization": "Basic YWxpY2U6eA=="}])
def test_missing_or_unknown_tokens_are_invalid_authentication(client, headers):
    answer = client.call(WHOAMI, {}, user=None, headers=headers)
    assert (answer.status, answer.error_type) == (401, "InvalidAuthentication"), answer


def test_greet_needs_no_token_and_whoami_names_the_caller(client):
    assert client.ok("/system/greet", {"client": "dxclient", "version": "v0"}, user=None) == {"messages": []}
    assert client.ok(WHOAMI, {}, user="bob")["id"] == "user-bob"


@pytest.mark.parametrize("path", ["/", "/system", "/system/noSuchMethod", "/nosuchclass/new",
                                  "/foo-B0000000000000000000000Q/describe", "/file-123/describe",
                                  "/project-эксперимент/describe", "/a/b/c", "/None/describe"])
def test_unknown_routes_and_subjects_are_resource_not_found(client, path):
    answer = client.call(path, {})
    assert (answer.status, answer.error_type) == (404, "ResourceNotFound"), answer


def test_every_answer_is_json_with_nosniff_and_a_request_id(client):
    # the platform's content types (real traffic): a success names the charset, an error does not
    for answer, content_type in ((client.call(WHOAMI, {}), "application/json; charset=utf-8"),
                                 (client.call(WHOAMI, raw=b"{"), "application/json"),
                                 (client.call("/nope/x", {}), "application/json")):
        assert answer.headers["Content-Type"] == content_type
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Request-ID"]


def test_query_parameters_are_ignored(client):
    assert client.call(WHOAMI + "?fields=1", {}).json == {"id": "user-alice"}


def test_cors_preflight_and_origin_echo(client):
    """For an allowed origin (the suite's, by default); tests/hostile has the origins that are refused."""
    pre = client.call(WHOAMI, None, method="OPTIONS", raw=b"", headers={
        "Origin": SUITE_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert pre.status == 200
    assert pre.headers["Access-Control-Allow-Origin"] == SUITE_ORIGIN
    assert pre.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    refused = client.call(WHOAMI, None, method="OPTIONS", raw=b"", headers={"Access-Control-Request-Method": "GET"})
    assert refused.status == 405
    post = client.call(WHOAMI, {}, headers={"Origin": SUITE_ORIGIN})
    assert post.headers["Access-Control-Allow-Origin"] == SUITE_ORIGIN


def test_headers_echo_never_returns_the_token(client):
    echoed = client.ok("/system/headers", {})
    assert echoed["authorization"] == "Bearer ***"
    assert client.tokens["alice"] not in str(echoed)


def test_a_body_over_the_limit_is_refused_without_reading_it_all():
    with RefServer(settings=Settings(max_body_bytes=1024)) as server:
        import requests

        answer = requests.post(server.url + WHOAMI, data=b"{" + b" " * 4096 + b"}",
                               headers={"Authorization": f"Bearer {server.token('alice')}"}, timeout=10)
        assert answer.status_code == 422
        assert answer.json()["error"]["type"] == "InvalidInput"


def test_nonce_rules(client, project):
    body = {"project": project, "name": "n", "nonce": "n-1"}
    first = client.ok("/record/new", body)["id"]
    assert client.ok("/record/new", body)["id"] == first
    client.expect_error("/record/new", {**body, "name": "other"}, "InvalidInput", 422)
    client.expect_error("/record/new", {**body, "nonce": "x" * 129}, "InvalidInput", 422)
    client.expect_error("/record/new", {**body, "nonce": 7}, "InvalidInput", 422)
    # the same nonce from another user is another request
    assert client.call("/record/new", body, user="bob").status in (401, 404)
