"""The only module that sends HTTP to the target: limits, deadlines, no redirects, tokens never recorded."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from base64 import b64encode
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    LocationParseError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import Retry, Timeout, parse_url

from ..model import Exchange, Headers, Request, Response, TransportError
from ..redaction import Redactor, redactor

NO_BODY: Any = object()
CHUNK_BYTES = 64 * 1024
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
USER_AGENT = "dxconform/0.1"
# API calls in a row with no answer at all (timeouts, refused or reset connections) after which the server is
# taken to have stopped answering: every further call fails at once (Breaker).
BREAKER_LIMIT = 5
# A longer URL is not sent: its path carries a value an answer handed out (an ID of megabytes), and encoding it
# alone would cost the run seconds of CPU per call.
MAX_URL_CHARS = 64 * 1024


# --- a watchdog that can stop a blocked read: a server trickling headers must not hang the run ----------

_active = threading.local()


class _Tracked:
    """Mixin for urllib3 connections: remember the connection the current thread is using."""

    def request(self, *args, **kwargs):  # called in the caller's thread for every request
        watchdog = getattr(_active, "watchdog", None)
        if watchdog is not None:
            watchdog.connection = self
        return super().request(*args, **kwargs)


class _TrackedHTTPConnection(_Tracked, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _Watchdog:
    """At the deadline, shut the socket of the connection in use, which wakes any blocked read."""

    def __init__(self, seconds: float):
        self.connection: Any = None
        self.fired = False
        self.deadline = time.monotonic() + max(seconds, 0.0)

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> _Watchdog:
        _active.watchdog = self
        _WATCHER.arm(self)
        return self

    def __exit__(self, *exc) -> None:
        _WATCHER.disarm(self)
        _active.watchdog = None


class _Watcher:
    """One thread per process fires every armed watchdog at its deadline. A thread per request (a
    threading.Timer) cost more than the request itself on a fast server: ~0.1-1 ms to start under load."""

    def __init__(self):
        self._condition = threading.Condition()
        self._armed: set[_Watchdog] = set()
        self._thread: threading.Thread | None = None
        # When the watcher wakes up next on its own (None: not before it is notified). A watchdog due later
        # needs no wake-up: waking the thread on every request cost a thread switch each, under the GIL.
        self._wakes_at: float | None = None

    def arm(self, watchdog: _Watchdog) -> None:
        with self._condition:
            self._armed.add(watchdog)
            if self._thread is None or not self._thread.is_alive():   # first use, or after a fork
                self._wakes_at = None
                self._thread = threading.Thread(target=self._watch, name="dxconform-watchdog", daemon=True)
                self._thread.start()
            if self._wakes_at is None or watchdog.deadline < self._wakes_at:
                self._wakes_at = watchdog.deadline
                self._condition.notify()

    def disarm(self, watchdog: _Watchdog) -> None:
        with self._condition:
            self._armed.discard(watchdog)

    def _watch(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for watchdog in [w for w in self._armed if w.deadline <= now]:
                    self._armed.discard(watchdog)
                    watchdog._fire()
                nearest = min((w.deadline for w in self._armed), default=None)
                self._wakes_at = nearest
                self._condition.wait(None if nearest is None else max(nearest - now, 0.001))


_WATCHER = _Watcher()


# --- the breaker: a server that has stopped answering is not called any more ----------------------------------

class Breaker:
    """Counts API calls in a row that got no answer; at `limit` it trips, and `tripped` says why (one line).
    Any answer (whatever its status, even a cut-off one) resets the count. `limit` None: never trips."""

    def __init__(self, limit: int | None = BREAKER_LIMIT):
        self.limit = limit
        self.in_a_row = 0
        self.tripped: str | None = None
        self._lock = threading.Lock()

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            if exchange.response is not None:
                self.in_a_row = 0
                return
            self.in_a_row += 1
            if self.limit is not None and self.tripped is None and self.in_a_row >= self.limit:
                last = exchange.error.kind if exchange.error is not None else "no answer"
                self.tripped = (f"the server stopped answering: {self.in_a_row} calls in a row got no answer "
                                f"(the last: {last} on {exchange.request.path}); no further call was sent")


# --- what a request carries: the target and headers requests used to send, built on urllib3 directly ----------

class InvalidURL(ValueError):
    """A URL that is not sent: not http(s), no host, or not parseable."""


class InvalidHeader(ValueError):
    """A header that is not sent: not text, leading whitespace, a colon in its name, or a line break."""


# Sent with every request (a caller's header of the same name replaces it). identity: a compressed answer could
# inflate far past the size cap between two checks of it.
DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity"}
# The header rules of requests, which sent our requests before: a header breaking them is refused, not sent.
_HEADER_NAME = re.compile(r"[^:\s][^:\r\n]*")
_HEADER_VALUE = re.compile(r"\S[^\r\n]*|")
# A URL that needs no normalising: lower-case scheme and host, only characters a path or query may carry
# unencoded, no '%' escape and no dot segment (checked apart). Any other URL takes the long way.
_PLAIN_URL = re.compile(r"(https?)://([a-z0-9][a-z0-9.-]*)(?::([0-9]{1,5}))?"
                        r"((?:/[A-Za-z0-9._~!$&'()*+,;=:@-]*)*)(?:\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]*))?")
# No retry of any kind: a call is sent once, and what happened to it is recorded.
_NO_RETRIES = Retry(0, read=False)


def _requote(text: str) -> str:
    """requests' requote_uri (requests sent our requests before): unreserved escapes decoded, characters a URL
    may not carry percent-encoded. Only URLs off the plain path need it: requests is imported then."""
    from requests.utils import requote_uri

    return requote_uri(text)


class _Destination(NamedTuple):
    scheme: str
    host: str
    port: int | None
    target: str                 # what the request line carries: the path and the query
    credentials: str | None     # `user:password` of a URL that carries them (sent as Basic authorization)


def _destination(url: str) -> _Destination:
    """Where an http(s) URL points, normalised as requests did: host lower-cased, characters a URL may not
    carry percent-encoded, dot segments resolved, the fragment dropped."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and "/." not in plain[4] and (plain[3] is None or int(plain[3]) <= 65535):
        scheme, host, port, path, query = plain.groups()
        return _Destination(scheme, host, port and int(port), (path or "/") + (f"?{query}" if query else ""), None)
    try:
        parts = parse_url(url.lstrip())
    except LocationParseError as error:
        raise InvalidURL(f"Invalid URL {url[:200]!r}: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidURL(f"Invalid URL {url[:200]!r}: only http:// and https:// URLs are sent")
    if not parts.host or parts.host.startswith(("*", ".")):
        raise InvalidURL(f"Invalid URL {url[:200]!r}: no valid host")
    target = _requote(parts.path or "/") + (f"?{_requote(parts.query)}" if parts.query else "")
    user, has_password, password = (parts.auth or "").partition(":")
    credentials = f"{unquote(user)}:{unquote(password)}" if has_password else None
    return _Destination(parts.scheme, parts.host, parts.port, target, credentials)


def _wire_headers(method: str, headers: Mapping[str, str | None], body: bytes,
                  credentials: str | None = None) -> dict[str, str]:
    """The headers sent: the defaults, then `headers` (same name, any case: replaces; None: removes), then the
    body's Content-Length (0 for an empty body but on GET and HEAD, where it is left out), then the Basic
    authorization of `credentials` (a URL's `user:password`)."""
    merged = {name.lower(): (name, value) for name, value in DEFAULT_HEADERS.items()}
    for name, value in headers.items():
        merged[name.lower()] = (name, value)
    merged = {key: (name, value) for key, (name, value) in merged.items() if value is not None}
    for name, value in merged.values():
        if not isinstance(name, str) or not isinstance(value, str | bytes):
            raise InvalidHeader(f"Header {name!r}: {value!r} is not text")
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidHeader(f"Invalid leading whitespace, reserved character(s), or return character(s) in "
                                f"header name: {name!r}")
        if not _HEADER_VALUE.fullmatch(value if isinstance(value, str) else value.decode("latin-1")):
            raise InvalidHeader(f"Invalid leading whitespace, reserved character(s), or return character(s) in "
                                f"header value: {value!r}")
    if body:
        merged["content-length"] = ("Content-Length", str(len(body)))
    elif "content-length" not in merged and method not in ("GET", "HEAD"):
        merged["content-length"] = ("Content-Length", "0")
    if credentials is not None:
        merged["authorization"] = ("Authorization", "Basic " + b64encode(credentials.encode("latin-1")).decode())
    return dict(merged.values())


def _recorded_headers(answer: urllib3.BaseHTTPResponse, scrubber: Redactor) -> Headers:
    """Repeated headers joined by ', ' under the name as first received, tokens scrubbed."""
    return Headers([(name, scrubber.scrub(value.encode("latin-1", "replace")).decode("latin-1"))
                    for name, value in answer.headers.itermerged()])


def _pool_manager() -> urllib3.PoolManager:
    """Connection pools, one per origin, on tracked connections. Nothing is taken from the environment (no
    proxies, .netrc or CA bundle); HTTPS certificates are verified against certifi's bundle."""
    pools = urllib3.PoolManager(num_pools=10, maxsize=10, block=False, cert_reqs="CERT_REQUIRED",
                                ca_certs=certifi.where())
    pools.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}
    return pools


# --- the transport -----------------------------------------------------------------------------------------

def _classify(error: BaseException, *, sending: bool = False) -> str:
    """The kind of a network failure. `sending`: raised before the answer's headers were in (by urlopen),
    where any socket or protocol failure is a failed connection; else while reading the body."""
    text = f"{type(error).__name__}: {error}".lower()
    if isinstance(error, MaxRetryError) and isinstance(error.reason, ConnectTimeoutError) \
            and not isinstance(error.reason, NewConnectionError):
        return "connect_timeout"
    if isinstance(error, ReadTimeoutError | TimeoutError):
        return "timeout"
    if "refused" in text:
        return "refused"
    if "reset" in text or "aborted" in text:
        return "reset"
    if "incompleteread" in text or "incomplete read" in text or "prematurely" in text:
        return "truncated"
    if sending and isinstance(error, MaxRetryError | ProtocolError | ClosedPoolError | OSError
                              | urllib3.exceptions.SSLError):
        return "connection"
    return "protocol"


class Transport:
    """Sends API calls to one server as its users: `Transport(url, {"alice": token}).call("/system/whoami")`.

    Every call returns an Exchange, never raises for network trouble. The token goes only to `base_url`'s
    host, is redacted in the recorded request and scrubbed from recorded answers; redirects are recorded,
    never followed; bodies past `max_body_bytes` and answers past the deadline are cut off and marked.
    """

    def __init__(self, base_url: str, tokens: Mapping[str, str] | None = None, *, timeout: float = DEFAULT_TIMEOUT_S,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, connect_timeout: float | None = None,
                 breaker_limit: int | None = BREAKER_LIMIT):
        self.base_url = base_url.rstrip("/")
        self.base_netloc = urlsplit(self.base_url).netloc
        self.tokens = dict(tokens or {})
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else min(timeout, 10.0)
        self.max_body_bytes = max_body_bytes
        self.breaker = Breaker(breaker_limit)
        # urllib3 directly: requests' layers above it (request preparation, cookies, settings merged from the
        # environment) cost more client CPU per call than the rest of the call.
        self._pools = _pool_manager()
        self._timeouts = Timeout(connect=self.connect_timeout, read=self.timeout)
        # Other strings that must never appear in a record (a token passed as a literal in a step).
        self._secrets: set[str] = set(self.tokens.values())

    def close(self) -> None:
        self._pools.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, path: str, *, user: str | None, json_body: Any = NO_BODY, raw_body: bytes | str | None = None,
             headers: Mapping[str, str | None] | None = None, method: str = "POST", token: str | None = None,
             route: str | None = None) -> Exchange:
        """An API call: `method` (POST) to base_url + path as `user` (None: no token; `token` overrides it).

        The body is `json_body` serialised, or `raw_body` as is, or `{}`. `headers` add to or (with None)
        remove the defaults (Content-Type: application/json).
        """
        if not path.startswith("/"):
            raise ValueError(f"an API path starts with '/': {path!r}")
        url = self.base_url + path
        if raw_body is not None:
            body = raw_body.encode() if isinstance(raw_body, str) else bytes(raw_body)
        else:
            body = json.dumps({} if json_body is NO_BODY else json_body).encode()
        sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if token is None and user is not None and user not in self.tokens:
            raise ValueError(f"no token for user {user!r} (known: {', '.join(sorted(self.tokens)) or 'none'})")
        secret = token if token is not None else (self.tokens[user] if user is not None else None)
        if secret is not None and urlsplit(url).netloc == self.base_netloc:
            self._secrets.add(secret)
            sent["Authorization"] = f"Bearer {secret}"
        for name, value in (headers or {}).items():
            sent = {k: v for k, v in sent.items() if k.lower() != name.lower()}
            if value is not None:
                sent[name] = value
        if self.breaker.tripped or len(url) > MAX_URL_CHARS:   # not sent
            error = (TransportError("breaker", self.breaker.tripped) if self.breaker.tripped else
                     TransportError("url_too_long", f"not sent: the URL is {len(url)} characters long (more than "
                                                    f"{MAX_URL_CHARS}; a value in its path came from an answer)"))
            request = Request(method=method, url=url[:MAX_URL_CHARS], path=path[:MAX_URL_CHARS],
                              headers=Headers(sent), body=redactor(self._secrets).scrub(body))
            return Exchange(request=request, error=error, route=route)
        exchange = self._send(method, url, path, sent, body, route)
        self.breaker.record(exchange)
        return exchange

    def fetch(self, url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
              body: bytes | str = b"") -> Exchange:
        """A request to a URL the server handed out (upload, download). Never carries a token."""
        sent = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
        sent.setdefault("User-Agent", USER_AGENT)
        data = body.encode() if isinstance(body, str) else bytes(body)
        return self._send(method, url, urlsplit(url).path or "/", sent, data, None)

    # -- internals ------------------------------------------------------------------------------------------

    def _send(self, method: str, url: str, path: str, headers: dict[str, str], body: bytes,
              route: str | None) -> Exchange:
        scrubber = redactor(self._secrets)
        request = Request(method=method, url=url, path=path, headers=Headers(headers), body=scrubber.scrub(body))
        started = time.monotonic()
        deadline = started + self.timeout
        response: Response | None = None
        error: TransportError | None = None
        with _Watchdog(self.timeout) as watchdog:
            try:
                answer = self._urlopen(method, url, headers, body)
                try:
                    content, cut = self._read_body(answer, deadline)
                finally:
                    answer.close()          # a connection with unread bytes is closed, not reused
                    answer.release_conn()
                if cut is None and watchdog.fired:  # e.g. headers cut mid-line: http.client keeps what it got
                    cut = TransportError("deadline", f"answer not complete after {self.timeout} s")
                response = Response(status=answer.status, headers=_recorded_headers(answer, scrubber),
                                    body=scrubber.scrub(content), truncated=cut is not None)
                error = cut
            except Exception as failure:  # every network failure becomes a recorded exchange
                kind = "deadline" if watchdog.fired else _classify(failure, sending=True)
                error = TransportError(kind, f"{type(failure).__name__}: {failure}"[:500])
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return Exchange(request=request, response=response, error=error, elapsed_ms=elapsed_ms, route=route)

    def _urlopen(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> urllib3.BaseHTTPResponse:
        """The answer's status and headers, its body left to read; never a redirect followed, never a retry."""
        destination = _destination(url)
        method = method.upper()
        sent = _wire_headers(method, headers, body, destination.credentials)
        pool = self._pools.connection_from_host(destination.host, destination.port, destination.scheme)
        return pool.urlopen(method, destination.target, body=body or None, headers=sent, retries=_NO_RETRIES,
                            redirect=False, assert_same_host=False, timeout=self._timeouts, preload_content=False,
                            decode_content=False)

    def _read_body(self, answer: urllib3.BaseHTTPResponse, deadline: float) -> tuple[bytes, TransportError | None]:
        """The body, read in chunks until the end, the size cap or the deadline (whichever comes first)."""
        chunks, size = [], 0
        declared = answer.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            return b"", TransportError("too_large", f"Content-Length {declared} exceeds {self.max_body_bytes} bytes")
        try:
            # read1 hands back whatever has arrived, so a cut-off body keeps the bytes it had.
            while chunk := answer.read1(CHUNK_BYTES):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_body_bytes:
                    content = b"".join(chunks)[: self.max_body_bytes]
                    return content, TransportError("too_large", f"body exceeds {self.max_body_bytes} bytes")
                if time.monotonic() > deadline:
                    return b"".join(chunks), TransportError("deadline", f"body not complete after {self.timeout} s")
        except Exception as failure:
            watchdog = getattr(_active, "watchdog", None)
            kind = "deadline" if watchdog is not None and watchdog.fired else _classify(failure)
            if kind == "protocol" and "content" in str(failure).lower():
                kind = "truncated"
            return b"".join(chunks), TransportError(kind, f"{type(failure).__name__}: {failure}"[:500])
        return b"".join(chunks), None
