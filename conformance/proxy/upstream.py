"""The proxy's side of the upstream server: a pooled HTTP client that forwards requests byte for byte, and
holds at most MAX_BODY_BYTES of an answer (the rest is streamed on, not held)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.util import SKIP_HEADER

# Headers about one hop of the connection (RFC 9110 7.6.1): never forwarded in either direction.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade"})
POOL_SIZE = 32
# How much of one answer the proxy holds (to decode, rewrite, record and check it). A longer body (a file
# download) is streamed on to the client past this; docs/proxy.md documents it.
MAX_BODY_BYTES = 32 * 1024 * 1024
STREAM_CHUNK_BYTES = 1024 * 1024


class UpstreamError(Exception):
    """The upstream gave no complete answer: `kind` is refused, timeout, reset or protocol."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]          # as received, hop-by-hop headers removed
    body: bytes                             # as received (still content-encoded, if it was); at most the limit
    # The rest of a body longer than the limit, still to be read from the upstream (None: `body` is all).
    rest: Any = None

    def more(self) -> bytes:
        """The next chunk of the rest of the body (b"" at its end, or if the upstream broke off)."""
        if self.rest is None:
            return b""
        try:
            chunk = self.rest.read(STREAM_CHUNK_BYTES)
        except (urllib3.exceptions.HTTPError, OSError):
            chunk = b""
        if not chunk:
            self.close()
        return chunk

    def close(self) -> None:
        if self.rest is not None:
            rest = self.rest
            object.__setattr__(self, "rest", None)
            rest.close()


class Upstream:
    """`Upstream("http://127.0.0.1:8124").send("POST", "/system/whoami", headers, body)`; thread-safe."""

    def __init__(self, base_url: str, timeout: float = 300.0, connect_timeout: float = 10.0,
                 max_body_bytes: int = MAX_BODY_BYTES):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the upstream must be an http:// or https:// URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")       # a server mounted under a path: /api/... upstream
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.max_body_bytes = max_body_bytes
        self._pool = urllib3.connection_from_url(
            f"{parts.scheme}://{parts.netloc}", maxsize=POOL_SIZE, block=False, retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=timeout))

    def probe(self, timeout: float = 5.0) -> None:
        """Open (and close) one TCP connection: UpstreamError if nothing listens there."""
        try:
            socket.create_connection((self.host, self.port), timeout=timeout).close()
        except OSError as exc:
            raise UpstreamError("refused", f"cannot connect to {self.host}:{self.port}: {exc}") from None

    def send(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """Forward one request (`target` is the raw path and query the client used) with the client's headers,
        except the hop-by-hop ones and Host, which names the upstream."""
        forwarded = urllib3.HTTPHeaderDict()
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("host", "content-length"):
                forwarded.add(name, value)
        forwarded["Host"] = self.netloc
        # urllib3 would add a User-Agent and http.client an Accept-Encoding the client never sent.
        for name in ("User-Agent", "Accept-Encoding"):
            if name not in forwarded:
                forwarded[name] = SKIP_HEADER
        try:
            answer = self._pool.urlopen(method, self.prefix + target, body=body if body or method != "GET" else None,
                                        headers=forwarded, redirect=False, retries=False, assert_same_host=False,
                                        preload_content=False, decode_content=False)
            body = answer.read(self.max_body_bytes + 1)
        except urllib3.exceptions.HTTPError as exc:
            raise UpstreamError(_kind(exc), f"{type(exc).__name__}: {exc}"[:500]) from None
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
        if len(body) <= self.max_body_bytes:
            answer.release_conn()
            return Answer(answer.status, headers, body)
        return Answer(answer.status, headers, body, rest=answer)

    def close(self) -> None:
        self._pool.close()


def _kind(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}".lower()
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return "timeout"
    if "refused" in text:
        return "refused"
    if "reset" in text or "aborted" in text or "closed" in text:
        return "reset"
    return "protocol"
