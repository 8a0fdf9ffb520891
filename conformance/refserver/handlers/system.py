"""/system/whoami, /system/greet, /system/headers."""

from __future__ import annotations

from ..context import Context
from ..errors import InvalidInput
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
