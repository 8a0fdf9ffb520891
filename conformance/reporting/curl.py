"""A curl command that replays a recorded exchange, with the token as a shell variable, never its value."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

# Headers curl sets by itself, or that only describe this one transfer.
_LEFT_OUT = frozenset({"content-length", "host", "connection", "accept-encoding", "user-agent"})
TOKEN_VARIABLE = "DX_TOKEN"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def curl_command(request: Mapping[str, Any], token_variable: str = TOKEN_VARIABLE) -> str:
    """`request` is an Exchange's request record (method, url, headers already redacted, body text).

    The Authorization header becomes "Authorization: Bearer $DX_TOKEN" in double quotes, so the shell fills
    in the token from the environment and the command itself never holds it.
    """
    parts = ["curl", "-sS", "-i", "-X", shlex.quote(str(request.get("method", "POST"))),
             shlex.quote(str(request.get("url", "")))]
    for name, value in (request.get("headers") or {}).items():
        if name.lower() in _LEFT_OUT:
            continue
        if name.lower() == "authorization":
            scheme = str(value).partition(" ")[0]
            scheme = scheme if _SCHEME.match(scheme) and " " in str(value) else "Bearer"
            parts += ["-H", f'"{name}: {scheme} ${token_variable}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.get("body")
    if body:
        parts += ["--data-binary", shlex.quote(str(body))]
    return " ".join(parts)
