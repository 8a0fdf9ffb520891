"""Protocol checks on the HTTP layer of an answer: content type, JSON syntax, top-level mapping, headers, 5xx."""

from __future__ import annotations

import re

from ..model import NOT_JSON, Area, Exchange, Level
from ._registry import (
    CheckContext,
    check,
    requires_complete_body,
    requires_json,
    requires_response,
    requires_success,
)
from .failures import (
    MissingNosniff,
    MissingRetryAfter,
    NotAMapping,
    NotApplicable,
    NotJSONContentType,
    ServerError,
    UnparseableJSON,
)

PROTOCOLS_DOC = "https://documentation.dnanexus.com/developer/api/protocols"
DXPY_REQUEST = "dxpy DXHTTPRequest (decodes JSON only when Content-Type starts with application/json)"
# Methods whose documented answer is not a mapping: getDetails returns the details themselves (object or array).
NON_MAPPING_METHODS = frozenset({"getDetails"})


def _method_of(ctx: CheckContext, exchange: Exchange) -> str:
    route = ctx.route_for(exchange) or exchange.request.path
    return route.rstrip("/").rsplit("/", 1)[-1]


@check(name="json_content_type", level=Level.MUST, area=Area.JSON_OUTPUT, source=f"{PROTOCOLS_DOC}; {DXPY_REQUEST}",
       title="Every API answer has Content-Type application/json")
@requires_response
def json_content_type(ctx: CheckContext, exchange: Exchange):
    if exchange.request.method.upper() == "OPTIONS":
        return NotApplicable("CORS preflight")
    content_type = exchange.response.content_type
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise NotJSONContentType(f"Content-Type is {content_type!r}, expected application/json",
                                 expected="application/json", actual=content_type or None)


@check(name="json_parses", level=Level.MUST, area=Area.JSON_OUTPUT, source=PROTOCOLS_DOC,
       title="Every API answer body is valid JSON")
@requires_complete_body
def json_parses(ctx: CheckContext, exchange: Exchange):
    if exchange.request.method.upper() == "OPTIONS":
        return NotApplicable("CORS preflight")
    if exchange.response.json is NOT_JSON:
        raise UnparseableJSON(f"the body is not valid UTF-8 JSON: {exchange.response.text[:200]!r}",
                              actual=exchange.response.text[:200])


@check(name="top_level_mapping", level=Level.MUST, area=Area.JSON_OUTPUT,
       source="https://documentation.dnanexus.com/developer/api (every method answers a mapping; getDetails excepted)",
       title="A successful answer is a JSON object (except documented exceptions such as getDetails)")
@requires_success
@requires_json
def top_level_mapping(ctx: CheckContext, exchange: Exchange):
    if _method_of(ctx, exchange) in NON_MAPPING_METHODS:
        return NotApplicable("this method's answer is documented as any JSON")
    body = exchange.response.json
    if not isinstance(body, dict):
        raise NotAMapping(f"the answer is a JSON {type(body).__name__}, expected an object", path="$",
                          expected="object", actual=type(body).__name__)


@check(name="nosniff", level=Level.SHOULD, area=Area.JSON_OUTPUT,
       source="dx-toolkit test_dxpy.py test_content_type_no_sniff",
       title="Answers carry X-Content-Type-Options: nosniff")
@requires_response
def nosniff(ctx: CheckContext, exchange: Exchange):
    value = exchange.response.headers.get("x-content-type-options")
    if (value or "").strip().lower() != "nosniff":
        raise MissingNosniff(f"X-Content-Type-Options is {value!r}", expected="nosniff", actual=value)


_DELAY_SECONDS = re.compile(r"^\s*\d+\s*$")


@check(name="retry_after", level=Level.SHOULD, area=Area.SEMANTICS,
       source="dxpy DXHTTPRequest and the Java DXHTTPRequest honour Retry-After (integer seconds) on 503 and 429",
       title="503 and 429 answers carry Retry-After in integer seconds")
@requires_response
def retry_after(ctx: CheckContext, exchange: Exchange):
    if exchange.response.status not in (429, 503):
        return NotApplicable("not 429/503")
    value = exchange.response.headers.get("retry-after")
    if value is None or not _DELAY_SECONDS.match(value):
        # dxpy parses only the integer form; an HTTP-date falls back to its own backoff.
        raise MissingRetryAfter(f"Retry-After is {value!r} on a {exchange.response.status} answer",
                                expected="integer seconds", actual=value)


@check(name="no_server_error", level=Level.MUST, area=Area.SEMANTICS,
       source="dxpy retries every 5xx as a transient failure: a 5xx for a deterministic input is a server bug",
       title="No 5xx answer (other than 503 ServiceUnavailable) on valid input")
@requires_response
def no_server_error(ctx: CheckContext, exchange: Exchange):
    status = exchange.response.status
    if status < 500:
        return None
    if status == 503:
        return NotApplicable("503 is the documented ServiceUnavailable (checked by retry_after)")
    level = Level.SHOULD if ctx.valid_input is False else None
    raise ServerError(f"the server answered {status}: {exchange.response.text[:200]!r}",
                      expected="< 500", actual=status, level=level)
