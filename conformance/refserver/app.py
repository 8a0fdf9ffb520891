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

from . import budget, errors, faults, json_input, log_stream
from .context import Context, Settings
from .db import Database, dumps, now_ms
from .handlers import CONTENT_ROUTES, RouteSpec, load_all
from .ids import HASH_CLASSES, id_class
from .job_service import JobService, Steps
from .limits import ServerLimits
from .worker import HandlerThread

log = logging.getLogger("dxconform.refserver")

# Subjects that take /<class>/new. Only the classes whose /new the server implements resolve.
NEW_CLASSES = HASH_CLASSES | {"org", "user"}
# A user ID in handle form, `user-<handle>`, as `dxconform serve --user NAME:TOKEN` names its users.
HANDLE_USER = re.compile(r"^user-[A-Za-z0-9._-]+$")
# Apps and global workflows are also addressed by name, with an optional version or alias segment:
# /app-<name>/<method>, /app-<name>/<version-or-alias>/<method> (EXECUTABLES-DIGEST 1, notes; dxpy api.py:197-205).
NAMED_EXECUTABLE = re.compile(r"^(app|globalworkflow)-[a-zA-Z0-9._-]+$")
ALIAS_SEGMENT = re.compile(r"^[a-zA-Z0-9._+-]+$")
# The platform's content types (real traffic): successful answers name the charset, error answers do not.
SUCCESS_CONTENT_TYPE = b"application/json; charset=utf-8"
ERROR_CONTENT_TYPE = b"application/json"
# The public token dxpy sends when no token is configured, and the principal it stands for (the member of a
# project made public by inviting "PUBLIC"); only routes registered with public_token=True take it.
PUBLIC_TOKEN = PUBLIC_PRINCIPAL = "PUBLIC"
# What a web page of an allowed origin may send with an API call (the answer to a CORS preflight).
CORS_ALLOWED_HEADERS = "Authorization, Content-Type"


# The body did not arrive within the body timeouts (limits.ServerLimits); not a platform error type.
RequestTimeout = type("RequestTimeout", (errors.DXError,), {"type": "RequestTimeout", "status": 408})
# Bodies larger than this are parsed on a pool thread before their turn on the handler thread; smaller ones
# parse in microseconds, less than the hop to another thread costs.
PARSE_ASIDE_BYTES = 64 * 1024
# Answers after which the connection must close: the rest of the body was never read.
CLOSE = {"Connection": "close"}


class _ClientGone(Exception):
    """The client disconnected before its body was complete: nothing to answer."""


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]):
        self.status, self.body, self.headers = status, body, headers


def json_response(status: int, payload: Any, extra: dict[str, str] | None = None) -> Response:
    try:
        body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    except (ValueError, RecursionError):  # never invalid JSON on the wire: NaN, infinity, too deep
        log.error("unserializable answer\n%s", traceback.format_exc())
        body = json.dumps(errors.InternalError("the answer could not be written as JSON").envelope()).encode()
        status = 500
    content_type = SUCCESS_CONTENT_TYPE if 200 <= status < 300 else ERROR_CONTENT_TYPE
    headers = [(b"content-type", content_type), (b"x-content-type-options", b"nosniff"),
               (b"x-request-id", request_id())]
    for k, v in (extra or {}).items():
        headers.append((k.lower().encode("latin-1"), str(v).encode("latin-1")))
    return Response(status, body, headers)


def request_id() -> bytes:
    """`<ms>-<n>`, the platform's X-Request-ID form (real traffic: 1540593398732-364726)."""
    return f"{now_ms()}-{secrets.randbelow(10**6)}".encode()


def with_content_length(response: Response) -> list[tuple[bytes, bytes]]:
    """The answer's headers with a Content-Length of its body unless it has one (the platform sends one with
    every successful answer); computed last, after any fault rewrote the body."""
    if any(name == b"content-length" for name, _ in response.headers):
        return response.headers
    return [*response.headers, (b"content-length", str(len(response.body)).encode())]


def error_response(exc: errors.DXError) -> Response:
    extra = dict(exc.headers)
    if exc.status == 405:
        extra.setdefault("Allow", "POST")
    return json_response(exc.status, exc.envelope(), extra)


class RefServerApp:
    """ASGI callable. Handlers are synchronous and run one at a time on one handler thread (worker.py), each
    within the time budget of `limits`; the event loop only reads bodies and writes answers."""

    def __init__(self, db: Database | None = None, settings: Settings | None = None,
                 limits: ServerLimits | None = None):
        self._closed = False
        self.settings = settings or Settings()
        self.limits = limits or ServerLimits()
        self.db = db or Database()
        self.faults = faults.select(self.settings.faults)
        self.routes = self._with_faults(dict(load_all()))
        self._ensure_users()
        self.budget = budget.Budget()
        self.db.interrupt_when(self.budget.expired)
        self.handlers = HandlerThread(self.budget)
        self.jobs = JobService(self.db, self.settings, self.handlers, self._job_steps())
        # Faults that rewrite requests must see the raw body, so the body is then parsed on the handler thread.
        self._parse_early = not any(f.request is not None for f in self.faults)
        # Bytes of the bodies being received now (limits.body_bytes_in_flight); touched on the event loop only.
        self._body_bytes = 0

    def close(self) -> None:
        """Kill every job process, stop the handler thread (ending the running request's budget), close the
        store."""
        if self._closed:
            return
        self._closed = True
        self.jobs.stop()
        self.handlers.stop()
        self.db.close()

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

    def _job_steps(self) -> Steps:
        """The job service's steps on the store, wrapped by the faults that change them (registry.py `steps`)."""
        steps = Steps()
        for f in self.faults:
            if f.steps is not None:
                steps = f.steps(steps)
        return steps

    def _ensure_users(self) -> None:
        self.db.replace_users({f"user-{name}": token for name, token in self.settings.users.items()})

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
        if scope["type"] == "websocket":  # dx watch: a job's log (log_stream.py)
            await log_stream.serve(self, scope, receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        held = [0]  # this request's share of self._body_bytes, given back once it is answered
        try:
            await self._serve(scope, receive, send, headers, held)
        finally:
            self._body_bytes -= held[0]

    async def _serve(self, scope, receive, send, headers: dict[str, str], held: list[int]) -> None:
        try:
            body = await self._read_body(receive, held)
        except _ClientGone:
            return
        except errors.DXError as exc:
            response = error_response(exc)
            await send({"type": "http.response.start", "status": response.status,
                        "headers": with_content_length(response)})
            await send({"type": "http.response.body", "body": response.body})
            return
        # The URLs handed out name the address the request arrived on, never the request's Host header.
        server_host, server_port = scope.get("server") or ("127.0.0.1", 0)
        host = f"[{server_host}]" if ":" in server_host else server_host
        base_url = f"{scope.get('scheme', 'http')}://{host}:{server_port}"
        client_ip = (scope.get("client") or ("", 0))[0]
        for f in self.faults:
            if f.stall and scope["path"].endswith(f.stall[0]):
                await asyncio.sleep(f.stall[1])
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        response = await self._respond(scope["method"], scope["path"], headers, body, base_url, client_ip)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": with_content_length(response)})
        await send({"type": "http.response.body", "body": response.body})

    async def _read_body(self, receive, held: list[int]) -> bytes:
        """The whole body, within the size limit, the body timeouts and the bytes all bodies may hold at once
        (DXError, with Connection: close); `held[0]` counts its bytes in self._body_bytes."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.limits.body_seconds
        chunks, size = [], 0
        while True:
            wait = min(self.limits.body_idle_seconds, give_up - loop.time())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:
                raise RequestTimeout(
                    f"the request body did not arrive in time (limits: {self.limits.body_seconds:g} s in all, "
                    f"pauses up to {self.limits.body_idle_seconds:g} s)", headers=CLOSE) from None
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if self._body_bytes + len(chunk) > self.limits.body_bytes_in_flight:
                raise errors.ServiceUnavailable(
                    "the server is receiving too many request bodies at once (limit: "
                    f"{self.limits.body_bytes_in_flight} bytes in all); retry later",
                    headers={**CLOSE, "Retry-After": "1"})
            self._body_bytes += len(chunk)
            held[0] += len(chunk)
            if size > self.settings.max_body_bytes:
                raise errors.InvalidInput(f"the request body is larger than the limit of "
                                          f"{self.settings.max_body_bytes} bytes", headers=CLOSE)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str,
                       client_ip: str) -> Response:
        """The answer, computed on the handler thread; a large API body is parsed beforehand on a pool thread,
        so neither the event loop nor the requests queued behind this one wait for its parse."""
        parsed = None
        if self._parse_early and len(body) > PARSE_ASIDE_BYTES and method == "POST" and not path.startswith("/_dx/"):
            parsed = await asyncio.to_thread(json_input.Parsed.of, body)
        return await self.handlers.call(self.handle, method, path, headers, body, base_url, client_ip, parsed)

    # -- protocol ---------------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str,
               client_ip: str = "", parsed: json_input.Parsed | None = None) -> Response:
        """One request, on the handler thread, within its time budget. `parsed`: the body already parsed."""
        for f in self.faults:
            if f.request is not None:
                method, path, headers, body = f.request(method, path, headers, body)
        with self.budget.running(self.limits.request_seconds):
            response = self._handle(method, path, headers, body, base_url, client_ip, parsed)
        if method == "POST" and not path.startswith("/_dx/"):
            try:
                self.jobs.after_request()
            except Exception:  # a bug of ours in the job machinery must not cost the answer
                log.error("job scheduling failed after %s\n%s", path, traceback.format_exc())
        if not path.startswith("/_dx/"):
            for f in self.faults:
                if f.response is not None:
                    response.status, response.headers, response.body = f.response(
                        response.status, response.headers, response.body)
        return response

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str,
                client_ip: str, parsed: json_input.Parsed | None = None) -> Response:
        try:
            if path.startswith("/_dx/"):
                return self._content(method, path, headers, body, base_url)
            if method == "OPTIONS":
                return self._preflight(headers)
            if method != "POST":
                raise errors.MethodNotAllowed(f"{method} is not allowed; every API method is a POST")
            spec, subject = self._resolve(path)
            if spec.public_token and self._is_public_token(headers):
                user, job = PUBLIC_PRINCIPAL, None
            else:
                user, job = self._authenticate(headers) if spec.needs_auth else self._token_user(headers)
            payload = self._parse_body(headers, body, parsed)
            if spec.input_mapping and not isinstance(payload, dict):
                raise errors.InvalidInput("The input is not a hash (JSON object)")
            ctx = Context(self.db, self.settings, spec.route, user, subject, now_ms(), headers, base_url,
                          client_ip, job=job, job_logs=self.jobs.root)
            response = json_response(200, self._call(spec, ctx, payload))
        except errors.DXError as exc:
            response = error_response(exc)
        except Exception:
            if self.budget.expired():  # SQLite interrupted by the budget, or a loop stopped by it
                response = error_response(self.budget.error())
            else:  # a bug of ours: still an envelope, never an HTML page
                log.error("internal error on %s %s\n%s", method, path, traceback.format_exc())
                response = error_response(errors.InternalError("internal error in the reference server"))
        origin = headers.get("origin")
        if origin in self.settings.cors_origins and method == "POST":
            response.headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
            response.headers.append((b"vary", b"Origin"))
        return response

    def _resolve(self, path: str) -> tuple[RouteSpec, str | None]:
        parts = path.split("/")
        if len(parts) == 4 and not parts[0] and all(parts[1:]) and NAMED_EXECUTABLE.match(parts[1]) \
                and ALIAS_SEGMENT.match(parts[2]):
            # /app-<name or ID>/<version or alias>/<method>: the subject is "app-<name>/<alias>"
            parts = ["", f"{parts[1]}/{parts[2]}", parts[3]]
            named = True
        else:
            named = False
        if len(parts) != 3 or parts[0] or not parts[1] or not parts[2]:
            raise errors.ResourceNotFound(f"No API method at {path!r}")
        subject, method = parts[1], parts[2]
        instance = None
        if named or (id_class(subject) is None and NAMED_EXECUTABLE.match(subject)):
            cls = subject.split("-", 1)[0]
            route, instance = f"/{cls}-xxxx/{method}", subject
        elif subject == "system" or subject in NEW_CLASSES:
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

    def _token_user(self, headers: dict[str, str]) -> tuple[str | None, str | None]:
        """(user, job) of the request's token: a user's token, or a running job's own (its user is the one who
        launched it); (None, None) when there is none or it is unknown."""
        auth = headers.get("authorization")
        if auth is None:
            return self._fault_user("missing"), None
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return self._fault_user("unknown"), None
        user = self.db.user_of_token(token)
        if user is not None:
            return user, None
        job = self.db.job_of_token(token)
        if job is not None:
            return job
        return self._fault_user("unknown"), None

    def _is_public_token(self, headers: dict[str, str]) -> bool:
        """`Authorization: Bearer PUBLIC` (dxpy's default security context), unless PUBLIC is a user's token."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        return scheme.lower() == "bearer" and token == PUBLIC_TOKEN and self.db.user_of_token(token) is None

    def _fault_user(self, token: str) -> str | None:
        """The user a fault takes a `missing` or `unknown` token for (faults/registry.py), else None."""
        return next((f.token_taken_as for f in self.faults if token in f.tokens_taken), None)

    def _authenticate(self, headers: dict[str, str]) -> tuple[str, str | None]:
        user, job = self._token_user(headers)
        if user is None and "authorization" not in headers:
            raise errors.InvalidAuthentication("Authentication is required: send Authorization: Bearer <token>")
        if user is None:
            raise errors.InvalidAuthentication("The token could not be found")
        return user, job

    @staticmethod
    def _parse_body(headers: dict[str, str], body: bytes, parsed: json_input.Parsed | None = None) -> Any:
        content_type = headers.get("content-type")
        if content_type is not None and content_type.split(";")[0].strip().lower() != "application/json":
            raise errors.MalformedJSON(f"Content-Type must be absent or application/json, not {content_type!r}")
        return parsed.value() if parsed is not None else json_input.parse(body)

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

    def _preflight(self, headers: dict[str, str]) -> Response:
        if headers.get("access-control-request-method", "").upper() != "POST":
            raise errors.MethodNotAllowed("CORS preflight is accepted only for POST")
        extra = {"Access-Control-Allow-Methods": "POST"}
        if headers.get("origin") in self.settings.cors_origins:
            # Only the request headers an API call needs, whatever the preflight asks for.
            extra.update({"Access-Control-Allow-Origin": headers["origin"], "Vary": "Origin",
                          "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS})
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
