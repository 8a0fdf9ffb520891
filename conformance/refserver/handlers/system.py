"""/system/whoami, /system/greet, /system/headers, and the test-only /system/comeBackLater."""

from __future__ import annotations

import math

from ..context import Context
from ..errors import InvalidInput, ServiceUnavailable
from ..validate import field
from . import route


@route("/system/whoami")
def whoami(ctx: Context, inp: dict) -> dict:
    fields = field(inp, "fields", dict, default={})
    if not all(isinstance(v, bool) for v in fields.values()):
        raise InvalidInput('expected the values of key "fields" of input to be booleans')
    out = {"id": ctx.user}
    if fields.get("clientIp"):
        out["clientIp"] = ctx.client_ip
    return out


@route("/system/greet", needs_auth=False)
def greet(ctx: Context, inp: dict) -> dict:
    field(inp, "client", str)
    field(inp, "version", str)
    return {"messages": []}


@route("/system/headers")
def headers(ctx: Context, inp: dict) -> dict:
    # Echo of the request headers with lower-case names; the token is never echoed back.
    return {k: ("Bearer ***" if k == "authorization" else v) for k, v in ctx.headers.items()}


@route("/system/comeBackLater")
def come_back_later(ctx: Context, inp: dict) -> dict:
    """The platform's test-only route for clients' retry logic (not in the public route table): until
    `waitUntil` (ms) it answers 503 ServiceUnavailable with `Retry-After` in whole seconds, rounded up (none
    with `setRetryAfter: false`), then 200 with the server's clock. dx-toolkit test_dxpy.py TestHTTPResponses
    (test_retry_after, test_retry_after_without_header_set), the C++ and Java bindings' retry tests."""
    wait_until = field(inp, "waitUntil", int)
    set_retry_after = field(inp, "setRetryAfter", bool, default=True)
    if wait_until is not None and ctx.now < wait_until:
        headers = {"Retry-After": str(math.ceil((wait_until - ctx.now) / 1000))} if set_retry_after else {}
        raise ServiceUnavailable(f"Come back later: this call succeeds from {wait_until} on", headers=headers)
    return {"currentTime": ctx.now}
