"""The proxy's ASGI application: forward each request upstream unchanged, answer the client, record and check."""

from __future__ import annotations

import asyncio
import json
import time

from ..model import Exchange, Headers, Request, Response, TransportError, scrub
from .rewrite import UrlRewriter, decoded
from .strict import strict_answer
from .traffic import Traffic
from .upstream import HOP_BY_HOP, Answer, Upstream, UpstreamError


def _bad_gateway(message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"error": {"type": "InternalError", "message": f"dxconform proxy: {message}"}}).encode()
    return 502, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())], body


class ProxyApp:
    """ASGI callable. Checks run on a background thread, off the answer's path, unless `strict` (then the
    answer waits for them, and a MUST violation is answered with an error envelope instead)."""

    def __init__(self, upstream: Upstream, traffic: Traffic, *, strict: bool = False):
        self.upstream = upstream
        self.traffic = traffic
        self.monitor = traffic.monitor
        self.strict = strict
        self.rewriter = UrlRewriter(upstream.base_url)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = await self._read_body(receive)
        status, headers, payload = await self.handle(scope, body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    async def _read_body(receive) -> bytes:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def handle(self, scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        started_ms, started = int(time.time() * 1000), time.perf_counter()
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
        secrets = self.traffic.known_secrets()
        request = Request(method=method, url=origin + target, path=path, headers=Headers(headers),
                          body=scrub(body, secrets))
        try:
            answer = await asyncio.to_thread(self.upstream.send, method, target, headers, body)
        except UpstreamError as failure:
            exchange = Exchange(request, None, TransportError(failure.kind, str(failure)),
                                int((time.perf_counter() - started) * 1000))
            self._finish(exchange, started_ms, content)
            return _bad_gateway(f"the upstream server gave no answer ({failure.kind}): {failure}")
        status, out_headers, out_body, recorded = self._relay(answer, origin)
        if not content and 200 <= answer.status < 300:
            # Learned before the client has the answer: its next request may be to one of these URLs.
            self.monitor.learn_urls(recorded)
        exchange = Exchange(request, Response(status, Headers(answer.headers), scrub(recorded, secrets)),
                            None, int((time.perf_counter() - started) * 1000))
        if self.strict:
            verdict = await asyncio.to_thread(self.traffic.check_now, exchange, started_ms)
            replaced = strict_answer(verdict)
            if replaced is not None:
                self.traffic.record(exchange, started_ms, content=content,
                                    extra={"strict": {"status": replaced[0], "side": replaced[3]}})
                return replaced[:3]
            self.traffic.record(exchange, started_ms, content=content)
        else:
            self._finish(exchange, started_ms, content)
        return status, out_headers, out_body

    def _finish(self, exchange: Exchange, started_ms: int, content: bool) -> None:
        self.traffic.record(exchange, started_ms, content=content)
        if self.strict:
            self.traffic.check_now(exchange, started_ms)
        else:
            self.traffic.submit(exchange, started_ms)

    def _relay(self, answer: Answer, origin: str) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes]:
        """(status, headers, body) for the client, and the body as recorded (decoded, URLs rewritten)."""
        encoding = next((v for k, v in answer.headers if k.lower() == "content-encoding"), None)
        plain = decoded(answer.body, encoding)
        if plain is None:  # an encoding we cannot read: pass it on untouched, record it as it came
            return answer.status, _raw_headers(answer.headers), answer.body, answer.body
        rewritten = self.rewriter.rewrite(plain, origin)
        if rewritten is plain:
            return answer.status, _raw_headers(answer.headers), answer.body, plain
        kept = [(k, v) for k, v in answer.headers if k.lower() != "content-encoding"]
        return answer.status, _raw_headers(kept, len(rewritten)), rewritten, rewritten


def _raw_headers(headers: list[tuple[str, str]], length: int | None = None) -> list[tuple[bytes, bytes]]:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers
           if k.lower() not in HOP_BY_HOP and (length is None or k.lower() != "content-length")]
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    return raw
