"""Helpers of the reference server hardening tests: a server with known tokens, timed calls, raw sockets."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import requests

from conformance.refserver.context import Settings

USERS = {"alice": "alice-token", "bob": "bob-token"}


def settings() -> Settings:
    return Settings(users=dict(USERS), closing_ms=0)


def call(url: str, path: str, body: Any = None, user: str = "alice", *, data: bytes | None = None,
         timeout: float = 30) -> tuple[requests.Response, float]:
    """(the answer, seconds it took) of one API call as `user`."""
    payload = data if data is not None else json.dumps({} if body is None else body).encode()
    started = time.monotonic()
    answer = requests.post(url + path, data=payload, timeout=timeout,
                           headers={"Authorization": f"Bearer {USERS[user]}", "Content-Type": "application/json"})
    return answer, time.monotonic() - started


def ok(url: str, path: str, body: Any = None, user: str = "alice") -> Any:
    answer, _ = call(url, path, body, user)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer.json()


def error_of(answer: requests.Response) -> dict:
    """The error envelope's inner object of a 4xx answer (which must be JSON)."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    return answer.json()["error"]


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True if the server closes (or resets) the connection within `within` seconds (answer bytes allowed)."""
    sock.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")
