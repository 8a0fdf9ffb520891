"""The output-schema check: a successful answer validates against its method's output schema in schemas/."""

from __future__ import annotations

from ..model import Area, Exchange, Level, format_path
from ._registry import CheckContext, check, requires_json, requires_success
from .failures import NotApplicable, OutputSchemaViolation

# One bad list can produce thousands of errors; the first few say enough.
MAX_ERRORS = 20


@check(name="output_schema", level=Level.MUST, area=Area.JSON_OUTPUT,
       source="the method's page in https://documentation.dnanexus.com/developer/api, as written in schemas/methods",
       title="A successful answer matches the method's output schema (strict-alphabet IDs included)")
@requires_success
@requires_json
def output_schema(ctx: CheckContext, exchange: Exchange):
    route = ctx.route_for(exchange)
    validator = ctx.spec.validator(route, "output") if ctx.spec is not None and route else None
    if validator is None:
        return NotApplicable("no output schema for this route")
    body = exchange.response.json
    if validator.is_valid(body):
        return None
    errors = list(validator.errors(body))[:MAX_ERRORS] or [("$", "invalid (the validator gave no detail)")]
    return [OutputSchemaViolation(f"{route}: {message}", path=_path_text(path))
            for path, message in errors]


def _path_text(path) -> str:
    if isinstance(path, str):
        return path or "$"
    return format_path(path)
