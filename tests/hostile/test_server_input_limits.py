"""Bad input gets a 4xx JSON error naming the limit it breaks, never a 500, and never poisons stored data."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from conformance.refserver import limits
from conformance.refserver.app import json_response
from conformance.refserver.context import Settings
from conformance.refserver.server import RefServer

from .hardened_server import USERS, call, error_of, ok, settings


def strict_json(text: str):
    """The answer parsed as RFC 8259 JSON: NaN and Infinity are refused."""
    def refuse(name):
        raise AssertionError(f"{name} in an answer")
    return json.loads(text, parse_constant=refuse)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture(scope="module")
def server() -> Iterator[RefServer]:
    with RefServer(settings=settings()) as srv:
        yield srv


@pytest.fixture(scope="module")
def bystander(server) -> tuple[str, str]:
    """A project of bob's with a record holding details: (project, record). Every test checks it afterwards."""
    project = ok(server.url, "/project/new", {"name": "bystander"}, "bob")["id"]
    record = ok(server.url, "/record/new", {"project": project, "name": "safe", "details": {"k": [1, 2.5, "x"]},
                                            "close": True}, "bob")["id"]
    return project, record


@pytest.fixture()
def open_record(server, bystander) -> Iterator[str]:
    project, _ = bystander
    yield ok(server.url, "/record/new", {"project": project, "name": "target"}, "bob")["id"]
    assert_unharmed(server, bystander)


def assert_unharmed(server, bystander) -> None:
    project, record = bystander
    answer, _ = call(server.url, f"/{record}/describe", {"project": project, "details": True}, "bob")
    assert answer.status_code == 200 and strict_json(answer.text)["details"] == {"k": [1, 2.5, "x"]}
    answer, _ = call(server.url, "/system/findDataObjects",
                     {"scope": {"project": project}, "describe": {"details": True}}, "bob")
    assert answer.status_code == 200
    assert record in {r["id"] for r in strict_json(answer.text)["results"]}


def refused(server, path: str, *, body=None, data: bytes | None = None, status: int = 422,
            kind: str = "InvalidInput", naming: str) -> None:
    answer, _ = call(server.url, path, body, "bob", data=data)
    error = error_of(answer)
    assert (answer.status_code, error["type"]) == (status, kind), error
    assert naming in error["message"], error["message"]


def test_json_nested_100000_deep_is_refused(server, bystander, open_record):
    project, _ = bystander
    data = b'{"project": "' + project.encode() + b'", "details": ' + nested(100_000).encode() + b"}"
    refused(server, "/record/new", data=data, naming=f"limit of {limits.MAX_JSON_DEPTH} levels")
    refused(server, f"/{open_record}/setDetails", data=nested(100_000).encode(),
            naming=f"limit of {limits.MAX_JSON_DEPTH} levels")


def test_json_just_inside_the_depth_limit_is_parsed(server, open_record):
    answer, _ = call(server.url, "/system/whoami", data=b'{"x": ' + nested(limits.MAX_JSON_DEPTH - 1).encode() + b"}")
    assert answer.status_code == 200


@pytest.mark.parametrize("depth", [979, limits.MAX_DETAILS_DEPTH + 1])
def test_deep_details_are_refused_and_describe_keeps_working(server, bystander, open_record, depth):
    project, _ = bystander
    limit = limits.MAX_JSON_DEPTH if depth >= limits.MAX_JSON_DEPTH else limits.MAX_DETAILS_DEPTH
    refused(server, f"/{open_record}/setDetails", data=nested(depth).encode(), naming=f"limit of {limit} levels")
    data = b'{"project": "' + project.encode() + b'", "details": ' + nested(depth).encode() + b"}"
    refused(server, "/record/new", data=data, naming=f"limit of {limit} levels")


def test_details_at_the_depth_limit_round_trip(server, bystander, open_record):
    project, _ = bystander
    details = nested(limits.MAX_DETAILS_DEPTH)
    ok(server.url, f"/{open_record}/setDetails", json.loads(details), "bob")
    answer, _ = call(server.url, "/system/findDataObjects",
                     {"scope": {"project": project}, "describe": {"details": True}}, "bob")
    assert answer.status_code == 200 and strict_json(answer.text)
    answer, _ = call(server.url, f"/{open_record}/getDetails", {}, "bob")
    assert strict_json(answer.text) == json.loads(details)


def test_details_beyond_the_size_limit_are_refused(server, open_record):
    big = {"blob": "x" * (limits.MAX_DETAILS_BYTES + 1)}
    refused(server, f"/{open_record}/setDetails", body=big, naming=f"limit of {limits.MAX_DETAILS_BYTES} bytes")


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"9007199254740992", b"-99999999999999999999"])
def test_numbers_outside_the_json_safe_range_are_refused(server, open_record, number):
    refused(server, f"/{open_record}/setDetails", data=b'{"n": ' + number + b"}", naming="beyond")
    answer, _ = call(server.url, f"/{open_record}/getDetails", {}, "bob")
    assert answer.status_code == 200 and strict_json(answer.text) == {}


def test_numbers_at_the_edge_of_the_range_are_kept(server, open_record):
    data = b'{"max": 9007199254740991, "min": -9007199254740991, "big": 1.5e308}'
    ok(server.url, f"/{open_record}/setDetails", json.loads(data), "bob")
    answer, _ = call(server.url, f"/{open_record}/getDetails", {}, "bob")
    assert strict_json(answer.text) == json.loads(data)


def test_a_lone_surrogate_is_invalid_input(server, bystander, open_record):
    project, _ = bystander
    refused(server, "/record/new", data=b'{"project": "' + project.encode() + b'", "name": "x\\ud800y"}',
            naming="lone UTF-16 surrogate")
    refused(server, f"/{open_record}/setDetails", data=b'{"\\udfff": 1}', naming="lone UTF-16 surrogate")
    # A surrogate pair is one character, and fine.
    pair = ok(server.url, "/record/new", {"project": project, "name": "smile \U0001F600"}, "bob")["id"]
    assert ok(server.url, f"/{pair}/describe", {"project": project}, "bob")["name"] == "smile \U0001F600"


def test_invalid_utf8_is_malformed_json(server, open_record):
    refused(server, f"/{open_record}/setDetails", data=b'{"a": "\xff"}', status=400, kind="MalformedJSON",
            naming="UTF-8")


def test_names_beyond_the_limit_are_refused(server, bystander, open_record):
    project, _ = bystander
    for size in (limits.MAX_NAME_CHARS + 1, 1_000_000):
        refused(server, "/record/new", body={"project": project, "name": "n" * size},
                naming=f"limit of {limits.MAX_NAME_CHARS} characters")
    refused(server, f"/{open_record}/rename", body={"project": project, "name": "n" * (limits.MAX_NAME_CHARS + 1)},
            naming=f"limit of {limits.MAX_NAME_CHARS} characters")
    refused(server, "/project/new", body={"name": "n" * (limits.MAX_NAME_CHARS + 1)},
            naming=f"limit of {limits.MAX_NAME_CHARS} characters")
    ok(server.url, "/record/new", {"project": project, "name": "n" * limits.MAX_NAME_CHARS}, "bob")


@pytest.mark.parametrize("folder", ["/d" * 300, "/d" * 1200, "/" + "f" * 5000])
def test_record_new_keeps_the_folder_limits(server, bystander, open_record, folder):
    project, _ = bystander
    refused(server, "/record/new", body={"project": project, "folder": folder, "parents": True},
            naming=f"{limits.MAX_FOLDER_DEPTH} levels")


def test_folders_at_the_limits_are_accepted(server, bystander, open_record):
    project, _ = bystander
    ok(server.url, "/record/new", {"project": project, "folder": "/d" * limits.MAX_FOLDER_DEPTH, "parents": True},
       "bob")
    ok(server.url, "/record/new", {"project": project, "folder": "/" + "f" * limits.MAX_FOLDER_NAME_CHARS,
                                   "parents": True}, "bob")


def test_a_body_beyond_the_size_limit_is_refused_naming_it():
    with RefServer(settings=Settings(users=dict(USERS), max_body_bytes=10_000)) as srv:
        answer, _ = call(srv.url, "/system/whoami", data=b'{"pad": "' + b"x" * 20_000 + b'"}')
        assert answer.status_code == 422 and "limit of 10000 bytes" in error_of(answer)["message"]
        assert ok(srv.url, "/system/whoami")["id"] == "user-alice"


def test_answers_are_never_invalid_json():
    answer = json_response(200, {"x": float("inf")})
    assert answer.status == 500
    assert strict_json(answer.body.decode())["error"]["type"] == "InternalError"


def test_the_body_limit_of_the_settings_is_the_documented_one():
    assert Settings().max_body_bytes == limits.MAX_BODY_BYTES


def test_a_utf8_byte_order_mark_is_ignored(server):
    answer, _ = call(server.url, "/system/whoami", data=b"\xef\xbb\xbf{}")
    assert answer.status_code == 200 and answer.json()["id"] == "user-alice"
