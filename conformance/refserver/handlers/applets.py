"""Applets: /applet/new, /applet-xxxx/get, /applet-xxxx/validateBatch and /applet-xxxx/run.

An applet is a data object (rows in objects and copies, class applet) created closed, with what makes it
executable in the applets table. describe, tags, properties, rename, getDetails and listProjects are the
shared data-object methods (dataobjects.py); applets have no close, types, setDetails or setVisibility routes
(digest 2.1: dxpy maps those to a stub). Sources: EXECUTABLES-DIGEST 2.1-2.5 and 3.
"""

from __future__ import annotations

from typing import Any

from .. import access, executions, iospec, objects, validate
from ..context import Context
from ..db import dumps
from ..errors import InvalidInput
from . import route

INTERPRETERS = ("bash", "python3")
# Keys of /applet/new kept with the applet (the rest of the input is data-object metadata or ignored).
SPEC_KEYS = ("dxapi", "runSpec", "inputSpec", "outputSpec", "access", "title", "summary", "description",
             "developerNotes", "ignoreReuse", "httpsApp", "treeTurnaroundTimeThreshold")
ACCESS_LEVELS = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
# runSpec keys besides interpreter and code, by JSON type (schemas/types/executables.json runSpecFields).
RUN_SPEC_STRINGS = ("distribution", "release", "version", "restartableEntryPoints")


def _is_link(value: Any) -> bool:
    """{"$dnanexus_link": ID | {id, project?} | {job | analysis, field}}, by shape (common.json dnanexusLink)."""
    if not (isinstance(value, dict) and set(value) == {"$dnanexus_link"}):
        return False
    target = value["$dnanexus_link"]
    if isinstance(target, str):
        return True
    if not isinstance(target, dict):
        return False
    if "id" in target:
        return isinstance(target["id"], str) and isinstance(target.get("project", ""), str)
    return isinstance(target.get("job", target.get("analysis")), str) and isinstance(target.get("field"), str)


def _depends(value: Any, key: str, bundled: bool) -> None:
    """execDepends ({name, version?, package_manager?, stages?}) or bundledDepends ({name, id: link, stages?})."""
    validate.expect(isinstance(value, list), key, "an array")
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        validate.expect(isinstance(item, dict), where, "a hash")
        validate.expect(isinstance(item.get("name"), str) and item["name"] != "", f"{where}.name", "a non-empty string")
        if "stages" in item:
            validate.strings(item["stages"], f"{where}.stages")
        if bundled:
            validate.expect(_is_link(item.get("id")), f"{where}.id", 'a link ({"$dnanexus_link": ...})')
        for name in () if bundled else ("version", "package_manager"):
            if name in item:
                validate.expect(isinstance(item[name], str), f"{where}.{name}", "a string")


def _execution_policy(value: Any, key: str) -> None:
    validate.expect(isinstance(value, dict), key, "a hash")
    if "restartOn" in value:
        validate.expect(isinstance(value["restartOn"], dict) and all(map(lambda v: validate.is_of(v, int), value["restartOn"].values())),
                f"{key}.restartOn", "a hash of integers")
    if "maxRestarts" in value:
        validate.expect(validate.is_of(value["maxRestarts"], int), f"{key}.maxRestarts", "an integer")


def _run_spec(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput('expected key "runSpec" of input to be a hash')
    interpreter = value.get("interpreter")
    if interpreter not in INTERPRETERS:
        raise InvalidInput('expected key "runSpec.interpreter" of input to be one of '
                           + ", ".join(INTERPRETERS) + " (the interpreters this server runs)")
    if not isinstance(value.get("code"), str):
        raise InvalidInput('expected key "runSpec.code" of input to be a string (the source of the applet)')
    for key in RUN_SPEC_STRINGS:
        if key in value:
            validate.expect(isinstance(value[key], str), f"runSpec.{key}", "a string")
    if "headJobOnDemand" in value:
        validate.expect(isinstance(value["headJobOnDemand"], bool), "runSpec.headJobOnDemand", "a boolean")
    for key, bundled in (("execDepends", False), ("bundledDepends", True)):
        if key in value:
            _depends(value[key], f"runSpec.{key}", bundled)
    if "systemRequirements" in value:
        executions.check_system_requirements(value["systemRequirements"], "runSpec.systemRequirements")
    if "executionPolicy" in value:
        _execution_policy(value["executionPolicy"], "runSpec.executionPolicy")
    policy = value.get("timeoutPolicy")
    if policy is not None:
        executions.timeout_seconds(policy, "main")  # raises InvalidInput when malformed
    return value


def _access(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput('expected key "access" of input to be a hash')
    for key in ("project", "allProjects"):
        if key in value and value[key] not in ACCESS_LEVELS:
            raise InvalidInput(f'expected key "access.{key}" of input to be one of {", ".join(ACCESS_LEVELS)}')
    if "network" in value and not (isinstance(value["network"], list)
                                   and all(isinstance(n, str) for n in value["network"])):
        raise InvalidInput('expected key "access.network" of input to be an array of strings')
    if "developer" in value and not isinstance(value["developer"], bool):
        raise InvalidInput('expected key "access.developer" of input to be a boolean')
    return value


@route("/applet/new", accepts_nonce=True)
def applet_new(ctx: Context, inp: dict) -> dict[str, str]:
    validate.field(inp, "dxapi", str, required=True)
    _run_spec(validate.field(inp, "runSpec", dict, required=True))
    for key in ("inputSpec", "outputSpec"):
        if key in inp:
            iospec.check_spec(inp[key], key)
    if "access" in inp:
        _access(inp["access"])
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
                     (applet_id, dumps({k: inp[k] for k in SPEC_KEYS if k in inp})))
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
    batch = validate.field(inp, "batchInput", dict, required=True)
    common = validate.field(inp, "commonInput", dict, default={})
    validate.field(inp, "files", list)
    validate.field(inp, "instanceTypes", list)
    objects.locate(ctx, ctx.subject, None, "VIEW")
    spec = objects.applet_spec(ctx, ctx.subject).get("inputSpec")
    lengths = set()
    for key, values in batch.items():
        if not isinstance(values, list):
            raise InvalidInput(f'expected key "batchInput.{key}" of input to be an array')
        lengths.add(len(values))
    if len(lengths) > 1:
        raise InvalidInput('expected every array of "batchInput" to have the same length')
    runs = []
    for i in range(next(iter(lengths), 0)):
        one = dict(common)
        one.update({key: values[i] for key, values in batch.items()})
        iospec.check_input(spec, one)
        runs.append(one)
    return {"expandedBatch": runs}


@route("/applet-xxxx/run", accepts_nonce=True)
def applet_run(ctx: Context, inp: dict) -> dict[str, str]:
    return {"id": executions.run_applet(ctx, ctx.subject, inp)}
