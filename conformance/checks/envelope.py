"""Error-answer checks: the error envelope, a documented error type, and the status that type must carry."""

from __future__ import annotations

from typing import Any

from ..model import Area, Exchange, Level
from ._registry import CheckContext, check, requires_error_status, requires_json
from .failures import ErrorStatusMismatch, MalformedErrorEnvelope, NotApplicable, UndocumentedErrorType

ENVELOPE_SOURCE = ("dxpy DXHTTPRequest non-2xx branch (error.type, error.message required); "
                   "https://documentation.dnanexus.com/developer/api/protocols")


def error_of(exchange: Exchange) -> dict[str, Any] | None:
    """The `error` mapping of an answer, or None if the body has none."""
    body = exchange.response.json if exchange.response is not None else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return None


@check(name="error_envelope", level=Level.MUST, area=Area.JSON_OUTPUT, source=ENVELOPE_SOURCE,
       title='Error answers are {"error": {"type": string, "message": string, "details"?: any}}')
@requires_error_status
@requires_json
def error_envelope(ctx: CheckContext, exchange: Exchange):
    body = exchange.response.json
    if not isinstance(body, dict) or "error" not in body:
        raise MalformedErrorEnvelope("the error answer has no top-level `error` key", path="$",
                                     expected={"error": {"type": "...", "message": "..."}}, actual=body)
    error = body["error"]
    if not isinstance(error, dict):
        raise MalformedErrorEnvelope("`error` is not a mapping", path="$.error", expected="object",
                                     actual=error)
    for key in ("type", "message"):
        if not isinstance(error.get(key), str) or (key == "type" and not error[key]):
            raise MalformedErrorEnvelope(f"`error.{key}` is missing or not a {'non-empty ' * (key == 'type')}string",
                                         path=f"$.error.{key}", expected="string", actual=error.get(key))


def _table(ctx: CheckContext) -> dict[str, dict[str, Any]] | None:
    return getattr(ctx.spec, "error_types", None) if ctx.spec is not None else None


@check(name="documented_error_type", level=Level.MUST, area=Area.JSON_OUTPUT,
       source="dxpy maps error.type to its exception classes; dxfuse dx_errors.go (copy of the server's table)",
       title="The error type is one of the documented DNAnexus error types")
@requires_error_status
@requires_json
def documented_error_type(ctx: CheckContext, exchange: Exchange):
    table, error = _table(ctx), error_of(exchange)
    if table is None or error is None or not isinstance(error.get("type"), str):
        return NotApplicable("no error table or no error type")
    if error["type"] not in table:
        raise UndocumentedErrorType(f"error type {error['type']!r} is not documented", path="$.error.type",
                                    expected=sorted(table), actual=error["type"])


@check(name="error_status", level=Level.MUST, area=Area.JSON_OUTPUT,
       source="error-type table: schemas/types/errors.json x-error-types (level and source per type)",
       title="The HTTP status matches the error type's documented status")
@requires_error_status
@requires_json
def error_status(ctx: CheckContext, exchange: Exchange):
    table, error = _table(ctx), error_of(exchange)
    entry = table.get(error.get("type")) if table is not None and error is not None else None
    if not entry or entry.get("status") is None:
        return NotApplicable("no documented status for this error type")
    if exchange.response.status != entry["status"]:
        # The table says how sure we are of each status (PermissionDenied=401 rests on one source: SHOULD).
        raise ErrorStatusMismatch(
            f"{error['type']} came with HTTP {exchange.response.status}, documented {entry['status']}"
            + (f" ({entry['source']})" if entry.get("source") else ""),
            path="$.error.type", expected=entry["status"], actual=exchange.response.status,
            level=Level(entry.get("level") or "MUST"))
