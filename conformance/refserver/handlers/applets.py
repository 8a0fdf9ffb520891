"""Applets: /applet/new, /applet-xxxx/get, /applet-xxxx/validateBatch and /applet-xxxx/run.

An applet is a data object (rows in objects and copies, class applet) created closed, with what makes it
executable in the applets table. describe, tags, properties, rename, getDetails and listProjects are the
shared data-object methods (dataobjects.py); applets have no close, types, setDetails or setVisibility routes
(digest 2.1: dxpy maps those to a stub). Sources: EXECUTABLES-DIGEST 2.1-2.5 and 3.
"""

from __future__ import annotations

from typing import Any

from .. import access, batch_inputs, executable_checks, executions, objects, validate
from ..context import Context
from ..db import dumps
from . import route


@route("/applet/new", accepts_nonce=True)
def applet_new(ctx: Context, inp: dict) -> dict[str, str]:
    validate.field(inp, "dxapi", str, required=True)
    executable_checks.check(inp, run_spec_required=True)
    for key in ("title", "summary", "description", "developerNotes"):
        validate.field(inp, key, str)
    validate.field(inp, "ignoreReuse", bool)
    validate.field(inp, "httpsApp", dict)
    validate.field(inp, "treeTurnaroundTimeThreshold", int)
    if "details" in inp:
        validate.details_within_limits(inp["details"])
    project = objects.project_hint(inp, required=True)
    access.container(ctx, project, "CONTRIBUTE")
    applet_id = objects.create_object(ctx, "applet", inp)
    ctx.conn.execute("UPDATE objects SET state = 'closed' WHERE id = ?", (applet_id,))
    ctx.conn.execute("INSERT INTO applets(id, spec) VALUES (?, ?)",
                     (applet_id, dumps({k: inp[k] for k in executable_checks.SPEC_KEYS if k in inp})))
    return {"id": applet_id}


@route("/applet-xxxx/get")
def applet_get(ctx: Context, inp: dict) -> dict[str, Any]:
    """The full applet: every describe field, properties and details, and runSpec with its code."""
    hint = objects.project_hint(inp)
    _, container_id = objects.locate(ctx, ctx.subject, hint, "VIEW")
    out = objects.describe_object(ctx, ctx.subject, container_id,
                                  {"fields": {k: True for k in objects.EXTRA_FIELDS["applet"]}, "defaultFields": True})
    out["runSpec"] = objects.applet_spec(ctx, ctx.subject).get("runSpec", {})
    return out


@route("/applet-xxxx/validateBatch")
def validate_batch(ctx: Context, inp: dict) -> dict[str, list[dict[str, Any]]]:
    """One input hash per batch row (commonInput merged in), each checked against the inputSpec: what
    `dx run --batch-tsv` runs (dxpy utils/batch_utils.py sends batchInput, commonInput, files, instanceTypes).
    The answer is {"expandedBatch": [...]}, a form dxpy reads, so that every answer of the API is a JSON object."""
    objects.locate(ctx, ctx.subject, None, "VIEW")
    return batch_inputs.expand(objects.applet_spec(ctx, ctx.subject).get("inputSpec"), inp)


@route("/applet-xxxx/run", accepts_nonce=True)
def applet_run(ctx: Context, inp: dict) -> dict[str, str]:
    return {"id": executions.run_applet(ctx, ctx.subject, inp)}
