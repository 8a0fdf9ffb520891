"""The proxy's upstream client (conformance/proxy/upstream.py) against raw-socket servers: what it sends, how it
reads each kind of answer, its connection pool, its limits and its errors."""

from __future__ import annotations

import asyncio
import gc
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable

import pytest

from conformance.proxy.app import give_up_able
from conformance.proxy.upstream import STREAM_CHUNK_BYTES, Upstream, UpstreamError
from tests.engine.hostile import HostileServer, answer, hang, read_request, slam, truncated

JSON = b'{"id": "user-alice"}'


class KeepAliveServer:
    """A loopback server that answers request after request on each connection: `answers(index)` is the raw
    answer to the index-th request (of all connections). It counts the connections it accepted and, with
    `close_after` seconds, closes each connection that long after answering on it."""

    def __init__(self, answers: Callable[[int], bytes], close_after: float | None = None):
        self.answers = answers
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.closed_by_client = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    request = read_request(conn)
                except OSError:
                    return
                if not request:
                    self.closed_by_client.set()
                    return
                self.requests.append(request)
                try:
                    conn.sendall(self.answers(len(self.requests) - 1))
                except OSError:     # the client dropped the connection mid-answer
                    return
                if self.close_after is not None:
                    time.sleep(self.close_after)
                    return

    def __enter__(self) -> KeepAliveServer:
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()


def ok(body: bytes = JSON, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def run(upstream: Upstream, coroutine):
    """`coroutine` on a fresh event loop; the idle connections it leaves are closed before the loop is."""
    async def closing():
        try:
            return await asyncio.wait_for(coroutine, 20)
        finally:
            upstream.close_idle()
    return asyncio.run(closing())


def send(upstream: Upstream, method: str = "POST", target: str = "/system/whoami",
         headers: list[tuple[str, str]] | None = None, body: bytes = b"{}"):
    return upstream.send(method, target, headers or [], body)


def failure(upstream: Upstream, **kwargs) -> UpstreamError:
    with pytest.raises(UpstreamError) as raised:
        run(upstream, send(upstream, **kwargs))
    return raised.value


# -- what is sent ---------------------------------------------------------------------------------------
def test_the_request_is_forwarded_byte_for_byte() -> None:
    with HostileServer(answer("200 OK", JSON)) as server:
        upstream = Upstream(server.url + "/api/")
        headers = [("X-First", "1"), ("host", "127.0.0.1:9999"), ("authorization", "Bearer t"),
                   ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Content-Length", "999"),
                   ("X-MiXeD-Case", "  spaced  value"), ("Transfer-Encoding", "identity"), ("x-dup", "a"),
                   ("x-dup", "b")]
        got = run(upstream, send(upstream, target="/record-x/describe?fields=a%2Cb", headers=headers, body=b'{"a": 1}'))
        run(upstream, send(upstream, "GET", "/file-x/download", [("Range", "bytes=0-1")], b""))
        run(upstream, send(upstream, "DELETE", "/x", [], b""))
        run(upstream, send(upstream, "POST", "/y", [], b""))
    assert got.status == 200 and got.body == JSON
    # The client's headers in order and case, Host (where the client had it) names the upstream, hop-by-hop
    # headers dropped, Content-Length the body's; no User-Agent or Accept-Encoding added.
    assert server.requests[0] == (
        b"POST /api/record-x/describe?fields=a%2Cb HTTP/1.1\r\nX-First: 1\r\nHost: " + server.url[7:].encode()
        + b"\r\nauthorization: Bearer t\r\nX-MiXeD-Case:   spaced  value\r\nx-dup: a\r\nx-dup: b\r\n"
        b"Content-Length: 8\r\n\r\n{\"a\": 1}")
    netloc = server.url[7:].encode()
    # No Host from the client: it comes first. A GET without a body has no Content-Length; other methods do.
    assert server.requests[1] == b"GET /api/file-x/download HTTP/1.1\r\nHost: " + netloc + b"\r\nRange: bytes=0-1\r\n\r\n"
    assert server.requests[2] == b"DELETE /api/x HTTP/1.1\r\nHost: " + netloc + b"\r\nContent-Length: 0\r\n\r\n"
    assert server.requests[3] == b"POST /api/y HTTP/1.1\r\nHost: " + netloc + b"\r\nContent-Length: 0\r\n\r\n"


# -- how answers are read --------------------------------------------------------------------------------
def raw_answer(data: bytes, then: Callable[[socket.socket], None] | None = None):
    def behave(conn: socket.socket) -> None:
        conn.sendall(data)
        if then is not None:
            then(conn)
    return behave


def test_answers_are_passed_on_as_received() -> None:
    gzip_like = b"\x1f\x8b\x08\x00not really gzip"
    data = (b"HTTP/1.1 201 Created\r\nX-Case-Kept: Yes\r\nContent-Encoding: gzip\r\nConnection: close\r\n"
            b"Keep-Alive: timeout=5\r\nContent-Length: %d\r\n\r\n" % len(gzip_like)) + gzip_like
    with HostileServer(raw_answer(data)) as server:
        upstream = Upstream(server.url)
        got = run(upstream, send(upstream))
    # Hop-by-hop headers removed, the rest as received; the body not decoded.
    assert (got.status, got.body, got.rest) == (201, gzip_like, None)
    assert got.headers == [("X-Case-Kept", "Yes"), ("Content-Encoding", "gzip"),
                           ("Content-Length", str(len(gzip_like)))]


def test_a_chunked_answer_is_de_chunked() -> None:
    data = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\n{\"id\"\r\n11;ext=1\r\n: \"user-alice\"}  \r\n0\r\nX-Trailer: t\r\n\r\n")
    with HostileServer(raw_answer(data, hang)) as server:    # the connection stays open: the chunks say the end
        upstream = Upstream(server.url, timeout=5)
        got = run(upstream, send(upstream))
    assert got.body == b'{"id": "user-alice"}  ' and got.headers == [("Content-Type", "application/json")]


def test_an_answer_without_a_length_is_read_to_the_connection_close() -> None:
    body = b"[" + b"1," * 100_000 + b"1]"
    data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + body
    with HostileServer(raw_answer(data)) as server:
        upstream = Upstream(server.url)
        got = run(upstream, send(upstream))
    assert got.status == 200 and got.body == body


def test_an_interim_100_continue_is_skipped() -> None:
    data = b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" + ok(JSON, "X-Final: 1")
    with HostileServer(raw_answer(data, hang)) as server:
        upstream = Upstream(server.url, timeout=5)
        got = run(upstream, send(upstream))
    assert got.status == 200 and got.body == JSON
    assert ("X-Final", "1") in got.headers and ("X-Interim", "1") not in got.headers


def test_a_head_answer_has_no_body_whatever_its_content_length() -> None:
    # The connection stays open after the headers: waiting for the announced 5000 bytes would time out.
    data = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\n"
    with HostileServer(raw_answer(data, hang)) as server:
        started = time.monotonic()
        upstream = Upstream(server.url, timeout=3)
        got = run(upstream, send(upstream, "HEAD", body=b""))
    assert time.monotonic() - started < 2
    assert got.status == 200 and got.body == b"" and ("Content-Length", "5000") in got.headers


def in_parts(*parts: bytes):
    """Send each part on its own, a moment apart (the proxy reads them as separate chunks)."""
    def behave(conn: socket.socket) -> None:
        for part in parts:
            conn.sendall(part)
            time.sleep(0.05)
        hang(conn)
    return behave


@pytest.mark.parametrize("parts", [
    (ok(JSON, "Bearer secret-token", "X-After: 1"),),
    # The head arrives in pieces: the line without a colon in the first one, the head's end in a later one.
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nBearer secret-", b"token\r\nX-After: 1\r\n",
     b"Content-Length: %d\r\n\r\n" % len(JSON) + JSON),
], ids=["whole", "in-parts"])
def test_a_header_line_without_a_colon_is_dropped_and_the_answer_read(parts: tuple[bytes, ...]) -> None:
    # llhttp refuses such an answer; http.client (urllib3, dxpy) drops the line with a warning and reads on.
    with HostileServer(in_parts(*parts)) as server:
        upstream = Upstream(server.url, timeout=5)
        got = run(upstream, send(upstream))
    assert got.status == 200 and got.body == JSON
    assert sorted(got.headers) == [("Content-Length", str(len(JSON))), ("Content-Type", "application/json"),
                                   ("X-After", "1")]


def test_what_http_client_reads_is_read_bare_line_feeds_and_any_byte_in_a_value() -> None:
    data = (b"HTTP/1.1 200 OK\nContent-Type: application/json\nX-Odd: caf\xe9\x01\nContent-Length: %d\n\n"
            % len(JSON)) + JSON
    with HostileServer(raw_answer(data, hang)) as server:
        upstream = Upstream(server.url, timeout=5)
        got = run(upstream, send(upstream))
    assert got.status == 200 and got.body == JSON and ("X-Odd", "caf\xe9\x01") in got.headers


@pytest.mark.parametrize("bad_line", [b"", b"Bearer x\r\n"], ids=["well-formed", "after-a-bad-line"])
def test_a_head_that_never_ends_is_a_protocol_error_not_held(bad_line: bytes) -> None:
    endless = b"HTTP/1.1 200 OK\r\n" + bad_line + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(1500))
    with HostileServer(raw_answer(endless, hang)) as server:
        error = failure(Upstream(server.url, timeout=5))
    assert error.kind == "protocol" and "no end of the answer's head in 1048576 bytes" in str(error)


def test_a_bad_line_after_a_100_continue_and_a_space_before_a_colon_are_mended() -> None:
    data = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nBearer x\r\nX-Spaced : 1\r\nNot A Token: 2\r\n"
            b"Content-Length: %d\r\n\r\n" % len(JSON)) + JSON
    with HostileServer(raw_answer(data, hang)) as server:
        upstream = Upstream(server.url, timeout=5)
        got = run(upstream, send(upstream))
    assert got.status == 200 and got.body == JSON
    assert sorted(got.headers) == [("Content-Length", str(len(JSON))), ("X-Spaced", "1")]


def test_a_second_answer_to_one_request_keeps_the_connection_out_of_the_pool() -> None:
    # The second answer's body never comes: a connection put back in the pool would carry it into the next
    # exchange (its answer parsed from the second answer's head).
    async def twice(upstream: Upstream):
        first = await send(upstream)
        await asyncio.sleep(0.05)
        return first, await send(upstream)

    with KeepAliveServer(lambda index: ok(JSON) + b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\n") as server:
        upstream = Upstream(server.url, timeout=5)
        first, second = run(upstream, twice(upstream))
    assert (first.status, first.body, second.status, second.body) == (200, JSON, 200, JSON)
    assert server.connections == 2


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified"])
def test_204_and_304_have_no_body(status: bytes) -> None:
    with HostileServer(raw_answer(b"HTTP/1.1 " + status + b"\r\nContent-Length: 10\r\n\r\n", hang)) as server:
        upstream = Upstream(server.url, timeout=3)
        got = run(upstream, send(upstream))
    assert got.body == b""


# -- the pool --------------------------------------------------------------------------------------------
def test_keep_alive_connections_are_reused() -> None:
    async def two(upstream: Upstream) -> list[bytes]:
        return [(await send(upstream)).body for _ in range(2)]

    with KeepAliveServer(lambda index: ok(b'{"n": %d}' % index)) as server:
        upstream = Upstream(server.url)
        assert run(upstream, two(upstream)) == [b'{"n": 0}', b'{"n": 1}']
    assert server.connections == 1


def test_no_reuse_after_connection_close() -> None:
    async def two(upstream: Upstream) -> list[bytes]:
        return [(await send(upstream)).body for _ in range(2)]

    with KeepAliveServer(lambda index: ok(JSON, "Connection: close")) as server:
        upstream = Upstream(server.url)
        assert run(upstream, two(upstream)) == [JSON, JSON]
    assert server.connections == 2


def test_a_connection_the_server_closed_while_idle_is_not_used() -> None:
    async def apart(upstream: Upstream) -> list[int]:
        first = await send(upstream)
        await asyncio.sleep(0.5)     # the server closes the idle connection meanwhile
        second = await send(upstream)
        return [first.status, second.status]

    with KeepAliveServer(lambda index: ok(), close_after=0.1) as server:
        upstream = Upstream(server.url)
        assert run(upstream, apart(upstream)) == [200, 200]
    assert server.connections == 2


def test_close_after_the_loop_is_gone_does_not_raise() -> None:
    with KeepAliveServer(lambda index: ok()) as server:
        upstream = Upstream(server.url)
        asyncio.run(send(upstream))  # leaves an idle connection in the pool of a loop that is now closed
        upstream.close()
        upstream.close()
        with warnings.catch_warnings():     # its transport is closed by asyncio's finalizer, which says so
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def test_close_idle_closes_the_pool_of_the_running_loop() -> None:
    async def then_close(upstream: Upstream) -> None:
        await send(upstream)
        upstream.close_idle()

    with KeepAliveServer(lambda index: ok()) as server:
        upstream = Upstream(server.url)
        run(upstream, then_close(upstream))
        assert server.closed_by_client.wait(5)


# -- errors ----------------------------------------------------------------------------------------------
def test_nothing_listening_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = failure(Upstream(f"http://127.0.0.1:{port}"))
    assert error.kind == "refused" and f"127.0.0.1:{port}" in str(error)


def test_a_silent_upstream_times_out() -> None:
    with HostileServer(hang) as server:
        started = time.monotonic()
        error = failure(Upstream(server.url, timeout=0.5))
    assert error.kind == "timeout" and "0.5 s" in str(error) and time.monotonic() - started < 3


def test_the_read_timeout_is_the_wait_between_reads_not_the_whole_answer() -> None:
    def slow(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        for byte in b"12345":
            time.sleep(0.25)
            conn.sendall(bytes([byte]))

    with HostileServer(slow) as server:
        upstream = Upstream(server.url, timeout=0.6)
        got = run(upstream, send(upstream))   # 1.25 s in all, never 0.6 s without a byte
    assert got.body == b"12345"


@pytest.mark.parametrize("behave", [truncated, slam], ids=["cut_mid_body", "reset_before_answering"])
def test_a_broken_connection_is_a_reset(behave) -> None:
    with HostileServer(behave) as server:
        error = failure(Upstream(server.url))
    assert error.kind == "reset" and "connection" in str(error)


def test_garbage_is_a_protocol_error() -> None:
    with HostileServer(raw_answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", hang)) as server:
        error = failure(Upstream(server.url, timeout=5))
    assert error.kind == "protocol" and "not valid HTTP" in str(error)


# -- limits ----------------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_streamed_in_bounded_chunks() -> None:
    size = 6 * STREAM_CHUNK_BYTES + 12345
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    async def stream(upstream: Upstream) -> tuple[bytes, list[int], int]:
        got = await send(upstream)
        assert got.rest is not None and got.body == body[:1000]
        chunks = [await got.more()]
        await asyncio.sleep(0.3)     # the reader is slow: the upstream is read only a little ahead of it
        ahead = got.rest.stream_bytes
        while chunk := await got.more():
            chunks.append(chunk)
        assert got.rest is None
        return got.body + b"".join(chunks), [len(c) for c in chunks], ahead

    with HostileServer(answer("200 OK", body)) as server:
        upstream = Upstream(server.url, max_body_bytes=1000)
        whole, sizes, ahead = run(upstream, stream(upstream))
    assert whole == body
    assert len(sizes) > 3 and max(sizes) <= 2 * STREAM_CHUNK_BYTES and ahead <= 2 * STREAM_CHUNK_BYTES


def test_a_streamed_answer_read_whole_leaves_its_connection_reusable() -> None:
    async def whole(upstream: Upstream) -> tuple[int, bytes]:
        got = await send(upstream)
        size = len(got.body)
        while chunk := await got.more():
            size += len(chunk)
        return size, (await send(upstream)).body

    big = b"y" * 100_000
    with KeepAliveServer(lambda index: ok(big if index == 0 else JSON)) as server:
        upstream = Upstream(server.url, max_body_bytes=1000, timeout=5)
        assert run(upstream, whole(upstream)) == (len(big), JSON)
    assert server.connections == 1


def test_a_half_read_answer_is_closed_and_its_connection_not_reused() -> None:
    async def half(upstream: Upstream) -> bytes:
        got = await send(upstream)
        await got.more()
        got.close()
        return (await send(upstream)).body

    big = b"y" * (8 * STREAM_CHUNK_BYTES)
    with KeepAliveServer(lambda index: ok(big if index == 0 else JSON)) as server:
        upstream = Upstream(server.url, max_body_bytes=1000, timeout=5)
        assert run(upstream, half(upstream)) == JSON
    assert server.connections == 2


# -- giving up -------------------------------------------------------------------------------------------
class ClosedByClient:
    """A server behaviour: read the request, answer nothing, and note when the client closes the connection."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __call__(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if conn.recv(1) == b"":
            self.closed.set()

    async def wait(self) -> bool:
        """Whether the client closed the connection within 5 s, waited for on the client's own event loop (which
        cancels what is left of its tasks once it ends)."""
        for _ in range(100):
            if self.closed.is_set():
                return True
            await asyncio.sleep(0.05)
        return False


def _cancelled(upstream: Upstream):
    task = asyncio.ensure_future(send(upstream))
    return task, task.cancel, asyncio.CancelledError


def _given_up(upstream: Upstream):
    future = give_up_able(send(upstream))
    return future, lambda: future.set_exception(RuntimeError("given up")), RuntimeError   # as the stop watcher does


@pytest.mark.parametrize("abandon", [_cancelled, _given_up], ids=["cancelled", "given-up"])
def test_an_abandoned_send_closes_its_connection(abandon) -> None:
    async def scenario(upstream: Upstream) -> None:
        pending, let_go, raised = abandon(upstream)
        await asyncio.sleep(0.2)
        let_go()
        with pytest.raises(raised):
            await pending
        assert await behave.wait(), "the upstream connection stayed open"

    behave = ClosedByClient()
    with HostileServer(behave) as server:
        upstream = Upstream(server.url)
        run(upstream, scenario(upstream))


# -- HTTPS -----------------------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_an_https_upstream_is_verified_against_the_trust_store(tmp_path, monkeypatch) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    url = f"https://localhost:{listener.getsockname()[1]}"

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    read_request(tls)
                    tls.sendall(ok())
            except (OSError, ssl.SSLError):      # the untrusted client hangs up during the handshake
                pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        untrusted = failure(Upstream(url))
        assert untrusted.kind == "protocol" and "certificate" in str(untrusted)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))   # the trust store of ssl.create_default_context()
        upstream = Upstream(url)
        got = run(upstream, send(upstream))
    finally:
        listener.close()
    assert got.status == 200 and got.body == JSON
