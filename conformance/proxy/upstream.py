"""The proxy's side of the upstream server: an asyncio HTTP/1.1 client on the proxy's own event loop that
forwards requests byte for byte, parses answers with httptools (llhttp, the parser uvicorn uses), pools
keep-alive connections, and holds at most MAX_BODY_BYTES of an answer (the rest is streamed on, not held).

It runs on the event loop, not on a thread: handing each exchange to a thread and back, and http.client's
header parsing (the `email` package), cost the proxy about half a millisecond per exchange
(docs/proxy.md, Latency).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools

# Headers about one hop of the connection (RFC 9110 7.6.1): never forwarded in either direction.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade"})
# Request headers the proxy sets itself: Host names the upstream, Content-Length is the body's.
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
POOL_SIZE = 32          # idle keep-alive connections kept per event loop
# How much of one answer the proxy holds (to decode, rewrite, record and check it). A longer body (a file
# download) is streamed on to the client past this; docs/proxy.md documents it.
MAX_BODY_BYTES = 32 * 1024 * 1024
# Of a streamed body, how much is read ahead of the client: reading pauses past it (flow control).
STREAM_CHUNK_BYTES = 1024 * 1024


class UpstreamError(Exception):
    """The upstream gave no complete answer: `kind` is refused, timeout, reset or protocol."""

    def __init__(self, kind: str, message: str):
        super().__init__(message[:500])
        self.kind = kind


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]          # as received, hop-by-hop headers removed
    body: bytes                             # as received (still content-encoded, if it was); at most the limit
    # The connection the rest of a body longer than the limit is still to be read from (None: `body` is all).
    rest: _Connection | None = None

    async def more(self) -> bytes:
        """The next chunk of the rest of the body (b"" at its end, or if the upstream broke off)."""
        if self.rest is None:
            return b""
        try:
            chunk = await self.rest.next_chunk()
        except UpstreamError:
            chunk = b""
        if not chunk:
            self.close()
        return chunk

    def close(self) -> None:
        """Let go of the rest: a connection whose answer was not read whole is dropped, not reused."""
        if self.rest is not None:
            rest = self.rest
            object.__setattr__(self, "rest", None)
            rest.end_stream()


class Upstream:
    """`await Upstream("http://127.0.0.1:8124").send("POST", "/system/whoami", headers, body)`, on any event
    loop (each has its own pool of connections)."""

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
        self.timeout = timeout                     # the longest wait for the upstream's next bytes
        self.connect_timeout = connect_timeout
        self.max_body_bytes = max_body_bytes
        # The system's trust store, as urllib3 used.
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}

    def probe(self, timeout: float = 5.0) -> None:
        """Open (and close) one TCP connection: UpstreamError if nothing listens there. Blocking: the CLI calls
        it before the event loop runs."""
        try:
            socket.create_connection((self.host, self.port), timeout=timeout).close()
        except OSError as exc:
            raise UpstreamError("refused", f"cannot connect to {self.host}:{self.port}: {exc}") from None

    def request_bytes(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        """The request as sent upstream: the client's headers in their order and case, except the hop-by-hop
        ones; Host (where the client had it, else first) names the upstream; Content-Length is the body's
        (sent when there is a body or the method is not GET); nothing else is added."""
        host = f"Host: {self.netloc}\r\n"
        lines = [f"{method} {self.prefix}{target} HTTP/1.1\r\n"]
        for name, value in headers:
            lower = name.lower()
            if lower not in _NOT_FORWARDED:
                lines.append(f"{name}: {value}\r\n")
            elif lower == "host" and host:
                lines.append(host)
                host = ""
        if host:
            lines.insert(1, host)
        if body or method != "GET":
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("latin-1") + body

    async def send(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """Forward one request (`target` is the raw path and query the client used; see request_bytes) and read
        its answer. Never retried (a POST may not be repeated): a reused connection that breaks before the
        answer is an UpstreamError("reset"). Cancelled, the connection is dropped."""
        request = self.request_bytes(method, target, headers, body)
        pool = self._pool()
        connection = pool.take()
        if connection is None:
            connection = await self._connect(pool)
        try:
            result = await connection.start(request, method == "HEAD")
        except BaseException:  # failed, or given up (cancelled): the connection is in an unknown state
            connection.abort()
            raise
        if result.rest is None:
            connection.finished()
        return result

    def _pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _Pool(self)
        return pool

    async def _connect(self, pool: _Pool) -> _Connection:
        loop = asyncio.get_running_loop()
        where = f"{self.host}:{self.port}"
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(pool), self.host, self.port, ssl=self._ssl,
                    server_hostname=self.host if self._ssl else None)
        except TimeoutError:
            raise UpstreamError("timeout", f"cannot connect to {where}: no connection within "
                                           f"{self.connect_timeout:g} s") from None
        except ssl.SSLError as exc:
            raise UpstreamError("protocol", f"TLS with {where} failed: {exc}") from None
        except OSError as exc:
            raise UpstreamError("refused", f"cannot connect to {where}: {exc}") from None
        return connection

    def close_idle(self) -> None:
        """Close the idle connections of the running event loop (the proxy stopping); later ones are closed
        when their answer is read."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            pool.close()

    def close(self) -> None:
        """Forget every pool; the idle connections of a loop that still exists are closed on it. Never raises,
        also after the loops are gone."""
        pools, self._pools = self._pools, {}
        for loop, pool in pools.items():
            if not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(pool.close)
                except RuntimeError:   # closed in the meantime
                    pass


class _Pool:
    """The idle keep-alive connections to the upstream of one event loop; the most recently used is reused
    first (the least likely to have been closed by the server meanwhile)."""

    def __init__(self, upstream: Upstream):
        self.upstream = upstream
        self.idle: list[_Connection] = []
        self.closed = False

    def take(self) -> _Connection | None:
        while self.idle:
            connection = self.idle.pop()
            if not connection.transport.is_closing():
                return connection
        return None

    def put(self, connection: _Connection) -> None:
        if self.closed:
            connection.transport.close()
            return
        if len(self.idle) >= POOL_SIZE:
            self.idle.pop(0).transport.close()
        self.idle.append(connection)

    def drop(self, connection: _Connection) -> None:
        if connection in self.idle:
            self.idle.remove(connection)

    def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            connection.transport.close()


# llhttp's error for a malformed field line (no colon, or a name that is no token); the head is then parsed
# again with such lines mended (_mend).
_BAD_HEADER_LINE = "Invalid header token"
# The longest head (interim answers' included) an answer may have: past it, the answer is a protocol error.
MAX_HEAD_BYTES = 1024 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_INTERIM = re.compile(rb"HTTP/\d\.\d 1\d\d")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _mended_line(line: bytes) -> bytes | None:
    """A field line as llhttp takes it, or None: a continuation line as it is, `name : value` without the
    whitespace before the colon, nothing for a line that is no `token: value`."""
    if line[:1] in (b" ", b"\t"):
        return line
    name, colon, value = line.partition(b":")
    name = name.rstrip(b" \t")
    return name + b":" + value if colon and _TOKEN.fullmatch(name) else None


def _parser(callbacks: Any) -> httptools.HttpResponseParser:
    """A response parser as lenient as http.client (urllib3, dxpy's client) on what does not change where an
    answer ends: any byte in a header value, a bare LF for CRLF. The framing stays strict (the proxy frames
    the answer to its client anew either way)."""
    parser = httptools.HttpResponseParser(callbacks)
    parser.set_dangerous_leniencies(lenient_headers=True, lenient_optional_cr_before_lf=True)
    return parser


class _Connection(asyncio.Protocol):
    """One connection to the upstream, one exchange at a time: the request written, the answer parsed by a
    fresh httptools parser (llhttp; it de-chunks, and knows that 1xx, 204 and 304 have no body, but not the
    request's method: a HEAD's answer is complete at its headers). Of a body past the limit, the rest is
    buffered up to STREAM_CHUNK_BYTES ahead of the reader, then reading pauses."""

    def __init__(self, pool: _Pool):
        self.pool = pool
        upstream = pool.upstream
        self.limit = upstream.max_body_bytes
        self.timeout = upstream.timeout
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set by connection_made
        self.busy = False           # an exchange is in flight: its answer is not whole, or not read whole
        self.answer: asyncio.Future[Answer] | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.error: UpstreamError | None = None
        self.last_read = 0.0        # loop time of the last bytes (or of the start of a wait for them)
        self.timer: asyncio.TimerHandle | None = None

    # -- the exchange -----------------------------------------------------------------------------------
    def start(self, request: bytes, head: bool) -> asyncio.Future[Answer]:
        """Send `request`; the future of its answer (complete, or cut at the limit with `rest` = self)."""
        self.busy, self.head, self.error = True, head, None
        self.parser = _parser(self)
        # The bytes before the headers' end, kept to parse them again (_mend); past MAX_HEAD_BYTES, the answer
        # is a protocol error.
        self.raw_head: bytearray | None = bytearray()
        self.searched = 0                         # how far _mend looked for the head's end already
        # A malformed field line was met: the head is being gathered to parse it again, mended (_mend).
        self.mending = False
        self.status, self.headers, self.held, self.held_bytes, self.received = 0, [], [], 0, 0
        self.headers_done = self.complete = self.reusable = self.until_close = False
        self.streaming = False
        self.stream: list[bytes] = []
        self.stream_bytes = 0
        self.stream_waiter: asyncio.Future[None] | None = None
        self.answer = self.loop.create_future()
        self.transport.write(request)
        self._wait_for_bytes()
        return self.answer

    def finished(self) -> None:
        """The answer was read whole: the connection is kept for another exchange if the server allows it."""
        self.busy = False
        self.parser = None
        if self.reusable and not self.transport.is_closing():
            self.transport.resume_reading()     # a streamed answer may have ended with reading paused
            self.pool.put(self)
        else:
            self.transport.close()

    def abort(self) -> None:
        self.busy = False
        self.transport.abort()

    async def next_chunk(self) -> bytes:
        """The next part of a streamed body (b"" at its end); UpstreamError if the upstream broke off."""
        while not self.stream and not self.complete and self.error is None:
            self.stream_waiter = self.loop.create_future()
            self._wait_for_bytes()
            self.transport.resume_reading()
            try:
                await self.stream_waiter
            finally:
                self.stream_waiter = None
        if self.stream:
            chunk = b"".join(self.stream)
            self.stream, self.stream_bytes = [], 0
            if not self.complete:
                self.transport.resume_reading()
            return chunk
        if self.error is not None:
            raise self.error
        return b""

    def end_stream(self) -> None:
        """The reader of a streamed body is done with it: reused only if it was read to its end."""
        if self.complete and not self.stream:
            self.finished()
        else:
            self.abort()

    # -- the read timeout: one timer per exchange, re-armed when it fires, not per read ------------------
    def _wait_for_bytes(self) -> None:
        self.last_read = self.loop.time()
        if self.timer is None:
            self.timer = self.loop.call_at(self.last_read + self.timeout, self._timer_fired)

    def _waiting(self) -> bool:
        return self.busy and (not self.streaming or self.stream_waiter is not None)

    def _timer_fired(self) -> None:
        self.timer = None
        if not self._waiting():      # armed again by the next wait
            return
        due = self.last_read + self.timeout
        if self.loop.time() < due:
            self.timer = self.loop.call_at(due, self._timer_fired)
            return
        self._fail(UpstreamError("timeout", f"the upstream sent nothing for {self.timeout:g} s"))
        self.transport.abort()

    def _fail(self, error: UpstreamError) -> None:
        if self.error is not None or self.complete:
            return
        self.error = error
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(error)
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self.stream_waiter is not None and not self.stream_waiter.done():
            self.stream_waiter.set_result(None)

    # -- asyncio.Protocol -------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.busy or self.parser is None:     # bytes nobody asked for: the connection is not sound
            self.pool.drop(self)
            self.transport.abort()
            return
        self.last_read = self.loop.time()
        if self.raw_head is not None:
            self.raw_head += data
            if len(self.raw_head) > MAX_HEAD_BYTES:   # http.client stopped at 100 header lines of 64 KiB at most
                self._parse_error(httptools.HttpParserError(f"no end of the answer's head in {MAX_HEAD_BYTES} "
                                                            f"bytes"))
                return
        try:
            if self.mending:
                self._mend()
            else:
                self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.raw_head is not None and _BAD_HEADER_LINE in str(exc):   # not mended yet
                self.mending = True
                try:
                    self._mend()
                except httptools.HttpParserError as again:
                    self._parse_error(again)
            else:
                self._parse_error(exc)

    def _mend(self) -> None:
        """Once the final head is all here, parse the answer again with its malformed field lines mended: a name
        with whitespace before the colon loses it, a line that is no `token: value` is dropped. llhttp refuses
        such an answer; http.client (urllib3, dxpy's client) stops reading the headers at such a line and takes
        what follows as the body. Interim (1xx) heads before it are passed on as they came."""
        received = self.raw_head
        start = 0
        while True:
            end = _HEAD_END.search(received, max(start, self.searched - 3))
            if end is None:
                self.searched = len(received)
                return
            if not _INTERIM.match(received, start):
                break
            start, self.searched = end.end(), end.end()
        lines = _LINE_END.split(bytes(received[start:end.start()]))
        kept = lines[:1] + [line for line in map(_mended_line, lines[1:]) if line is not None]
        self.mending, self.raw_head, self.headers = False, None, []
        self.parser = _parser(self)
        self.parser.feed_data(bytes(received[:start]) + b"\r\n".join(kept) + b"\r\n\r\n" + received[end.end():])

    def _parse_error(self, exc: Exception) -> None:
        if isinstance(exc, httptools.HttpParserUpgrade):
            self._fail(UpstreamError("protocol", "the upstream switched protocols (101), which the proxy never "
                                                 "asked for"))
        else:
            self._fail(UpstreamError("protocol", f"the upstream's answer is not valid HTTP/1.1: "
                                                 f"{type(exc).__name__}: {exc}"))
        self.transport.abort()

    def eof_received(self) -> bool:
        if self.busy and self.headers_done and self.until_close and not self.complete:
            self.on_message_complete()   # an answer without a length ends with its connection
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.drop(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.busy or self.complete:
            return
        if exc is not None:
            reason = f"the connection broke ({type(exc).__name__}: {exc})"
        else:
            reason = "the upstream closed the connection"
        if not self.headers_done:
            self._fail(UpstreamError("reset", f"{reason} before answering"))
        else:
            self._fail(UpstreamError("reset", f"{reason} during the answer's body, after {self.received} "
                                              f"bytes of it"))

    # -- httptools callbacks ----------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self.complete:            # a second answer to one request: the connection is not reused
            self.reusable = False
        self.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.headers_done:    # trailers of a chunked body are dropped, as http.client did
            self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self.headers_done:        # a second answer to one request: the connection is not reused
            self.reusable = False
            return
        status = self.parser.get_status_code()
        if status < 200:             # 100 Continue and other interim answers are skipped
            return
        self.status, self.headers_done, self.raw_head = status, True, None
        self.reusable = self.parser.should_keep_alive()
        names = {name.lower(): value for name, value in self.headers}
        chunked = names.get("transfer-encoding", "").lower().rstrip(" ,").endswith("chunked")
        self.until_close = "content-length" not in names and not chunked
        self.headers = [(k, v) for k, v in self.headers if k.lower() not in HOP_BY_HOP]
        if self.head:                # llhttp would wait for the body a Content-Length announces
            self.on_message_complete()

    def on_body(self, data: bytes) -> None:
        if self.complete:            # bytes after a HEAD's answer: the connection is not reused
            self.reusable = False
            return
        self.received += len(data)
        if self.streaming:
            self.stream.append(data)
            self.stream_bytes += len(data)
            if self.stream_bytes >= STREAM_CHUNK_BYTES:
                self.transport.pause_reading()
            self._wake_reader()
            return
        self.held.append(data)
        self.held_bytes += len(data)
        if self.held_bytes > self.limit:   # hand on what is held; the rest streams from here
            cut = len(data) - (self.held_bytes - self.limit)
            self.held[-1] = data[:cut]
            body = b"".join(self.held)
            self.held, self.held_bytes, self.streaming = [], self.limit, True
            self.stream, self.stream_bytes = [data[cut:]], len(data) - cut
            self.transport.pause_reading()
            self._settle(Answer(self.status, self.headers, body, rest=self))

    def on_message_complete(self) -> None:
        if not self.headers_done:    # the end of an interim answer: the real one follows
            return
        if self.complete:
            return
        self.complete = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.streaming:
            self._wake_reader()
            return
        self._settle(Answer(self.status, self.headers, b"".join(self.held)))

    def _settle(self, answer: Answer) -> None:
        if self.answer.done():       # given up (the send was cancelled): the connection is being dropped
            return
        self.answer.set_result(answer)
