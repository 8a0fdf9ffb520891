"""Loopback servers that echo the request's token back in every form (tests/hostile/token_forms.py names them)."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable

from tests.engine.hostile import HostileServer, read_request

from .token_forms import token_forms


class EchoServer(HostileServer):
    """A HostileServer whose `answer(request_bytes) -> response_bytes` sees the request it answers."""

    def __init__(self, answer: Callable[[bytes], bytes]):
        self.answer = answer
        super().__init__(self._unused)

    @staticmethod
    def _unused(conn: socket.socket) -> None:
        raise AssertionError("EchoServer answers in _serve")

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = read_request(conn)
            self.requests.append(request)
            conn.sendall(self.answer(request))
        except OSError:
            pass
        finally:
            conn.close()


def authorization_line(request: bytes) -> bytes:
    return next((line for line in request.split(b"\r\n") if line.lower().startswith(b"authorization:")),
                b"Authorization: Bearer none")


def token_in(request: bytes) -> str:
    value = authorization_line(request).partition(b":")[2].strip().decode("utf-8", "replace")
    return value.partition(" ")[2] or value


def echo_everywhere(request: bytes) -> bytes:
    """A 200 whoami-like answer (an id per token, so two tokens are two users) whose headers echo the token
    well-formed and malformed (urllib3 then warns `Failed to parse headers ... unparsed data: 'Bearer ...'`)
    and whose JSON body echoes it in every encoded form."""
    token = token_in(request)
    body = json.dumps({"id": "user-" + hashlib.sha256(token.encode()).hexdigest()[:24],
                       "echo": token_forms(token), "message": f"who are you, {token}?"},
                      ensure_ascii=False).encode("utf-8")
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", b"Content-Length: %d" % len(body),
            b"Connection: close", b"X-Echo: " + token.encode("utf-8"), authorization_line(request),
            b"Bearer " + token.encode("utf-8")]   # no colon: a malformed header line
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def echo_as_status_line(request: bytes) -> bytes:
    """The request's Authorization line where the status line should be: the start-up probe fails."""
    return authorization_line(request) + b"\r\n\r\n"
