"""The HTTP/1.1 connection protocol: uvicorn's httptools protocol with a header timeout and a connection cap.

uvicorn times out idle keep-alive connections but not a client that opens a connection and sends nothing, or
drips its headers a byte at a time; such a client would hold its connection forever. Here every request's
headers must be complete within `header_seconds` of the connection opening (or of the request's first byte,
on a kept-alive connection), or the connection is closed. A connection beyond `max_connections` is closed
at once (uvicorn's own limit_concurrency answers 503 only once headers are complete).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_seconds: float = 10.0
    max_connections: int = 100

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.logger.warning("connection refused: more than %d connections open", self.max_connections)
            transport.close()
            return
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.cycle is not None:  # a later request on a kept-alive connection: its own header deadline
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def protocol_class(header_seconds: float, max_connections: int) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with these limits, for uvicorn.Config(http=...)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,),
                {"header_seconds": header_seconds, "max_connections": max_connections})
