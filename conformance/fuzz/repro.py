"""Reproduction snippets of a finding: curl commands and a dxpy script, never carrying the token."""

from __future__ import annotations

import json
import shlex

from ..model import NOT_JSON, Exchange

TOKEN_VARIABLE = "DX_API_TOKEN"


def curl_commands(exchanges: list[Exchange | None]) -> str:
    """One curl command per request sent; the token is read from $DX_API_TOKEN."""
    lines = []
    for exchange in exchanges:
        if exchange is None:
            continue
        request = exchange.request
        lines.append(" ".join([
            "curl", "-sS", "-X", request.method, shlex.quote(request.url),
            "-H", f'"Authorization: Bearer ${TOKEN_VARIABLE}"',
            "-H", shlex.quote("Content-Type: application/json"),
            "--data-binary", shlex.quote(request.body.decode("utf-8", errors="surrogateescape")),
        ]))
    return "\n".join(lines)


def dxpy_snippet(exchanges: list[Exchange | None]) -> str:
    """A Python script calling each route with dxpy.DXHTTPRequest (dxpy configured for the server)."""
    lines = ["import dxpy  # DX_APISERVER_HOST/PORT/PROTOCOL and DX_SECURITY_CONTEXT name the server and token",
             ""]
    for exchange in exchanges:
        if exchange is None:
            continue
        request = exchange.request
        data = request.json
        if data is NOT_JSON:
            text = request.body.decode("utf-8", errors="surrogateescape")
            lines.append(f"dxpy.DXHTTPRequest({request.path!r}, {text!r}, jsonify_data=False)")
        else:
            lines.append(f"dxpy.DXHTTPRequest({request.path!r}, {_python_literal(data)})")
    return "\n".join(lines)


def _python_literal(value) -> str:
    """JSON as a Python literal (true/false/null become True/False/None)."""
    return repr(json.loads(json.dumps(value)))
