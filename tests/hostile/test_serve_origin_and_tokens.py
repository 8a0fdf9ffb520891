"""`dxconform serve` against a web page and a careless setup: origins, Host names, tokens, the database file.

A page the user visits can send requests to a local server. These tests play that page (Origin headers, CORS
preflights, a rebound Host name) and check the server refuses it without acting; and that the server's
credentials are not guessable or lying around: random tokens by default, users exactly those configured across
restarts, tokens hashed in a database file readable by its owner only, one Authorization header per request.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conformance.refserver.app import RefServerApp
from conformance.refserver.context import FIXED_TOKENS, SUITE_ORIGIN, Settings
from conformance.refserver.db import Database
from conformance.refserver.guard import HostPolicy

from ..serve_process import ServeProcess, serving

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
EVIL = "http://evil.test"


class Served(ServeProcess):
    """A `dxconform serve --port 0` child process (its port, the tokens it printed) and raw HTTP requests to it."""

    def request(self, path: str, body: bytes = b"{}", headers: list[tuple[str, str]] | None = None,
                method: str = "POST", host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request with exactly these headers (repeats kept), Host `127.0.0.1:PORT` unless given."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host or f"127.0.0.1:{self.port}")
            for name, value in headers or []:
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            answer = conn.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            conn.close()

    def call(self, path: str, body: dict | None = None, token: str | None = None,
             headers: list[tuple[str, str]] | None = None, host: str | None = None) -> tuple[int, dict]:
        """A JSON API call as the holder of `token` (alice's by default): (status, parsed answer)."""
        auth = [("Authorization", f"Bearer {token or self.tokens['alice']}"), ("Content-Type", "application/json")]
        status, _, raw = self.request(path, json.dumps(body or {}).encode(), auth + (headers or []), host=host)
        return status, json.loads(raw)

def served(*args: str):
    return serving(*args, kind=Served)


@pytest.fixture(scope="module")
def default_server() -> Iterator[Served]:
    with served("--user", "carol:carol-secret-1") as server:
        yield server


@pytest.fixture(scope="module")
def cors_server() -> Iterator[Served]:
    with served("--cors", "http://x.test") as server:
        yield server


def error_type(raw: bytes) -> str | None:
    parsed = json.loads(raw)
    return parsed["error"]["type"] if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict) else None


def project_names(server: Served) -> list[str]:
    status, found = server.call("/system/findProjects", {"describe": {"fields": {"name": True}}})
    assert status == 200, found
    return [hit["describe"]["name"] for hit in found["results"]]


# --- another origin, without --cors --------------------------------------------------------------------------

def test_a_preflight_from_another_origin_is_refused_without_allow_origin(default_server):
    status, headers, raw = default_server.request(
        "/project/new", b"", [("Origin", EVIL), ("Access-Control-Request-Method", "POST"),
                              ("Access-Control-Request-Headers", "authorization,content-type")], method="OPTIONS")
    assert 400 <= status < 500 and error_type(raw) == "PermissionDenied"
    assert "access-control-allow-origin" not in headers and "access-control-allow-headers" not in headers
    assert EVIL in json.loads(raw)["error"]["message"]


def test_a_simple_request_from_another_origin_is_refused_and_not_acted_on(default_server):
    """What a page can send without a preflight: POST text/plain. Even with a valid token (a page that learnt
    one) nothing is created, and the answer carries no Access-Control-Allow-Origin for the page to read it."""
    body = json.dumps({"name": "made-by-a-web-page"}).encode()
    token = default_server.tokens["alice"]
    status, headers, raw = default_server.request(
        "/project/new", body, [("Origin", EVIL), ("Content-Type", "text/plain"), ("Authorization", f"Bearer {token}")])
    assert 400 <= status < 500 and error_type(raw) == "PermissionDenied"
    assert "access-control-allow-origin" not in headers
    # The same request without the Origin (as dxpy sends it) would work: the refusal is the origin's.
    status, _, raw = default_server.request(
        "/project/new", body, [("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")])
    assert status == 200, raw
    assert project_names(default_server).count("made-by-a-web-page") == 1


def test_an_opaque_origin_is_refused_too(default_server):
    """Sandboxed frames and file:// pages send `Origin: null`."""
    status, answer = default_server.call("/system/whoami", headers=[("Origin", "null")])
    assert (status, answer["error"]["type"]) == (401, "PermissionDenied")


# --- --cors ORIGIN -------------------------------------------------------------------------------------------

def test_cors_allows_that_origin_with_only_the_headers_the_api_needs(cors_server):
    status, headers, _ = cors_server.request(
        "/system/whoami", b"", [("Origin", "http://x.test"), ("Access-Control-Request-Method", "POST"),
                                ("Access-Control-Request-Headers", "authorization,content-type,x-anything")],
        method="OPTIONS")
    assert status in (200, 204)
    assert headers["access-control-allow-origin"] == "http://x.test"
    assert {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")} == \
        {"authorization", "content-type"}
    assert headers["access-control-allow-methods"] == "POST"
    status, answer = cors_server.call("/system/whoami", headers=[("Origin", "http://x.test")])
    assert status == 200 and answer["id"] == "user-alice"


@pytest.mark.parametrize("origin", [EVIL, SUITE_ORIGIN, "https://x.test", "http://x.test:8080"])
def test_cors_allows_no_other_origin(cors_server, origin):
    auth = ("Authorization", f"Bearer {cors_server.tokens['alice']}")
    status, headers, raw = cors_server.request("/system/whoami", b"{}", [("Origin", origin), auth])
    assert (status, error_type(raw)) == (401, "PermissionDenied") and "access-control-allow-origin" not in headers


def test_the_default_allowed_origin_is_the_suites_and_no_page_can_have_it():
    """The suite's CORS cases send SUITE_ORIGIN, which serve allows by default: under .invalid (RFC 6761)."""
    cases = yaml.safe_load((ROOT / "cases" / "url-forms" / "query-and-cors.yaml").read_text(encoding="utf-8"))
    sent = {step["headers"]["Origin"] for case in cases["cases"] for step in case["steps"]
            if "Origin" in step.get("headers", {})}
    assert sent == {SUITE_ORIGIN} and Settings().cors_origins == (SUITE_ORIGIN,)
    assert SUITE_ORIGIN.endswith(".invalid")


@pytest.mark.parametrize("args, message", [
    (("--cors", "x.test"), "--cors expects an origin"),
    (("--cors", "http://x.test/page"), "--cors expects an origin"),
    (("--user", "carol:same", "--user", "dave:same"), "same token"),
    (("--db", str(ROOT)), f"cannot open --db {ROOT}: Is a directory"),
])
def test_serve_refuses_bad_options_in_one_line(args, message):
    done = subprocess.run([sys.executable, "-m", "conformance.cli.main", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr, done.stderr


# --- tokens --------------------------------------------------------------------------------------------------

def test_default_tokens_are_random_and_printed(default_server):
    with served() as other:
        assert set(other.tokens) == {"alice", "bob"}
        assert other.tokens["alice"] != default_server.tokens["alice"]
        assert other.tokens["bob"] != default_server.tokens["bob"]
        assert not set(other.tokens.values()) & set(FIXED_TOKENS.values())
        assert len(other.tokens["alice"]) >= 32
        assert other.call("/system/whoami")[1]["id"] == "user-alice"
        assert other.call("/system/whoami", token=other.tokens["bob"])[1]["id"] == "user-bob"
        status, answer = other.call("/system/whoami", token="alice-token")
        assert (status, answer["error"]["type"]) == (401, "InvalidAuthentication")


def test_a_user_given_on_the_command_line_works(default_server):
    assert default_server.tokens["carol"] == "carol-secret-1"
    assert default_server.call("/system/whoami", token="carol-secret-1")[1]["id"] == "user-carol"


def test_fixed_tokens_are_the_published_ones():
    with served("--fixed-tokens") as server:
        assert server.tokens == FIXED_TOKENS
        assert server.call("/system/whoami", token="alice-token")[1]["id"] == "user-alice"
        assert server.call("/system/whoami", token="bob-token")[1]["id"] == "user-bob"


@pytest.mark.parametrize("order", ["valid first", "valid last"])
def test_two_authorization_headers_are_refused(default_server, order):
    valid = ("Authorization", f"Bearer {default_server.tokens['alice']}")
    other = ("Authorization", f"Bearer {default_server.tokens['bob']}")
    headers = [valid, other] if order == "valid first" else [other, valid]
    status, _, raw = default_server.request("/system/whoami", b"{}", headers)
    assert (status, error_type(raw)) == (401, "InvalidAuthentication")
    assert "one Authorization header" in json.loads(raw)["error"]["message"]


# --- Host ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.test:{port}", "evil.test", "127.0.0.1:{other}", "localhost:{other}",
                                  "127.0.0.1.evil.test:{port}", "evil@127.0.0.1:{port}", "127.0.0.1:{port}/x"])
def test_a_request_for_another_host_is_refused(default_server, host):
    value = host.format(port=default_server.port, other=default_server.port + 1)
    status, headers, raw = default_server.request("/system/whoami", b"{}", host=value, headers=[
        ("Authorization", f"Bearer {default_server.tokens['alice']}")])
    assert (status, error_type(raw)) == (401, "PermissionDenied"), raw
    assert headers["content-type"] == "application/json"
    assert "does not name this server" in json.loads(raw)["error"]["message"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_loopback_names_of_the_listening_address_are_accepted(default_server, host):
    status, answer = default_server.call("/system/whoami", host=host.format(port=default_server.port))
    assert (status, answer["id"]) == (200, "user-alice")


def test_upload_urls_name_the_listening_address_not_the_host_header(default_server):
    status, project = default_server.call("/project/new", {"name": "uploads"})
    assert status == 200
    status, file = default_server.call("/file/new", {"project": project["id"], "name": "a.txt"})
    status, upload = default_server.call(f"/{file['id']}/upload", {"index": 1},
                                         host=f"localhost:{default_server.port}")
    assert status == 200, upload
    assert upload["url"].startswith(f"http://127.0.0.1:{default_server.port}/"), upload["url"]


def asgi_post(app: RefServerApp, path: str, body: dict, headers: dict[str, str]) -> dict:
    """The application alone (no guard), as uvicorn calls it, listening on 127.0.0.1:8124."""
    scope = {"type": "http", "method": "POST", "path": path, "scheme": "http", "server": ("127.0.0.1", 8124),
             "client": ("127.0.0.1", 50000), "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


def test_the_application_builds_urls_from_its_address_even_past_the_guard():
    app = RefServerApp(Database(), Settings(users={"alice": "t-alice"}))
    try:
        headers = {"Authorization": "Bearer t-alice", "Host": "evil.test:8124", "Content-Type": "application/json"}
        project = asgi_post(app, "/project/new", {"name": "p"}, headers)["id"]
        file = asgi_post(app, "/file/new", {"project": project}, headers)["id"]
        url = asgi_post(app, f"/{file}/upload", {"index": 1}, headers)["url"]
        assert url.startswith("http://127.0.0.1:8124/_dx/") and "evil" not in url
    finally:
        app.db.close()


def test_host_policy_of_a_wildcard_address_accepts_ip_literals_only():
    policy = HostPolicy("0.0.0.0", 8124)
    assert policy.allows("10.1.2.3:8124") and policy.allows("[fe80::1]:8124") and policy.allows("localhost:8124")
    assert not policy.allows("evil.test:8124") and not policy.allows("10.1.2.3:8125")
    named = HostPolicy("myhost.lan", 80)
    assert named.allows("myhost.lan") and named.allows("MYHOST.LAN:80") and not named.allows("localhost")


# --- --db ----------------------------------------------------------------------------------------------------

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stored_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_db_users_are_exactly_the_configured_ones_with_tokens_hashed_in_a_private_file(tmp_path):
    db = tmp_path / "dx.sqlite"
    with served("--db", str(db), "--user", "carol:carol-secret-2") as first:
        assert first.call("/system/whoami", token="carol-secret-2")[1]["id"] == "user-carol"
        assert first.call("/project/new", {"name": "kept"})[0] == 200
        files = {p.name: mode(p) for p in tmp_path.glob("dx.sqlite*")}
        assert {"dx.sqlite", "dx.sqlite-wal", "dx.sqlite-shm"} <= set(files)
        assert set(files.values()) == {0o600}, files
        printed = list(first.tokens.values())
    with served("--db", str(db)) as second:
        status, answer = second.call("/system/whoami", token="carol-secret-2")
        assert (status, answer["error"]["type"]) == (401, "InvalidAuthentication")
        status, answer = second.call("/system/whoami", token=printed[0])   # last run's alice token: gone too
        assert status == 401
        assert "kept" in project_names(second)                            # the data itself is kept
        assert second.call("/user-carol/describe")[0] == 404
    content = stored_bytes(db)
    for token in [*printed, *second.tokens.values()]:
        assert token.encode() not in content
    assert {mode(p) for p in tmp_path.glob("dx.sqlite*")} == {0o600}


def test_a_database_with_clear_tokens_loses_them_and_becomes_private(tmp_path):
    """A file written before tokens were hashed: its users table goes, token bytes included."""
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE users (id TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL)")
        conn.execute("INSERT INTO users VALUES ('user-old', 'old-clear-token-4242')")
    conn.close()
    db.chmod(0o644)
    assert b"old-clear-token-4242" in stored_bytes(db)
    app = RefServerApp(Database(str(db)), Settings(users={"alice": "new-secret-4343"}))
    try:
        assert app.db.user_of_token("new-secret-4343") == "user-alice"
        assert app.db.user_of_token("old-clear-token-4242") is None
    finally:
        app.db.close()
    content = stored_bytes(db)
    assert b"old-clear-token-4242" not in content and b"new-secret-4343" not in content
    assert {mode(p) for p in tmp_path.glob("old.sqlite*")} == {0o600}
