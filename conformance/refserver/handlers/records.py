"""Records: /record/new (with initializeFrom and close) and /record-xxxx/close.

Records close at once (open -> closed, no `closing`). initializeFrom copies every metadata field of another
record (name, tags, types, hidden, properties, details) except those the input gives (docs "Records").
"""

from __future__ import annotations

from typing import Any

from .. import objects, validate
from ..context import Context
from ..db import loads
from ..errors import InvalidInput
from . import route


def _initial_values(ctx: Context, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise InvalidInput('expected key "initializeFrom" of input to be a hash {"id", "project"}')
    source = validate.entity_id(validate.field(spec, "id", str, required=True), "initializeFrom.id", {"record"})
    hint = objects.project_hint(spec, required=True)
    row, _ = objects.locate(ctx, source, hint, "VIEW")
    return {"name": row["name"], "tags": loads(row["tags"]), "types": loads(row["types"]),
            "hidden": bool(row["hidden"]), "properties": loads(row["properties"]),
            "details": loads(row["details"])}


@route("/record/new", accepts_nonce=True)
def record_new(ctx: Context, inp: dict) -> dict[str, str]:
    close_now = validate.field(inp, "close", bool, default=False)
    if "details" in inp:
        validate.details_within_limits(inp["details"])
    defaults = _initial_values(ctx, inp["initializeFrom"]) if "initializeFrom" in inp else None
    record_id = objects.create_object(ctx, "record", inp, defaults)
    if close_now:
        _close(ctx, record_id)
    return {"id": record_id}


def _close(ctx: Context, record_id: str) -> None:
    ctx.conn.execute("UPDATE objects SET state = 'closed', modified = ? WHERE id = ? AND state = 'open'",
                     (ctx.now, record_id))


@route("/record-xxxx/close")
def close(ctx: Context, inp: dict) -> dict[str, str]:
    objects.locate(ctx, ctx.subject, None, "UPLOAD")
    _close(ctx, ctx.subject)  # closing a closed record has no effect and succeeds
    return {"id": ctx.subject}
