"""Commands that replay one recorded request: curl (curl.py) and a dxpy snippet. The token comes from an
environment variable the caller names ($DX_TOKEN_ALICE for alice's step; $DX_TOKEN when the user is not known);
a whole case is replayed by its reproduction script (reproduction.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..model import BODY_RECORD_LIMIT
from .curl import TOKEN_VARIABLE, curl_command

__all__ = ["curl_command", "dxpy_snippet"]

# Headers dxpy sets by itself (or that describe one transfer); the others are passed on as recorded.
_DXPY_SETS = frozenset({"authorization", "content-length", "host", "connection", "accept-encoding", "user-agent"})


def _body_argument(body: str, headers: Mapping[str, str]) -> tuple[str, dict[str, str], list[str]]:
    """(data argument, headers to pass, extra keyword arguments) that send exactly `body`.

    A body that is JSON written the way json.dumps writes it goes as a Python value (readable); any other
    body (malformed JSON, odd spacing, duplicate keys, a fraction dxpy would reformat) goes as its exact text.
    """
    extra_headers = {k: v for k, v in headers.items() if k.lower() not in _DXPY_SETS}
    try:
        value = json.loads(body)
        exact = json.dumps(value) == body
    except (ValueError, RecursionError):   # not JSON, or nested too deeply to read back: sent as its text
        value, exact = None, False
    if exact:
        content_type = next((v for k, v in extra_headers.items() if k.lower() == "content-type"), "")
        if content_type == "application/json":   # dxpy sends this header itself with a JSON body
            extra_headers = {k: v for k, v in extra_headers.items() if k.lower() != "content-type"}
        return repr(value), extra_headers, []
    return repr(body), extra_headers, ["jsonify_data=False"]


def _authorization(headers: Mapping[str, str], token: str) -> tuple[str | None, str | None]:
    """(security-context line, Authorization header expression): how the request authenticated.

    A Bearer token goes through dxpy's security context; another scheme (or a bare value) is sent as a
    header of its own; no header at all means auth=None. The token is always read from the environment.
    """
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if value is None:
        return None, None
    scheme, _, rest = str(value).partition(" ")
    if rest and scheme.lower() == "bearer":
        return f'dxpy.set_security_context({{"auth_token_type": "Bearer", "auth_token": {token}}})', None
    return None, (f'"{scheme} " + {token}' if rest else token)


def dxpy_snippet(request: Mapping[str, Any], token_variable: str = TOKEN_VARIABLE) -> str:
    """Python that sends the recorded request again with dxpy and prints the answer or the API error."""
    parts = urlsplit(str(request.get("url", "")))
    resource = parts.path + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    body = str(request.get("body") or "")
    headers = dict(request.get("headers") or {})
    data, extra_headers, options = _body_argument(body, headers)
    context, authorization = _authorization(headers, f'os.environ["{token_variable}"]')
    if context is None:
        options.append("auth=None")
    header_items = [f"{k!r}: {v!r}" for k, v in extra_headers.items()]
    if authorization:
        header_items.append(f'"Authorization": {authorization}')
    if header_items:
        options.append("headers={" + ", ".join(header_items) + "}")
    method = str(request.get("method", "POST")).upper()
    if method != "POST":
        options.append(f"method={method!r}")
    options.append("max_retries=0")   # show the first answer, as the suite saw it
    lines = ["import os", "", "import dxpy", "",
             f"dxpy.set_api_server_info(host={parts.hostname!r}, port={port}, protocol={parts.scheme!r})"]
    if context:
        lines.append(context)
    if len(body) > BODY_RECORD_LIMIT or body.endswith(" bytes in all]"):
        lines.append("# the recorded body was cut short: this sends only what results.json kept")
    lines += ["try:",
              f"    print(dxpy.DXHTTPRequest({resource!r}, {data}, {', '.join(options)}))",
              "except dxpy.exceptions.DXAPIError as error:",
              "    print(error.code, error.name, error.msg)"]
    return "\n".join(lines)
