"""Shared fixtures: the reference server on loopback and an HTTP client helper that talks to it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conformance.refserver.server import RefServer

# dxpy's defaults name the production platform: a test that forgets to point dxpy at a local server must fail
# on loopback (port 9, nothing listens), never reach another host. Fixtures that point dxpy set their own.
for _key, _value in {"DX_APISERVER_HOST": "127.0.0.1", "DX_APISERVER_PORT": "9",
                     "DX_APISERVER_PROTOCOL": "http"}.items():
    os.environ.setdefault(_key, _value)


class Answer:
    """One HTTP answer: status, headers, parsed JSON (None if the body is not JSON)."""

    def __init__(self, response: requests.Response):
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        try:
            self.json: Any = response.json()
        except ValueError:
            self.json = None

    @property
    def error_type(self) -> str | None:
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("type")
        return None

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.response.text[:300]!r}>"


class Client:
    """Talks HTTP to a server as one of its users: client.call('/project/new', {'name': 'p'})."""

    def __init__(self, url: str, tokens: dict[str, str]):
        self.url = url
        self.tokens = tokens
        self.session = requests.Session()

    def call(self, path: str, body: Any = None, user: str | None = "alice", *, raw: bytes | None = None,
             headers: dict[str, str] | None = None, method: str = "POST") -> Answer:
        hdrs = {"Content-Type": "application/json"}
        if user is not None:
            hdrs["Authorization"] = f"Bearer {self.tokens[user]}"
        hdrs.update(headers or {})
        data = raw if raw is not None else json.dumps({} if body is None else body).encode()
        return Answer(self.session.request(method, self.url + path, data=data, headers=hdrs, timeout=30))

    def ok(self, path: str, body: Any = None, user: str | None = "alice") -> Any:
        """call() that must succeed; returns the parsed answer."""
        answer = self.call(path, body, user)
        assert answer.status == 200, answer
        return answer.json

    def expect_error(self, path: str, body: Any, error_type: str, status: int, user: str | None = "alice") -> Answer:
        answer = self.call(path, body, user)
        assert (answer.status, answer.error_type) == (status, error_type), answer
        assert isinstance(answer.json["error"].get("message"), str), answer
        return answer

    def new_project(self, name: str = "test-project", user: str = "alice") -> str:
        return self.ok("/project/new", {"name": name}, user)["id"]


@pytest.fixture(scope="session")
def refserver() -> Iterator[RefServer]:
    """One reference server per test session (per xdist worker), in memory, closing lasting 200 ms, with the
    fixed tokens (alice-token, bob-token) that case files and tools written for tests may name literally."""
    from conformance.refserver.context import FIXED_TOKENS, Settings

    with RefServer(settings=Settings(closing_ms=200, users=dict(FIXED_TOKENS))) as server:
        yield server


@pytest.fixture()
def client(refserver: RefServer) -> Client:
    return Client(refserver.url, refserver.settings.users)


@pytest.fixture()
def project(client: Client) -> str:
    """A fresh project owned by alice."""
    return client.new_project()

