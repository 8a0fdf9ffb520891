"""Data-type checks on successful answers: strict ints, plausible ms timestamps, strict-alphabet entity IDs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..model import Area, Exchange, Level, RawFloat, format_path
from ._registry import CheckContext, check, requires_json, requires_success
from ._schemawalk import dx_typed_positions, output_schema_node
from .failures import FractionalInteger, ImplausibleTimestamp, LooseEntityId, NotApplicable

DATA_TYPES_DOC = "https://documentation.dnanexus.com/developer/api (Data Types: int, timestamp)"
# 2000-01-01T00:00:00Z in ms: anything earlier is seconds, or garbage, for an API launched in the 2010s.
EARLIEST_TIMESTAMP_MS = 946_684_800_000
ONE_YEAR_MS = 366 * 24 * 3600 * 1000
# Used when a route has no output schema: fields that are timestamps on every DNAnexus entity.
WELL_KNOWN_TIMESTAMP_KEYS = frozenset({"created", "modified"})
# Subtrees that hold client data (a client may store any string there), never server-generated IDs.
CLIENT_DATA_KEYS = frozenset({"details", "properties", "name", "tags", "types", "title", "summary",
                              "description"})
ENTITY_ID = re.compile(r"^[a-z]+-[0-9A-Za-z]{24}$")
STRICT_ENTITY_ID = re.compile(r"^[a-z]+-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$")


def _schema_positions(ctx: CheckContext, exchange: Exchange, instance: Any):
    route = ctx.route_for(exchange)
    node = output_schema_node(ctx.spec, route) if route else None
    if node is None:
        return None
    return dx_typed_positions(node, instance)


@check(name="strict_int", level=Level.MUST, area=Area.DATA_TYPES, source=DATA_TYPES_DOC,
       title="int and timestamp fields are JSON integers written without a fraction or exponent")
@requires_success
@requires_json
def strict_int(ctx: CheckContext, exchange: Exchange):
    if not exchange.response.has_fractional_numbers:
        # Fast path: no number in the body has a fraction, so none can violate the rule; with no number at
        # all there was nothing to test.
        return None if _has_number(exchange.response.json) else NotApplicable("no number in the answer")
    positions = _schema_positions(ctx, exchange, exchange.response.json_with_raw_numbers())
    if positions is None:
        return NotApplicable("no output schema for this route")
    failures, seen = [], set()
    for path, value, dx_type in positions:
        if isinstance(value, RawFloat) and path not in seen:
            seen.add(path)
            failures.append(FractionalInteger(f"{dx_type} field written as {value.raw}", path=format_path(path),
                                              expected=f"JSON integer ({dx_type})", actual=value.raw))
    return failures


def _has_number(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_has_number(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_number(item) for item in node)
    return isinstance(node, int | float) and not isinstance(node, bool)


def _timestamp_positions(ctx: CheckContext, exchange: Exchange) -> Iterator[tuple[tuple, Any]]:
    body = exchange.response.json
    positions = _schema_positions(ctx, exchange, body)
    if positions is not None:
        yield from ((path, value) for path, value, dx_type in positions if dx_type == "timestamp")
    else:
        yield from _well_known_timestamps(body, ())


def _well_known_timestamps(node: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CLIENT_DATA_KEYS:
                continue
            if key in WELL_KNOWN_TIMESTAMP_KEYS and not isinstance(value, dict | list):
                yield path + (key,), value
            else:
                yield from _well_known_timestamps(value, path + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _well_known_timestamps(item, path + (index,))


@check(name="timestamp_plausible", level=Level.MUST, area=Area.DATA_TYPES,
       source="https://documentation.dnanexus.com/developer/api/protocols (timestamps: ms since the epoch)",
       title="Timestamps are milliseconds since the epoch: after 2000-01-01 and before now + 1 year")
@requires_success
@requires_json
def timestamp_plausible(ctx: CheckContext, exchange: Exchange):
    latest = ctx.now() + ONE_YEAR_MS
    failures, seen = [], set()
    for path, value in _timestamp_positions(ctx, exchange):
        if path in seen or isinstance(value, bool) or not isinstance(value, int | float):
            continue  # a non-number is the output schema's finding, not this one's
        seen.add(path)
        if value < EARLIEST_TIMESTAMP_MS:
            hint = " (seconds instead of milliseconds?)" if value > EARLIEST_TIMESTAMP_MS / 1000 else ""
            failures.append(ImplausibleTimestamp(f"timestamp {value} is before 2000-01-01{hint}",
                                                 path=format_path(path), expected=f">= {EARLIEST_TIMESTAMP_MS}",
                                                 actual=value))
        elif value > latest:
            failures.append(ImplausibleTimestamp(f"timestamp {value} is more than a year in the future",
                                                 path=format_path(path), expected=f"<= {latest}", actual=value))
    return failures if seen else NotApplicable("no timestamp in the answer")


def _id_strings(node: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in CLIENT_DATA_KEYS:
                yield from _id_strings(value, path + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _id_strings(item, path + (index,))
    elif isinstance(node, str) and ENTITY_ID.match(node):
        yield path, node


@check(name="strict_id_alphabet", level=Level.SHOULD, area=Area.DATA_TYPES,
       source="https://documentation.dnanexus.com/developer/api/entity-ids (alphabet 0-9BFGJKPQVXYZbfgjkpqvxyz); "
              "every recorded real ID uses it",
       title="Entity IDs in answers use the strict 32-character alphabet")
@requires_success
@requires_json
def strict_id_alphabet(ctx: CheckContext, exchange: Exchange):
    route = ctx.route_for(exchange) or exchange.request.path
    if route.endswith("/getDetails") or route == "/system/headers":
        return NotApplicable("the answer is client data")
    # A loose ID the client itself sent (an echo) is the client's, not one the server generated.
    sent = exchange.request.body.decode("utf-8", errors="replace")
    ids = list(_id_strings(exchange.response.json, ()))
    if not ids:
        return NotApplicable("no entity ID in the answer")
    return [LooseEntityId(f"{value!r} uses letters outside 0-9BFGJKPQVXYZbfgjkpqvxyz", path=format_path(path),
                          expected=STRICT_ENTITY_ID.pattern, actual=value)
            for path, value in ids if not STRICT_ENTITY_ID.match(value) and value not in sent]
