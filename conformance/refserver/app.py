"""The ASGI application: the API protocol (POST, JSON, auth, envelope) around the route table."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import re
import secrets
import traceback
from typing import Any

from . import errors, faults
from .context import Context, Settings
from .db import Database, dumps, now_ms
from .handlers import CONTENT_ROUTES, RouteSpec, load_all
from .ids import HASH_CLASSES, id_class

log = logging.getLogger("dxconform.refserver")

# Subjects that take /<class>/new. Only the classes whose /new the server implements resolve.
NEW_CLASSES = HASH_CLASSES | {"org", "user"}
# A user ID in handle form, `user-<handle>`, as `dxconform serve --user NAME:TOKEN` names its users.
HANDLE_USER = re.compile(r"^user-[A-Za-z0-9._-]+$")
JSON_HEADERS = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff")]


def _reject_constant(name: str):
    # Python's json accepts NaN and Infinity; RFC 4627/8259 JSON does not.
    raise ValueError(f"{name} is not a JSON value")


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]):
        self.status, self.body, self.headers = status, body, headers


def json_response(status: int, payload: Any, extra: dict[str, str] | None = None) -> Response:
    headers = list(JSON_HEADERS)
    headers.append((b"x-request-id", f"{now_ms()}-{secrets.randbelow(10**6):06d}".encode()))
    for k, v in (extra or {}).items():
        headers.append((k.lower().encode("latin-1"), str(v).encode("latin-1")))
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers)


def error_response(exc: errors.DXError) -> Response:
    extra = dict(exc.headers)
    if exc.status == 405:
        extra.setdefault("Allow", "POST")
    return json_response(exc.status, exc.envelope(), extra)


class RefServerApp:
    """ASGI callable. Handlers are synchronous and run on the event loop, one at a time."""

    def __init__(self, db: Database | None = None, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.db = db or Database()
        self.faults = faults.select(self.settings.faults)
        self.routes = self._with_faults(dict(load_all()))
        self._ensure_users()

    def _with_faults(self, routes: dict[str, RouteSpec]) -> dict[str, RouteSpec]:
        for f in self.faults:
            for r in f.routes:
                if r not in routes:
                    continue
                if f.wrap is not None:
                    routes[r] = dataclasses.replace(routes[r], handler=f.wrap(routes[r].handler))
                if f.drop_nonce:
                    routes[r] = dataclasses.replace(routes[r], accepts_nonce=False)
        return routes

    def _ensure_users(self) -> None:
        with self.db.transaction() as conn:
            for name, token in self.settings.users.items():
                conn.execute(
                    "INSERT INTO users(id, token) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET token = excluded.token",
                    (f"user-{name}", token),
                )

    # -- ASGI -------------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = await self._read_body(receive)
        server_host, server_port = scope.get("server") or ("127.0.0.1", 0)
        host = headers.get("host") or f"{server_host}:{server_port}"
        base_url = f"{scope.get('scheme', 'http')}://{host}"
        client_ip = (scope.get("client") or ("", 0))[0]
        for f in self.faults:
            if f.stall and scope["path"].endswith(f.stall[0]):
                await asyncio.sleep(f.stall[1])
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        if body is None:
            response = error_response(errors.InvalidInput("request body too large"))
        else:
            response = self.handle(scope["method"], scope["path"], headers, body, base_url, client_ip)
        await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _read_body(self, receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    # -- protocol ---------------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str,
               client_ip: str = "") -> Response:
        for f in self.faults:
            if f.request is not None:
                method, path, headers, body = f.request(method, path, headers, body)
        response = self._handle(method, path, headers, body, base_url, client_ip)
        if not path.startswith("/_dx/"):
            for f in self.faults:
                if f.response is not None:
                    response.status, response.headers, response.body = f.response(
                        response.status, response.headers, response.body)
        return response

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str,
                client_ip: str) -> Response:
        try:
            if path.startswith("/_dx/"):
                return self._content(method, path, headers, body, base_url)
            if method == "OPTIONS":
                return self._preflight(headers)
            if method != "POST":
                raise errors.MethodNotAllowed(f"{method} is not allowed; every API method is a POST")
            spec, subject = self._resolve(path)
            user = self._authenticate(headers) if spec.needs_auth else self._optional_user(headers)
            payload = self._parse_body(headers, body)
            if spec.input_mapping and not isinstance(payload, dict):
                raise errors.InvalidInput("The input is not a hash (JSON object)")
            ctx = Context(self.db, self.settings, spec.route, user, subject, now_ms(), headers, base_url,
                          client_ip)
            response = json_response(200, self._call(spec, ctx, payload))
        except errors.DXError as exc:
            response = error_response(exc)
        except Exception:  # a bug of ours: still an envelope, never an HTML page
            log.error("internal error on %s %s\n%s", method, path, traceback.format_exc())
            response = error_response(errors.InternalError("internal error in the reference server"))
        origin = headers.get("origin")
        if origin and method == "POST":
            response.headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
        return response

    def _resolve(self, path: str) -> tuple[RouteSpec, str | None]:
        parts = path.split("/")
        if len(parts) != 3 or parts[0] or not parts[1] or not parts[2]:
            raise errors.ResourceNotFound(f"No API method at {path!r}")
        subject, method = parts[1], parts[2]
        instance = None
        if subject == "system" or subject in NEW_CLASSES:
            route = f"/{subject}/{method}"
        elif (cls := id_class(subject)) is not None:
            route, instance = f"/{cls}-xxxx/{method}", subject
        elif HANDLE_USER.match(subject):
            # Users are named by handle, not hash: user-alice (API-DIGEST "Handle-style IDs").
            route, instance = f"/user-xxxx/{method}", subject
        else:
            raise errors.ResourceNotFound(f"The entity {subject!r} could not be found")
        spec = self.routes.get(route)
        if spec is None:
            raise errors.ResourceNotFound(f"No API method {route} on this server")
        return spec, instance

    def _token_user(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        row = self.db.conn.execute("SELECT id FROM users WHERE token = ?", (token.strip(),)).fetchone()
        return row["id"] if row else None

    def _authenticate(self, headers: dict[str, str]) -> str:
        if "authorization" not in headers:
            raise errors.InvalidAuthentication("Authentication is required: send Authorization: Bearer <token>")
        user = self._token_user(headers)
        if user is None:
            raise errors.InvalidAuthentication("The token could not be found")
        return user

    def _optional_user(self, headers: dict[str, str]) -> str | None:
        return self._token_user(headers)

    @staticmethod
    def _parse_body(headers: dict[str, str], body: bytes) -> Any:
        content_type = headers.get("content-type")
        if content_type is not None and content_type.split(";")[0].strip().lower() != "application/json":
            raise errors.MalformedJSON(f"Content-Type must be absent or application/json, not {content_type!r}")
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.MalformedJSON(f"The request body is not valid JSON: {exc}") from None

    def _call(self, spec: RouteSpec, ctx: Context, payload: Any) -> Any:
        with self.db.transaction():
            self.db.settle_closing(ctx.now)
            if spec.accepts_nonce and isinstance(payload, dict) and "nonce" in payload:
                return self._with_nonce(spec, ctx, payload)
            return spec.handler(ctx, payload)

    def _with_nonce(self, spec: RouteSpec, ctx: Context, payload: dict) -> Any:
        nonce = payload["nonce"]
        if not isinstance(nonce, str) or not nonce:
            raise errors.InvalidInput('expected key "nonce" of input to be a non-empty string')
        if len(nonce.encode("utf-8")) > 128:
            raise errors.InvalidInput('expected key "nonce" of input to be at most 128 bytes')
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        row = ctx.conn.execute(
            "SELECT input_sha256, response FROM nonces WHERE user_id = ? AND route = ? AND nonce = ?",
            (ctx.user, spec.route, nonce),
        ).fetchone()
        if row is not None:
            if row["input_sha256"] != digest:
                raise errors.InvalidInput("Nonce was reused for an earlier API request that had a different input")
            return json.loads(row["response"])
        result = spec.handler(ctx, payload)
        ctx.conn.execute(
            "INSERT INTO nonces(user_id, route, nonce, input_sha256, response, created) VALUES (?,?,?,?,?,?)",
            (ctx.user, spec.route, nonce, digest, dumps(result), ctx.now),
        )
        return result

    @staticmethod
    def _preflight(headers: dict[str, str]) -> Response:
        if headers.get("access-control-request-method", "").upper() != "POST":
            raise errors.MethodNotAllowed("CORS preflight is accepted only for POST")
        extra = {"Access-Control-Allow-Methods": "POST"}
        if "origin" in headers:
            extra["Access-Control-Allow-Origin"] = headers["origin"]
        if "access-control-request-headers" in headers:
            extra["Access-Control-Allow-Headers"] = headers["access-control-request-headers"]
        return json_response(200, {}, extra)

    def _content(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str) -> Response:
        segment, _, rest = path[len("/_dx/"):].partition("/")
        fn = CONTENT_ROUTES.get((method, segment))
        if fn is None:
            raise errors.ResourceNotFound(f"No content at {path!r}")
        ctx = Context(self.db, self.settings, f"/_dx/{segment}", None, None, now_ms(), headers, base_url)
        with self.db.transaction():
            self.db.settle_closing(ctx.now)
            status, extra, payload = fn(ctx, rest, body)
        return Response(status, payload, [(k.lower().encode("latin-1"), str(v).encode("latin-1"))
                                          for k, v in extra.items()])
