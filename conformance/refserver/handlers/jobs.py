"""Jobs: /job/new (subjobs), /job-xxxx/describe, terminate, tags, properties, update, getLog, getIdentityToken;
the tags and properties of analyses too (the same rules: executions.edit_tags, set_properties).

The rules live in executions.py (EXECUTABLES-DIGEST 4); this module reads inputs and hands them over.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .. import executions, job_workdir, metadata, validate
from ..context import Context
from ..errors import InvalidInput, PermissionDenied
from . import route


@route("/job/new", accepts_nonce=True)
def job_new(ctx: Context, inp: dict) -> dict[str, str]:
    return {"id": executions.new_subjob(ctx, inp)}


@route("/job-xxxx/describe")
def describe(ctx: Context, inp: dict) -> dict[str, Any]:
    executions.describe_options(inp)
    row = executions.visible_job(ctx, ctx.subject)
    return executions.describe_job(ctx, row, inp)


@route("/job-xxxx/terminate")
def terminate(ctx: Context, inp: dict) -> dict[str, str]:
    executions.terminate(ctx, ctx.subject)
    return {"id": ctx.subject}


@route("/job-xxxx/addTags", "/analysis-xxxx/addTags")
def add_tags(ctx: Context, inp: dict) -> dict[str, str]:
    executions.edit_tags(ctx, ctx.subject, metadata.tags(validate.field(inp, "tags", list, required=True)), True)
    return {"id": ctx.subject}


@route("/job-xxxx/removeTags", "/analysis-xxxx/removeTags")
def remove_tags(ctx: Context, inp: dict) -> dict[str, str]:
    executions.edit_tags(ctx, ctx.subject, metadata.tags(validate.field(inp, "tags", list, required=True)), False)
    return {"id": ctx.subject}


@route("/job-xxxx/setProperties", "/analysis-xxxx/setProperties")
def set_properties(ctx: Context, inp: dict) -> dict[str, str]:
    changes = metadata.properties(validate.field(inp, "properties", dict, required=True), allow_null=True)
    executions.set_properties(ctx, ctx.subject, changes)
    return {"id": ctx.subject}


@route("/job-xxxx/update")
def update(ctx: Context, inp: dict) -> dict[str, str]:
    changes: dict[str, Any] = {}
    if "allowSSH" in inp:
        changes["allowSSH"] = validate.string_list(inp, "allowSSH")
    if "rank" in inp:
        changes["rank"] = validate.field(inp, "rank", int)
    executions.update(ctx, ctx.subject, changes)
    return {"id": ctx.subject}


@route("/job-xxxx/getLog")
def get_log(ctx: Context, inp: dict) -> dict[str, Any]:
    """The job's output lines so far (the platform streams them over a WebSocket: digest 1; this POST form is
    the reference server's own)."""
    limit = validate.field(inp, "limit", int, default=10_000)
    if not 1 <= limit <= 10_000:
        raise InvalidInput('expected key "limit" of input to be an integer from 1 to 10000')
    executions.visible_job(ctx, ctx.subject)
    if ctx.job_logs is None:
        return {"log": []}
    return {"log": job_workdir.read_log(ctx.job_logs / f"{ctx.subject}.log", ctx.subject, limit)}


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()


@route("/job-xxxx/getIdentityToken")
def get_identity_token(ctx: Context, inp: dict) -> dict[str, str]:
    """An unsigned JWT naming the job ({"Token": ...}, dx-jobutil-get-identity-token); only the job itself may
    ask. The platform signs it for an OIDC audience; this server has no key, so it is alg "none"."""
    audience = validate.field(inp, "audience", str, required=True)
    claims = validate.string_list(inp, "subject_claims") or []
    row = executions.visible_job(ctx, ctx.subject)
    if ctx.job != row["id"]:
        raise PermissionDenied("only the job itself (with its own token) may get its identity token")
    payload = {"iss": ctx.base_url, "aud": audience, "sub": f"job_id;{row['id']}", "iat": ctx.now // 1000,
               "exp": ctx.now // 1000 + 300, "job_id": row["id"], "launched_by": row["launched_by"],
               "project_id": row["project"], "subject_claims": claims}
    return {"Token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."}
