"""The proxy's ASGI application: forward each request upstream unchanged, answer the client, record and check.

Bounds (docs/proxy.md): a request body over MAX_REQUEST_BYTES is refused (413, nothing forwarded); of an
answer the proxy holds at most upstream.MAX_BODY_BYTES and streams the rest on; an answer that decodes to more
than rewrite.MAX_DECODED_BYTES is passed on as it came. Either answer is recorded cut, with a note saying why,
and only the checks that do not need the whole body apply to it. The upstream is called on the event loop
itself (upstream.py); a stopping proxy (`--duration`, Ctrl-C) gives up an exchange waiting for a slow upstream
instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..model import Exchange, Headers, Request, Response, TransportError
from ..redaction import redactor
from .har import LIMIT_NOTE
from .rewrite import DecodeLimit, UrlRewriter, decoded
from .strict import strict_answer
from .traffic import CONTENT_BODY_KEPT, Traffic
from .upstream import HOP_BY_HOP, Answer, Upstream, UpstreamError

# The largest request body the proxy accepts (it holds a request whole, to forward and check it).
MAX_REQUEST_BYTES = 64 * 1024 * 1024
# How often an exchange waiting for the upstream looks whether the proxy is stopping.
STOP_POLL_SECONDS = 0.1
T = TypeVar("T")


class DaemonWorkers:
    """Daemon threads for blocking calls (strict mode's checks), kept for the next call once done (starting a
    thread per call cost the event loop about 0.2 ms per exchange). Every call gets a thread of its own at once,
    an idle one or a new one: a slow call never holds up another exchange. Being daemons, a call still blocked
    when the proxy stops keeps neither the event loop's shutdown nor the process's exit waiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0          # threads waiting for a job that no submitted job has claimed yet
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            claimed = self._idle > 0
            if claimed:
                self._idle -= 1
        if claimed:
            self._jobs.put(job)
        else:
            threading.Thread(target=self._work, args=(job,), name="dxconform-proxy-worker", daemon=True).start()

    def _work(self, job: Callable[[], None]) -> None:
        while True:
            job()
            with self._lock:
                self._idle += 1
            job = self._jobs.get()


_WORKERS = DaemonWorkers()


async def in_daemon_thread(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on a daemon thread (DaemonWorkers): unlike asyncio.to_thread, a call still blocked when
    the proxy stops keeps neither the event loop's shutdown nor the process's exit waiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(error: BaseException | None, result: Any) -> None:
        if future.done():  # the awaiting task was cancelled: nobody wants the result
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        error, result = None, None
        try:
            result = function(*args)
        except BaseException as exc:  # handed to the awaiting task
            error = exc
        try:
            loop.call_soon_threadsafe(settle, error, result)
        except RuntimeError:  # the loop has closed: nobody waits for the result any more
            pass

    _WORKERS.submit(run)
    return await future


def give_up_able(call: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """The result of `call` (run as a task) in a plain future, which the stop watcher can settle first with
    _Stopping (a Task cannot take set_exception). A future given up (or cancelled) cancels the task: an upstream
    send drops its connection; an Answer that arrives all the same is closed."""
    loop = asyncio.get_running_loop()
    task = loop.create_task(call)
    future: asyncio.Future[T] = loop.create_future()

    def copy(done: asyncio.Task[T]) -> None:
        if done.cancelled():
            if not future.done():
                future.cancel()
            return
        error = done.exception()    # retrieved either way: a given-up call's failure is nobody's to report
        if future.done():
            if error is None and isinstance(answer := done.result(), Answer):
                answer.close()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())

    def give_up(_: asyncio.Future[T]) -> None:
        if not task.done():
            task.cancel()

    task.add_done_callback(copy)
    future.add_done_callback(give_up)
    return future


class _Stopping(Exception):
    """The proxy is stopping: an exchange still waiting for the upstream is given up."""


def _error_answer(status: int, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"error": {"type": "InternalError" if status >= 500 else "InvalidInput",
                                 "message": f"dxconform proxy: {message}"}}).encode()
    return status, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())], body


def _bad_gateway(message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return _error_answer(502, message)


class ProxyApp:
    """ASGI callable. Checks run on a background thread, off the answer's path, unless `strict` (then the
    answer waits for them, and a MUST violation is answered with an error envelope instead)."""

    def __init__(self, upstream: Upstream, traffic: Traffic, *, strict: bool = False,
                 max_request_bytes: int = MAX_REQUEST_BYTES, stopping: Callable[[], bool] = lambda: False):
        # `stopping()` turns true when the proxy is told to stop: exchanges waiting for the upstream give up.
        self.stopping = stopping
        self.upstream = upstream
        self.traffic = traffic
        self.monitor = traffic.monitor
        self.strict = strict
        self.max_request_bytes = max_request_bytes
        self.rewriter = UrlRewriter(upstream.base_url)
        self._waiting: set[asyncio.Future[Any]] = set()    # exchanges waiting on the upstream
        self._stop_watch: asyncio.Future[None] | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = await self._read_body(receive, self.max_request_bytes)
        if body is None:
            self.monitor.count("over_limit")
            status, headers, payload = _error_answer(
                413, f"the request body is over the proxy's limit of {self.max_request_bytes} bytes: not forwarded")
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        status, headers, payload, answer = await self.handle(scope, body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if answer is None or answer.rest is None:
            await send({"type": "http.response.body", "body": payload})
            return
        try:  # a body past the limit: what was held, then the rest as it comes
            await send({"type": "http.response.body", "body": payload, "more_body": True})
            while chunk := await self._unless_stopping(give_up_able(answer.more())):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except _Stopping:  # the proxy is stopping: the client gets a cut answer (its connection closes)
            pass
        finally:
            answer.close()

    @staticmethod
    async def _read_body(receive, limit: int) -> bytes | None:
        """The request body, or None once it passes `limit` bytes (the rest is not read)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def handle(self, scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes, Answer | None]:
        """(status, headers, body) for the client, and the upstream's answer when the rest of its body is still
        to be streamed (`answer.rest`)."""
        started_ms, started = int(time.time() * 1000), time.perf_counter()
        self.traffic.begin(started_ms)   # the recording keeps start order: later exchanges wait for this one
        try:
            return await self._exchange(scope, body, started_ms, started)
        finally:
            self.traffic.end(started_ms)

    async def _exchange(self, scope, body: bytes, started_ms: int, started: float
                        ) -> tuple[int, list[tuple[bytes, bytes]], bytes, Answer | None]:
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        target = path + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k.lower() == "host"), None)
        server_host, server_port = scope.get("server") or ("127.0.0.1", 0)
        origin = f"{scope.get('scheme', 'http')}://{host or f'{server_host}:{server_port}'}"
        for name, value in headers:
            if name.lower() == "authorization":
                self.traffic.note_authorization(value)
        content = self.monitor.is_content(path)
        scrubber = redactor(self.traffic.known_secrets())
        request = Request(method=method, url=origin + target, path=path, headers=Headers(headers),
                          body=scrubber.scrub(body))

        def elapsed_ms() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            answer = await self._unless_stopping(give_up_able(self.upstream.send(method, target, headers, body)))
        except _Stopping:  # the proxy is stopping and the upstream has not answered: the client is told so
            exchange = Exchange(request, None, TransportError("interrupted", "the proxy stopped before the "
                                                              "upstream answered"), elapsed_ms())
            self._finish(exchange, started_ms, content)
            return (*_error_answer(503, "the proxy is stopping; the upstream had not answered"), None)
        except UpstreamError as failure:
            exchange = Exchange(request, None, TransportError(failure.kind, str(failure)), elapsed_ms())
            self._finish(exchange, started_ms, content)
            return (*_bad_gateway(f"the upstream server gave no answer ({failure.kind}): {failure}"), None)
        except asyncio.CancelledError:  # the proxy stopped while the upstream had not answered
            exchange = Exchange(request, None, TransportError("interrupted", "the proxy stopped before the "
                                                              "upstream answered"), elapsed_ms())
            self._finish(exchange, started_ms, content)
            raise
        status, out_headers, out_body, recorded, note = self._relay(answer, origin)
        if note is not None:
            self.monitor.count("over_limit")
            response = Response(status, Headers(answer.headers), scrubber.scrub(recorded), truncated=True)
            exchange = Exchange(request, response, None, elapsed_ms())
            self.traffic.record(exchange, started_ms, content=content, extra={LIMIT_NOTE: note})
            self.traffic.submit(exchange, started_ms)
            return status, out_headers, out_body, answer
        if not content and 200 <= answer.status < 300:
            # Learned before the client has the answer: its next request may be to one of these URLs.
            self.monitor.learn_urls(recorded)
        exchange = Exchange(request, Response(status, Headers(answer.headers), scrubber.scrub(recorded)),
                            None, elapsed_ms())
        if self.strict:
            verdict = await in_daemon_thread(self.traffic.check_now, exchange, started_ms)
            replaced = strict_answer(verdict)
            if replaced is not None:
                self.traffic.record(exchange, started_ms, content=content,
                                    extra={"strict": {"status": replaced[0], "side": replaced[3]}})
                return (*replaced[:3], None)
            self.traffic.record(exchange, started_ms, content=content)
        else:
            self._finish(exchange, started_ms, content)
        return status, out_headers, out_body, None

    async def _unless_stopping(self, future: asyncio.Future[T]) -> T:
        """The result of `future`, or _Stopping as soon as (within STOP_POLL_SECONDS) the proxy is stopping.
        One watcher per event loop looks (no timer per exchange)."""
        watch = self._stop_watch
        if watch is None or watch.done() or watch.get_loop() is not asyncio.get_running_loop():
            self._stop_watch = asyncio.ensure_future(self._watch_stopping())
        self._waiting.add(future)
        try:
            return await future
        finally:
            self._waiting.discard(future)

    async def _watch_stopping(self) -> None:
        """Once the proxy is stopping, every exchange waiting on the upstream (or starting to) gives up."""
        while True:
            if self.stopping():
                for future in list(self._waiting):
                    if not future.done():
                        future.set_exception(_Stopping())
            await asyncio.sleep(STOP_POLL_SECONDS)

    def _finish(self, exchange: Exchange, started_ms: int, content: bool) -> None:
        self.traffic.record(exchange, started_ms, content=content)
        if self.strict:
            self.traffic.check_now(exchange, started_ms)
        else:
            self.traffic.submit(exchange, started_ms)

    def _relay(self, answer: Answer, origin: str
               ) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes, str | None]:
        """(status, headers, body) for the client, the body as recorded (decoded, URLs rewritten) and, for an
        answer past a limit (passed on as it came, recorded cut), the note saying why."""
        if answer.rest is not None:
            return (answer.status, _raw_headers(answer.headers), answer.body, answer.body[:CONTENT_BODY_KEPT],
                    f"the body is longer than the proxy's limit of {self.upstream.max_body_bytes} bytes: "
                    f"streamed to the client as it came, recorded cut to its first bytes, not rewritten")
        encoding = next((v for k, v in answer.headers if k.lower() == "content-encoding"), None)
        try:
            plain = decoded(answer.body, encoding)
        except DecodeLimit as limit:
            return (answer.status, _raw_headers(answer.headers), answer.body, limit.prefix[:CONTENT_BODY_KEPT],
                    f"the {encoding} body ({len(answer.body)} bytes) decodes to more than the proxy's limit of "
                    f"{limit.limit} bytes: passed to the client as it came, recorded cut to its first decoded "
                    f"bytes")
        if plain is None:  # an encoding we cannot read: pass it on untouched, record it as it came
            return answer.status, _raw_headers(answer.headers), answer.body, answer.body, None
        rewritten = self.rewriter.rewrite(plain, origin)
        if rewritten is plain:
            return answer.status, _raw_headers(answer.headers), answer.body, plain, None
        kept = [(k, v) for k, v in answer.headers if k.lower() != "content-encoding"]
        return answer.status, _raw_headers(kept, len(rewritten)), rewritten, rewritten, None


def _raw_headers(headers: list[tuple[str, str]], length: int | None = None) -> list[tuple[bytes, bytes]]:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers
           if k.lower() not in HOP_BY_HOP and (length is None or k.lower() != "content-length")]
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    return raw
