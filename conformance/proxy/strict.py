"""Strict mode: the error envelope a client gets instead of an exchange that broke a MUST rule."""

from __future__ import annotations

import json

from ..checks import CLIENT_SIDE, SERVER_SIDE
from ..model import Finding
from .monitor import Verdict

# The documented error type (and its status) that fits each client rule; a server's fault is InternalError.
CLIENT_ERRORS = {"request_post": ("MethodNotAllowed", 405), "request_route": ("ResourceNotFound", 404),
                 "request_content_type": ("MalformedJSON", 400), "request_json": ("MalformedJSON", 400),
                 "request_mapping": ("InvalidInput", 422), "input_schema": ("InvalidInput", 422)}
SERVER_ERROR = ("InternalError", 500)
SIDE_HEADER = "x-dxconform-violation"
MAX_LISTED = 3


def _listed(findings: list[Finding]) -> str:
    shown = "; ".join(f"{f.check}: {f.message}" for f in findings[:MAX_LISTED])
    return shown + (f" (+{len(findings) - MAX_LISTED} more)" if len(findings) > MAX_LISTED else "")


def strict_answer(verdict: Verdict) -> tuple[int, list[tuple[bytes, bytes]], bytes, str] | None:
    """(status, headers, body, side) of the envelope replacing the answer, or None if no MUST rule broke.
    The client's fault wins: a broken request explains whatever the server made of it."""
    client, server = verdict.violations(CLIENT_SIDE), verdict.violations(SERVER_SIDE)
    if client:
        side, (error_type, status) = CLIENT_SIDE, CLIENT_ERRORS.get(client[0].check, ("InvalidInput", 422))
        message = f"dxconform proxy (strict): the request broke {len(client)} rule(s): {_listed(client)}"
    elif server:
        side, (error_type, status) = SERVER_SIDE, SERVER_ERROR
        message = f"dxconform proxy (strict): the server's answer broke {len(server)} rule(s): {_listed(server)}"
    else:
        return None
    body = json.dumps({"error": {"type": error_type, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
               (b"content-length", str(len(body)).encode()), (SIDE_HEADER.encode(), side.encode())]
    return status, headers, body, side
