"""The request guard: what a web page in the user's browser must not get from a local server.

An ASGI wrapper around the application. Before the application sees a request it checks:

- Host: the listening address, or (when that is a loopback address) another loopback name of it, with the same
  port. A page on evil.test whose name an attacker re-resolves to 127.0.0.1 (DNS rebinding) sends
  `Host: evil.test`, and is refused.
- Origin: absent (dxpy, `dx`, curl and the suite send none) or one of `Settings.cors_origins`. Any other origin
  is refused, preflight or not, so a page cannot even make the server act on a "simple" request.
- Authorization: at most one header; with two, which one counts would be the server's guess.

A refusal is the API's error envelope: PermissionDenied for Host and Origin, InvalidAuthentication for a second
Authorization header.
"""

from __future__ import annotations

import ipaddress
import re

from . import errors
from .app import RefServerApp, error_response

# Host: a bracketed IPv6 literal or a name (or IPv4 literal), then an optional port (RFC 9110 section 7.2).
HOST_HEADER = re.compile(r"^(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?$")
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
HTTP_DEFAULT_PORT = 80


def ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def host_and_port(value: str) -> tuple[str, int] | None:
    """(name, port) of a Host header value, the name lower-case and unbracketed; None if it is not one."""
    m = HOST_HEADER.match(value.strip().lower())
    if m is None:
        return None
    port = int(m["port"]) if m["port"] else HTTP_DEFAULT_PORT
    return (m["ipv6"] or m["name"]), port


class HostPolicy:
    """Which Host header values name a server listening on `host`:`port`."""

    def __init__(self, host: str, port: int):
        self.port = port
        self.listening = host.strip("[]").lower()
        address = ip_literal(self.listening)
        # A wildcard address (0.0.0.0, ::) listens on every interface: any IP literal names it, and no
        # DNS name but localhost does, since a rebound name is always a name.
        self.wildcard = address is not None and address.is_unspecified
        loopback = self.listening == "localhost" or (address is not None and address.is_loopback)
        self.names = (LOOPBACK_NAMES | {self.listening}) if loopback else frozenset({self.listening})

    def allows(self, value: str) -> bool:
        parsed = host_and_port(value)
        if parsed is None or parsed[1] != self.port:
            return False
        name = parsed[0]
        return name in self.names or (self.wildcard and (name == "localhost" or ip_literal(name) is not None))

    def describe(self) -> str:
        shown = sorted(f"[{n}]" if ":" in n else n for n in self.names)
        names = "any IP address or localhost" if self.wildcard else " or ".join(shown)
        return f"{names}, port {self.port}"


class RequestGuard:
    """ASGI: refuses, with the API's error envelope, a request for another Host, from a web page of an origin
    not allowed, or with two Authorization headers; passes every other request (and non-HTTP scopes) on."""

    def __init__(self, app: RefServerApp, host: str, port: int):
        self.app = app
        self.hosts = HostPolicy(host, port)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope["headers"])
            if refusal is not None:
                response = error_response(refusal)
                await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
                await send({"type": "http.response.body", "body": response.body})
                return
        elif scope["type"] == "websocket" and self.refusal(scope["headers"]) is not None:
            # A web page may open a WebSocket to any host (no CORS for WebSockets): the same Origin and Host
            # rules as for HTTP, the handshake refused (403) before anything is read.
            await receive()
            await send({"type": "websocket.close", "code": 4401})
            return
        await self.app(scope, receive, send)

    def own_origin(self, origin: str) -> bool:
        """An Origin naming this server itself (http://127.0.0.1:PORT): no page comes from this server, so only
        a client such as websocket-client (dx watch), which sends the URL it connects to, says that."""
        scheme, sep, rest = origin.partition("://")
        return bool(sep) and scheme in ("http", "ws") and "/" not in rest and self.hosts.allows(rest)

    def refusal(self, raw_headers: list[tuple[bytes, bytes]]) -> errors.DXError | None:
        """The error to answer instead of passing the request on, or None."""
        values: dict[str, list[str]] = {}
        for name, value in raw_headers:
            values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        hosts = values.get("host", [])
        if len(hosts) > 1 or (hosts and not self.hosts.allows(hosts[0])):
            return errors.PermissionDenied(
                f"Host {', '.join(hosts)!r} does not name this server ({self.hosts.describe()}); requests for "
                f"another name are refused, as a web page would send them after re-pointing its name here")
        origins = values.get("origin", [])
        allowed = self.app.settings.cors_origins
        if len(origins) > 1 or (origins and origins[0] not in allowed and not self.own_origin(origins[0])):
            return errors.PermissionDenied(
                f"Requests from web pages of origin {', '.join(origins)!r} are refused; allowed origins: "
                f"{', '.join(allowed) or 'none'} (dxconform serve --cors ORIGIN allows one)")
        authorizations = values.get("authorization", [])
        if len(authorizations) > 1:
            return errors.InvalidAuthentication(
                f"Send one Authorization header, not {len(authorizations)}: which token counts would be a guess")
        return None
