"""Request-side (client) checks, run by the proxy only: POST to a documented route, a JSON body with the right
Content-Type, its input."""

from __future__ import annotations

from ..model import NOT_JSON, Area, Exchange, Level, format_path
from ..spec.routes import route_key_of_path
from ._registry import CLIENT_SIDE, CheckContext, check
from .failures import CheckFailure, NotApplicable

PROTOCOLS_DOC = "https://documentation.dnanexus.com/developer/api/protocols"
# Methods whose input is documented as any JSON: setDetails takes the new details themselves (object or array).
NON_MAPPING_INPUT_METHODS = frozenset({"setDetails"})
# One bad list can produce thousands of errors; the first few say enough.
MAX_ERRORS = 20


class NotPost(CheckFailure):
    title = "API call is not a POST"


class NoRouteForm(CheckFailure):
    title = "Path is not /<subject>/<method> of a documented route"


class WrongRequestContentType(CheckFailure):
    title = "Request Content-Type is neither absent nor application/json"


class RequestNotJSON(CheckFailure):
    title = "Request body is not JSON"


class RequestNotAMapping(CheckFailure):
    title = "Request body is not a JSON object"


class InputSchemaViolation(CheckFailure):
    title = "Request body does not match the method's input schema"


def _is_api_call(exchange: Exchange) -> bool:
    # The body rules are about API calls; a GET or an OPTIONS preflight is request_post's business.
    return exchange.request.method.upper() == "POST"


def _method_of(path: str) -> str:
    return path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@check(name="request_post", level=Level.MUST, area=Area.URL_FORMS, side=CLIENT_SIDE,
       source=f"{PROTOCOLS_DOC} (every API method is an HTTP POST; OPTIONS only as a CORS preflight)",
       title="Every API call is an HTTP POST")
def request_post(ctx: CheckContext, exchange: Exchange):
    method = exchange.request.method.upper()
    if method == "OPTIONS":
        return NotApplicable("CORS preflight")
    if method != "POST":
        raise NotPost(f"the client sent {method} {exchange.request.path}", expected="POST", actual=method)


@check(name="request_route", level=Level.MUST, area=Area.URL_FORMS, side=CLIENT_SIDE,
       source=f"{PROTOCOLS_DOC} (URLs are /<system|class|entity ID>/<method>); the route table in schemas/routes.json",
       title="The path is /<subject>/<method> and names a documented route")
def request_route(ctx: CheckContext, exchange: Exchange):
    path = exchange.request.path
    if route_key_of_path(path) is None:
        raise NoRouteForm(f"{path!r} has no /<subject>/<method> form", expected="/<subject>/<method>",
                          actual=path)
    if ctx.spec is not None and ctx.route_for(exchange) is None:
        # Well formed but not in the table: an undocumented or test-only method (e.g. /system/comeBackLater).
        raise NoRouteForm(f"{path!r} is not a documented route", expected="a route of the route table",
                          actual=path, level=Level.SHOULD)


@check(name="request_content_type", level=Level.MUST, area=Area.JSON_INPUT, side=CLIENT_SIDE,
       source=f"{PROTOCOLS_DOC} (Content-Type absent or application/json; other values get MalformedJSON)",
       title="The request's Content-Type is absent or application/json")
def request_content_type(ctx: CheckContext, exchange: Exchange):
    if not _is_api_call(exchange):
        return NotApplicable("not a POST")
    content_type = exchange.request.headers.get("content-type")
    if content_type is None:
        return None
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise WrongRequestContentType(f"Content-Type is {content_type!r}", expected="absent or application/json",
                                      actual=content_type)


@check(name="request_json", level=Level.MUST, area=Area.JSON_INPUT, side=CLIENT_SIDE,
       source=f"{PROTOCOLS_DOC} (the body is parsed as JSON even for methods without input: send {{}})",
       title="The request body is valid JSON (an empty body is not)")
def request_json(ctx: CheckContext, exchange: Exchange):
    if not _is_api_call(exchange):
        return NotApplicable("not a POST")
    body = exchange.request.body
    if exchange.request.json is NOT_JSON:
        text = body[:200].decode("utf-8", errors="replace")
        message = "the body is empty (send {} for no input)" if not body.strip() else (
            f"the body is not valid UTF-8 JSON: {text!r}")
        raise RequestNotJSON(message, expected="JSON", actual=text)


@check(name="request_mapping", level=Level.MUST, area=Area.JSON_INPUT, side=CLIENT_SIDE,
       source="method pages, Errors: InvalidInput when 'the input is not a hash' (setDetails takes any JSON)",
       title="The request body is a JSON object (except for methods documented to take any JSON)")
def request_mapping(ctx: CheckContext, exchange: Exchange):
    body = exchange.request.json
    if not _is_api_call(exchange) or body is NOT_JSON:
        return NotApplicable("no JSON body")
    if _method_of(exchange.request.path) in NON_MAPPING_INPUT_METHODS:
        return NotApplicable("this method takes any JSON")
    if not isinstance(body, dict):
        raise RequestNotAMapping(f"the body is a JSON {type(body).__name__}, expected an object", path="$",
                                 expected="object", actual=type(body).__name__)


@check(name="input_schema", level=Level.MUST, area=Area.JSON_INPUT, side=CLIENT_SIDE,
       source="the method's page in https://documentation.dnanexus.com/developer/api, as written in schemas/methods "
              "(unknown input keys are allowed: servers ignore them)",
       title="The request body matches the method's input schema")
def input_schema(ctx: CheckContext, exchange: Exchange):
    body = exchange.request.json
    if not _is_api_call(exchange) or body is NOT_JSON:
        return NotApplicable("no JSON body")
    if not isinstance(body, dict) and _method_of(exchange.request.path) not in NON_MAPPING_INPUT_METHODS:
        return NotApplicable("not a mapping (request_mapping's finding)")
    route = ctx.route_for(exchange)
    validator = ctx.spec.validator(route, "input") if ctx.spec is not None and route else None
    if validator is None:
        return NotApplicable("no input schema for this route")
    if validator.is_valid(body):
        return None
    errors = validator.errors(body)[:MAX_ERRORS] or [("$", "invalid (the validator gave no detail)")]
    return [InputSchemaViolation(f"{route}: {message}", path=_path_text(path)) for path, message in errors]


def _path_text(path) -> str:
    return (path or "$") if isinstance(path, str) else format_path(path)
