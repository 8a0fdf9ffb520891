"""Jobs on the store: creation by /applet-xxxx/run and /job/new, the state machine, describe, terminate.

No process here: job_service.py starts and watches the processes and calls `advance` and `process_ended`
on the handler thread. States and transitions: EXECUTABLES-DIGEST 4.3 (idle -> waiting_on_input -> runnable
-> running -> waiting_on_output -> done | failed; terminating -> terminated); JBORs 4.4; subjobs 4.5;
outputs 4.7; failures 4.8. What the digest leaves open is decided here and listed in docs/emulator.md.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import access, containers, iospec, metadata, objects, validate
from .context import Context, random_token
from .db import dumps, loads, token_sha256
from .errors import InvalidInput, InvalidState, PermissionDenied, ResourceNotFound
from .ids import DATA_OBJECT_CLASSES, id_class, new_id

TERMINAL = frozenset({"done", "failed", "terminated"})
WAITING = ("idle", "waiting_on_input")
LEVELS = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
# /applet-xxxx/run options echoed on the job (digest 3.1), with their types.
RUN_OPTIONS: dict[str, type] = {"priority": str, "delayWorkspaceDestruction": bool, "systemRequirements": dict,
                                "systemRequirementsByExecutable": dict, "debug": dict, "allowSSH": list,
                                "costLimit": float, "ignoreReuse": bool, "headJobOnDemand": bool,
                                "detach": bool, "rank": int, "detailedJobMetrics": bool,
                                "preserveJobOutputs": dict}
PRIORITIES = ("low", "normal", "high")
# Integer options of /applet-xxxx/run besides RUN_OPTIONS' (digest 3.1: spot wait times in seconds).
RUN_INTEGERS = ("maxTreeSpotWaitTime", "maxJobSpotWaitTime")
# Keys of one systemRequirements entry, by type (executables.json systemRequirements).
SYSTEM_REQUIREMENT_TYPES = {"instanceType": str, "instanceTypeSelector": dict, "clusterSpec": dict,
                            "fpgaDriver": str, "nvidiaDriver": str}
TIME_UNITS = {"days": 86400, "hours": 3600, "minutes": 60}


@dataclass
class Launch:
    """What job_service needs to start one job's process."""

    job_id: str
    token: str
    function: str
    interpreter: str
    code: str
    input: dict[str, Any]
    file_names: dict[str, str]           # file ID -> name, for the bash variables of file inputs
    workspace: str
    project: str
    api_url: str
    timeout_seconds: float | None


@dataclass
class ProcessEnd:
    """How a job's process ended, and what it left in its working directory (job_service reads the files)."""

    exit_code: int | None
    signal: int | None = None
    reason: str | None = None            # job_process: terminated, wall-limit, cpu-limit, server-gone, ...
    error: Any = None                    # job_error.json parsed, or None when absent
    error_unreadable: bool = False
    output: Any = None                   # job_output.json parsed, or None when absent
    output_problem: str | None = None    # why job_output.json could not be used
    extra: dict[str, Any] = field(default_factory=dict)


# -- small helpers ---------------------------------------------------------------------------------------
def timeout_seconds(policy: Any, function: str) -> float | None:
    """The wall time allowed by runSpec.timeoutPolicy for an entry point (its own, else "*"), or None."""
    if not isinstance(policy, dict):
        raise InvalidInput('expected key "runSpec.timeoutPolicy" of input to be a hash')
    for ep, limit in policy.items():
        if not isinstance(limit, dict) or not limit or any(
                k not in TIME_UNITS or not (isinstance(v, int) and not isinstance(v, bool)) or v < 0
                for k, v in limit.items()):
            raise InvalidInput(f'expected key "runSpec.timeoutPolicy.{ep}" of input to be a hash of days, '
                               "hours and minutes (non-negative integers)")
    chosen = policy.get(function, policy.get("*"))
    if chosen is None:
        return None
    return float(sum(TIME_UNITS[k] * v for k, v in chosen.items()))


def job_row(ctx: Context, job_id: str) -> sqlite3.Row:
    row = ctx.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise ResourceNotFound(f"The entity {job_id} could not be found")
    return row


def _same_tree(ctx: Context, row: sqlite3.Row) -> bool:
    if ctx.job is None:
        return False
    mine = ctx.conn.execute("SELECT origin_job, root_execution FROM jobs WHERE id = ?", (ctx.job,)).fetchone()
    return mine is not None and (mine["origin_job"] == row["origin_job"]
                                 or mine["root_execution"] == row["root_execution"])


def visibility_sql(ctx: Context) -> tuple[str, list[Any]]:
    """SQL over jobs j: the caller may see the job: a members row of ctx.member on the job's project or on its
    root execution's (a job run from inside a job runs in that job's workspace), or, for a job token, a job of
    the caller's own job tree. visible_job (one job) and the execution searches use it alike."""
    tree = None if ctx.job is None else ctx.conn.execute(
        "SELECT origin_job, root_execution FROM jobs WHERE id = ?", (ctx.job,)).fetchone()
    clause = ("(EXISTS (SELECT 1 FROM members m WHERE m.container_id = j.project AND m.member_id = ?) OR "
              "EXISTS (SELECT 1 FROM jobs r JOIN members m ON m.container_id = r.project "
              "WHERE r.id = j.root_execution AND m.member_id = ?) OR "
              "EXISTS (SELECT 1 FROM analyses r JOIN members m ON m.container_id = r.project "
              "WHERE r.id = j.root_execution AND m.member_id = ?))")
    if tree is None:
        return clause, [ctx.member] * 3
    return f"({clause} OR j.origin_job = ? OR j.root_execution = ?)", [ctx.member] * 3 + [*tree]


def visible_job(ctx: Context, job_id: str) -> sqlite3.Row:
    """The job, if the caller may see it (visibility_sql); else not found, its existence not revealed."""
    validate.entity_id(job_id, "job", {"job"})
    visible, params = visibility_sql(ctx)
    row = ctx.conn.execute(f"SELECT j.* FROM jobs j WHERE j.id = ? AND {visible}", (job_id, *params)).fetchone()
    if row is None:
        raise ResourceNotFound(f"The entity {job_id} could not be found")
    return row


def visible_execution(ctx: Context, execution_id: str) -> sqlite3.Row:
    """A job (visible_job) or an analysis the caller may see by the same rule; else not found."""
    if id_class(execution_id) != "analysis":
        return visible_job(ctx, execution_id)
    visible, params = visibility_sql(ctx)
    row = ctx.conn.execute(f"SELECT j.* FROM (SELECT *, NULL AS origin_job FROM analyses) j WHERE j.id = ? AND "
                           f"{visible}", (execution_id, *params)).fetchone()
    if row is None:
        raise ResourceNotFound(f"The entity {execution_id} could not be found")
    return row


def may_manage(ctx: Context, row: sqlite3.Row, need: str) -> None:
    """Terminate, tags, properties: the launching user, a job of the tree, or `need` on the project."""
    if ctx.user == row["launched_by"] and ctx.job is None:
        return
    if _same_tree(ctx, row):
        return
    if access.RANK[access.level_of(ctx, row["project"])] < access.RANK[need]:
        raise PermissionDenied(f"{need} permission required in {row['project']}, or to have launched "
                               f"{row['id']}, to perform this action")


def _execution_state(ctx: Context, execution_id: str) -> sqlite3.Row | None:
    """(state, output) of a job or analysis (a JBOR's source), or None."""
    table = "analyses" if id_class(execution_id) == "analysis" else "jobs"
    return ctx.conn.execute(f"SELECT state, output FROM {table} WHERE id = ?", (execution_id,)).fetchone()


def _outputs(ctx: Context):
    def output_of(execution_id: str) -> dict | None:
        row = _execution_state(ctx, execution_id)
        return loads(row["output"]) if row is not None and row["state"] == "done" else None
    return output_of


def partly_resolved(ctx: Context, value: Any) -> Any:
    """`value` with the JBORs whose job is done replaced by what they point at (describe's `input`, digest
    4.4: substituted once resolvable, even while the consumer still waits); the others stay as they are."""
    return iospec.resolve_jbors(value, _outputs(ctx), keep_unresolvable=True)


# -- creation --------------------------------------------------------------------------------------------
def depends_on_of(ctx: Context, inp: dict) -> list[str]:
    deps = validate.field(inp, "dependsOn", list, default=[])
    for i, dep in enumerate(deps):
        cls = id_class(dep)
        if not isinstance(dep, str) or cls is None or (cls != "job" and cls not in DATA_OBJECT_CLASSES):
            raise ResourceNotFound(f'The entity {dep!r} (dependsOn[{i}]) could not be found')
        if cls == "job":
            visible_job(ctx, dep)
        elif not objects.visible_containers(ctx, dep):
            raise ResourceNotFound(f"The entity {dep} (dependsOn[{i}]) could not be found")
    return list(deps)


def _check_references(ctx: Context, value: Any) -> None:
    """Every link in an input names an object the caller can see, every JBOR a job it can see."""
    for object_id, project in iospec.find_links(value):
        cls = id_class(object_id)
        if cls is None or cls not in DATA_OBJECT_CLASSES:
            raise InvalidInput(f"the link to {object_id!r} in the input does not name a data object")
        if project is not None:
            objects.locate(ctx, object_id, project, "VIEW")
        elif not objects.visible_containers(ctx, object_id):
            raise ResourceNotFound(f"The entity {object_id} (linked from the input) could not be found")
    for execution_id, _field, _index, _meta in iospec.find_jbors(value):
        visible_execution(ctx, execution_id)


def run_options(inp: dict) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, kind in RUN_OPTIONS.items():
        if key not in inp:
            continue
        value = inp[key]
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) if kind is float else \
            validate.is_of(value, kind)
        if not ok:
            raise InvalidInput(f'expected key "{key}" of input to be {validate.TYPE_NAMES.get(kind, "a number")}')
        options[key] = value
    if options.get("priority", "normal") not in PRIORITIES:
        raise InvalidInput('expected key "priority" of input to be one of low, normal, high')
    # What the types above leave unchecked inside the options (executables.json runInputCommon).
    if "systemRequirements" in options:
        check_system_requirements(options["systemRequirements"], "systemRequirements")
    for executable, requirements in options.get("systemRequirementsByExecutable", {}).items():
        check_system_requirements(requirements, f"systemRequirementsByExecutable.{executable}")
    if "debugOn" in options.get("debug", {}):
        validate.strings(options["debug"]["debugOn"], "debug.debugOn")
    if "allowSSH" in options:
        validate.strings(options["allowSSH"], "allowSSH")
    for key in RUN_INTEGERS:
        if key in inp:
            validate.expect(validate.is_of(inp[key], int), key, "an integer")
    validate.expect(options.get("costLimit", 0) >= 0, "costLimit", "a non-negative number")
    return options


def check_system_requirements(value: Any, key: str) -> None:
    """{entry point | "*": {instanceType?, instanceTypeSelector?, clusterSpec?, fpgaDriver?, nvidiaDriver?}}."""
    validate.expect(isinstance(value, dict), key, "a hash")
    for entry, requirements in value.items():
        validate.expect(isinstance(requirements, dict), f"{key}.{entry}", "a hash")
        for name, kind in SYSTEM_REQUIREMENT_TYPES.items():
            if name in requirements:
                validate.expect(isinstance(requirements[name], kind), f"{key}.{entry}.{name}",
                                "a string" if kind is str else "a hash")
        if "instanceType" in requirements:
            validate.expect(requirements["instanceType"] != "", f"{key}.{entry}.instanceType",
                            "a non-empty string")


def run_metadata(inp: dict) -> tuple[list[str], dict[str, str], Any]:
    tags = metadata.tags(inp["tags"]) if "tags" in inp else []
    props = metadata.properties(inp["properties"], allow_null=False) if "properties" in inp else {}
    details = metadata.details(validate.details_within_limits(inp["details"]))[0] if "details" in inp else {}
    return tags, props, details


def _calling_job(ctx: Context) -> sqlite3.Row | None:
    return job_row(ctx, ctx.job) if ctx.job is not None else None


def _grant(ctx: Context, job_id: str, container_id: str, level: str) -> None:
    if level not in LEVELS:  # NONE: no row
        return
    ctx.conn.execute("INSERT INTO members(container_id, member_id, level) VALUES (?, ?, ?) "
                     "ON CONFLICT(container_id, member_id) DO UPDATE SET level = excluded.level",
                     (container_id, job_id, level))


def _capped(level: str, cap: str) -> str:
    return level if access.RANK[level] <= access.RANK[cap] else cap


def executable_spec(ctx: Context, executable_id: str) -> dict[str, Any]:
    """What a job of `executable_id` runs (runSpec with its code, inputSpec, outputSpec, access, title ...):
    an applet's spec (applets table), or an app's (global_executables: the spec of the applet it was made
    from, frozen at /app/new)."""
    if id_class(executable_id) == "app":
        row = ctx.conn.execute("SELECT spec FROM global_executables WHERE id = ?", (executable_id,)).fetchone()
        return loads(row["spec"]) if row is not None else {}
    return objects.applet_spec(ctx, executable_id)


def run_applet(ctx: Context, applet_id: str, inp: dict) -> str:
    """/applet-xxxx/run: check the input against the applet, then create the (idle) master job."""
    applet, _ = objects.locate(ctx, applet_id, None, "VIEW")
    if applet["class"] != "applet":
        raise ResourceNotFound(f"The entity {applet_id} could not be found")
    return run_executable(ctx, applet_id, objects.applet_spec(ctx, applet_id), inp, default_name=applet["name"])


def run_executable(ctx: Context, executable_id: str, spec: dict[str, Any], inp: dict, *, default_name: str) -> str:
    """/applet-xxxx/run and /app-xxxx/run once the executable is found and may be run by the caller: check the
    input against its spec, then create the (idle) master job. The caller checked access to the executable."""
    given = validate.field(inp, "input", dict, required=True)
    caller = _calling_job(ctx)
    project = objects.project_hint(inp)
    if project is None:
        if caller is None:
            raise InvalidInput('expected input to have property "project" (the project to run in)')
        # From inside a job (dxpy sends no project there, digest 3.1): the job's workspace, where it may
        # write, so the new job's output lands where the calling job can use it (digest 9.9: unverified).
        project = caller["workspace"]
    access.container(ctx, project, "CONTRIBUTE")
    folder = validate.normalize_folder(inp["folder"]) if "folder" in inp else "/"
    name = validate.name(inp["name"]) if "name" in inp else default_name
    tags, props, details = run_metadata(inp)
    options = run_options(inp)
    depends_on = depends_on_of(ctx, inp)
    original = iospec.check_input(spec.get("inputSpec"), iospec.normalize_jbors(given))
    _check_references(ctx, original)
    options["_api_url"] = caller_options(caller).get("_api_url", ctx.base_url) if caller else ctx.base_url
    detach = bool(options.get("detach"))
    parent = None if caller is None or detach else caller
    return _insert_job(ctx, executable=executable_id, function="main", name=name, project=project, folder=folder,
                       workspace=None, parent=parent, run_input=given, original_input=original,
                       depends_on=depends_on, tags=tags, properties=props, details=details, options=options,
                       access_spec=spec.get("access") or {})


def caller_options(row: sqlite3.Row | None) -> dict[str, Any]:
    return loads(row["options"]) if row is not None else {}


def new_subjob(ctx: Context, inp: dict) -> str:
    """/job/new: a subjob of the calling job (known from its token), running another entry point."""
    caller = _calling_job(ctx)
    if caller is None:
        raise PermissionDenied("/job/new can only be called by a job, with the job's own token "
                               "(DX_SECURITY_CONTEXT); it creates a subjob of that job")
    function = validate.field(inp, "function", str, required=True)
    if not function:
        raise InvalidInput('expected key "function" of input to be a non-empty string')
    given = validate.field(inp, "input", dict, required=True)
    name = validate.name(inp["name"]) if "name" in inp else f"{caller['name']}:{function}"
    tags, props, details = run_metadata(inp)
    options = run_options(inp)
    depends_on = depends_on_of(ctx, inp)
    given_normal = iospec.normalize_jbors(given)
    _check_references(ctx, given_normal)
    options["_api_url"] = caller_options(caller).get("_api_url", ctx.base_url)
    return _insert_job(ctx, executable=caller["executable"], function=function, name=name, project=caller["project"],
                       folder=caller["folder"], workspace=caller["workspace"], parent=caller, run_input=given,
                       original_input=given_normal, depends_on=depends_on, tags=tags, properties=props,
                       details=details, options=options, access_spec=None)


def new_stage_job(ctx: Context, *, job_id: str, executable: str, spec: dict[str, Any], name: str, project: str,
                  folder: str, run_input: dict, original_input: dict, analysis: str, stage: str, root: str,
                  depends_on: list[str], options: dict) -> str:
    """One stage of an analysis (analyses.py) as an idle master job: its own workspace, `analysis` and `stage`
    set, the analysis (or what launched it) as root execution; `original_input` was checked by the caller,
    JBORs to the jobs of earlier stages included. `job_id` was drawn by the caller (stages refer to each
    other's jobs before they exist)."""
    caller = _calling_job(ctx)
    options = {**options, "_api_url": caller_options(caller).get("_api_url", ctx.base_url) if caller else ctx.base_url}
    _check_references(ctx, original_input)
    return _insert_job(ctx, executable=executable, function="main", name=name, project=project, folder=folder,
                       workspace=None, parent=None, run_input=run_input, original_input=original_input,
                       depends_on=depends_on, tags=[], properties={}, details={}, options=options,
                       access_spec=spec.get("access") or {}, job_id=job_id, analysis=analysis, stage=stage,
                       root=root)


def calling_job(ctx: Context) -> sqlite3.Row | None:
    """The job whose token made the request, or None for a user's token."""
    return _calling_job(ctx)


def _insert_job(ctx: Context, *, executable: str, function: str, name: str, project: str, folder: str,
                workspace: str | None, parent: sqlite3.Row | None, run_input: dict, original_input: dict,
                depends_on: list[str], tags: list[str], properties: dict, details: Any, options: dict,
                access_spec: dict | None, job_id: str | None = None, analysis: str | None = None,
                stage: str | None = None, root: str | None = None) -> str:
    job_id = job_id or new_id("job")
    subjob = workspace is not None
    if workspace is None:  # a master job: its own temporary workspace (digest 4.1)
        workspace = containers.insert_container(ctx.conn, "container", ctx.user, f"{job_id} workspace",
                                                now=ctx.now, region=ctx.settings.region)
        # The workspace is the job's, not the user's: the job tree reaches it through its own rows.
        ctx.conn.execute("DELETE FROM members WHERE container_id = ?", (workspace,))
    origin = parent["origin_job"] if (subjob and parent is not None) else job_id
    root = root or (parent["root_execution"] if parent is not None else job_id)
    ctx.conn.execute(
        "INSERT INTO jobs(id, seq, name, state, function, executable, analysis, stage, project, folder, workspace,"
        " launched_by, parent_job, origin_job, root_execution, created, modified, run_input, original_input,"
        " depends_on, tags, properties, details, state_transitions, options) VALUES"
        " (?, ?, ?, 'idle', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)",
        (job_id, ctx.db.next_seq("jobs"), name, function, executable, analysis, stage, project, folder, workspace,
         ctx.user, parent["id"] if parent is not None else None, origin, root, ctx.now, ctx.now, dumps(run_input),
         dumps(original_input), dumps(depends_on), dumps(tags), dumps(properties), dumps(details),
         dumps(options)))
    # What the job's token may touch: its workspace (CONTRIBUTE, docs "App Permissions"), its project
    # (runSpec access.project, default VIEW, never above the launching user's level), and with
    # access.allProjects every project of the user at that level, capped the same way.
    _grant(ctx, job_id, workspace, "CONTRIBUTE")
    if access_spec is None and parent is not None:  # a subjob has its parent's rights
        for r in ctx.conn.execute("SELECT container_id, level FROM members WHERE member_id = ? "
                                  "AND container_id != ?", (parent["id"], workspace)).fetchall():
            _grant(ctx, job_id, r["container_id"], r["level"])
        return job_id
    spec = access_spec or {}
    # The launcher's own level caps it: the user's, or the calling job's for a run from inside a job.
    user_level = access.level_of(ctx, project)
    _grant(ctx, job_id, project, _capped(spec.get("project", "VIEW"), user_level))
    if spec.get("allProjects") in LEVELS:
        for r in ctx.conn.execute("SELECT container_id, level FROM members WHERE member_id = ? "
                                  "AND container_id NOT IN (?, ?)", (ctx.member, project, workspace)).fetchall():
            _grant(ctx, job_id, r["container_id"], _capped(spec["allProjects"], r["level"]))
    return job_id


# -- state changes ---------------------------------------------------------------------------------------
def _set_state(ctx: Context, row: sqlite3.Row | str, state: str, **columns: Any) -> None:
    set_execution_state(ctx, job_row(ctx, row) if isinstance(row, str) else row, state, **columns)


def set_execution_state(ctx: Context, row: sqlite3.Row, state: str, **columns: Any) -> None:
    """A job or analysis row (its table by its class) enters `state`: a stateTransitions entry, never dated
    before the last one, and `modified`; `columns` are set besides."""
    transitions = loads(row["state_transitions"])
    at = max([ctx.now] + [t["setAt"] for t in transitions])
    transitions.append({"newState": state, "setAt": at})
    columns.update(state=state, state_transitions=dumps(transitions), modified=at)
    names = ", ".join(f"{k} = ?" for k in columns)
    table = "analyses" if id_class(row["id"]) == "analysis" else "jobs"
    ctx.conn.execute(f"UPDATE {table} SET {names} WHERE id = ?", (*columns.values(), row["id"]))


def _revoke(ctx: Context, job_id: str) -> None:
    """The job's token stops working and its rights go (its code has ended)."""
    ctx.conn.execute("DELETE FROM job_tokens WHERE job_id = ?", (job_id,))
    ctx.conn.execute("DELETE FROM members WHERE member_id = ?", (job_id,))


def _stop_clock(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    if row["started_running"] is not None and row["stopped_running"] is None:
        return {"stopped_running": max(ctx.now, row["started_running"])}
    return {}


def _fail(ctx: Context, row: sqlite3.Row, reason: str, message: str, failed_from: str | None = None) -> None:
    """The job fails; its ancestors fail with the same reason (failureFrom: this job) and the rest of the
    tree below the top failed ancestor fails with JobTreeFailure; job_service kills their processes."""
    if row["state"] in TERMINAL:
        return
    failure = {"reason": reason, "message": message}
    if failed_from is not None:
        failure["from"] = {"id": failed_from}
    _set_state(ctx, row, "failed", failure=dumps(failure), **_stop_clock(ctx, row))
    _revoke(ctx, row["id"])
    origin = failed_from or row["id"]
    parent_id = row["parent_job"]
    top = row
    while parent_id is not None:
        parent = job_row(ctx, parent_id)
        if parent["state"] in TERMINAL:
            break
        _fail(ctx, parent, reason, message, origin)
        top = parent
        parent_id = parent["parent_job"]
    if top["id"] == row["id"]:
        for other in descendants(ctx, row["id"]):
            if other["state"] not in TERMINAL:
                _fail_alone(ctx, other, "JobTreeFailure",
                            f"the job tree failed: {origin} failed ({reason}: {message})", origin)
    _settle_workspace(ctx, job_row(ctx, top["id"]))


def _fail_alone(ctx: Context, row: sqlite3.Row, reason: str, message: str, failed_from: str) -> None:
    failure = {"reason": reason, "message": message, "from": {"id": failed_from}}
    _set_state(ctx, row, "failed", failure=dumps(failure), **_stop_clock(ctx, row))
    _revoke(ctx, row["id"])


def descendants(ctx: Context, job_id: str) -> list[sqlite3.Row]:
    """The jobs below `job_id` (children, their children ...), oldest first."""
    return ctx.conn.execute(
        "WITH RECURSIVE tree(id) AS (SELECT id FROM jobs WHERE parent_job = ? "
        "UNION SELECT j.id FROM jobs j JOIN tree t ON j.parent_job = t.id) "
        "SELECT jobs.* FROM jobs JOIN tree ON tree.id = jobs.id ORDER BY jobs.seq", (job_id,)).fetchall()


def terminate(ctx: Context, job_id: str) -> None:
    """/job-xxxx/terminate: the job tree of the job's origin job goes to terminating; jobs without a process
    end terminated at once, the others once job_service has killed their process (process_ended)."""
    row = visible_job(ctx, job_id)
    may_manage(ctx, row, "ADMINISTER")
    origin = job_row(ctx, row["origin_job"])
    if origin["state"] in ("terminating", "terminated"):
        return
    if origin["state"] in TERMINAL:
        raise InvalidState(f"{origin['id']} has already finished ({origin['state']}); only a job tree that is "
                           "still going can be terminated")
    terminate_tree(ctx, origin)


def terminate_tree(ctx: Context, origin: sqlite3.Row) -> None:
    for row in [origin, *descendants(ctx, origin["id"])]:
        if row["state"] in TERMINAL or row["state"] == "terminating":
            continue
        had_process = row["state"] == "running"
        _set_state(ctx, row, "terminating")
        if not had_process:
            _set_state(ctx, row["id"], "terminated", **_stop_clock(ctx, row))
        _revoke(ctx, row["id"])
    _settle_workspace(ctx, job_row(ctx, origin["id"]))


def end_jobs_of_project(ctx: Context, project: str, terminate_jobs: bool) -> None:
    """Before a project is destroyed: its unfinished jobs are terminated with terminateJobs, else refused."""
    going = ctx.conn.execute("SELECT * FROM jobs WHERE project = ? AND state NOT IN ('done', 'failed', "
                             "'terminated')", (project,)).fetchall()
    if going and not terminate_jobs:
        raise InvalidState(f"{project} has {len(going)} unfinished job(s); destroy it with terminateJobs: true "
                           "to terminate them")
    for row in going:
        origin = job_row(ctx, row["origin_job"])
        if origin["state"] not in TERMINAL and origin["state"] != "terminating":
            terminate_tree(ctx, origin)


# -- the scheduler's steps (job_service calls them on the handler thread) -------------------------------
def _object_states(ctx: Context, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r["id"]: r["state"] for r in ctx.conn.execute(f"SELECT id, state FROM objects WHERE id IN ({marks})",
                                                           ids)}


def _readiness(ctx: Context, row: sqlite3.Row) -> tuple[str, str | None]:
    """("ready" | "wait" | "fail", failure message) for a job that has not started."""
    original = loads(row["original_input"])
    deps = [j for j, *_ in iospec.find_jbors(original)]
    deps += [d for d in loads(row["depends_on"]) if id_class(d) == "job"]
    for dep in dict.fromkeys(deps):
        other = _execution_state(ctx, dep)
        if other is None or other["state"] in ("failed", "terminated", "terminating", "partially_failed"):
            return "fail", f"{dep} was a job dependency but failed"
        if other["state"] != "done":
            return "wait", None
    wanted = [oid for oid, _ in iospec.find_links(original)]
    wanted += [d for d in loads(row["depends_on"]) if id_class(d) != "job"]
    states = _object_states(ctx, wanted)
    for oid in dict.fromkeys(wanted):
        if oid not in states:
            return "fail", f"the input object {oid} no longer exists"
        if states[oid] != "closed":
            return "wait", None
    return "ready", None


def advance(ctx: Context, free_slots: int, run_jobs: bool = True) -> list[Launch]:
    """Move every job that can move; returns the jobs to start now (at most `free_slots`)."""
    rows = ctx.conn.execute("SELECT * FROM jobs WHERE state IN ('idle', 'waiting_on_input', 'runnable', "
                            "'waiting_on_output') ORDER BY seq").fetchall()
    launches: list[Launch] = []
    for row in rows:
        row = job_row(ctx, row["id"])  # an earlier step may have changed it (tree failure)
        if row["state"] in WAITING:
            verdict, message = _readiness(ctx, row)
            if verdict == "fail":
                _fail(ctx, row, "DependencyUnsatisfiable", message or "")
                continue
            if verdict == "wait":
                if row["state"] == "idle":
                    _set_state(ctx, row, "waiting_on_input")
                continue
            _set_state(ctx, row, "runnable")
            row = job_row(ctx, row["id"])
        if row["state"] == "runnable":
            if not run_jobs:
                _fail(ctx, row, "ExecutionError", "this server does not run jobs (it was started with --no-jobs)")
            elif len(launches) < free_slots:
                launch = _start(ctx, row)
                if launch is not None:
                    launches.append(launch)
        elif row["state"] == "waiting_on_output":
            _try_complete(ctx, row)
    return launches


def _start(ctx: Context, row: sqlite3.Row) -> Launch | None:
    """runnable -> running: resolve the input, clone input objects into the workspace, issue the token."""
    try:
        resolved = iospec.resolve_jbors(loads(row["original_input"]), _outputs(ctx))
    except ValueError as exc:
        _fail(ctx, row, "InputError", str(exc))
        return None
    spec = executable_spec(ctx, row["executable"])
    run_spec = spec.get("runSpec") or {}
    if row["origin_job"] == row["id"]:  # the applet's inputSpec applies to its master jobs
        resolved = iospec.flatten_arrays(spec.get("inputSpec"), resolved)
    names: dict[str, str] = {}
    for object_id, project in iospec.find_links(resolved):
        source = project or _any_copy(ctx, object_id)
        if source is None:
            _fail(ctx, row, "InputError", f"the input object {object_id} no longer exists")
            return None
        copy = objects.find_copy(ctx, object_id, source)
        names[object_id] = copy["name"]
        if row["origin_job"] == row["id"]:
            _ensure_copy(ctx, copy, row["workspace"], "/")
    token = random_token()
    ctx.conn.execute("INSERT INTO job_tokens(token_sha256, job_id) VALUES (?, ?)", (token_sha256(token), row["id"]))
    _set_state(ctx, row, "running", started_running=ctx.now)
    try:
        timeout = timeout_seconds(run_spec["timeoutPolicy"], row["function"]) if "timeoutPolicy" in run_spec \
            else None
    except InvalidInput:
        timeout = None
    options = loads(row["options"])
    return Launch(job_id=row["id"], token=token, function=row["function"],
                  interpreter=run_spec.get("interpreter", "bash"), code=run_spec.get("code", ""),
                  input=resolved, file_names=names, workspace=row["workspace"], project=row["project"],
                  api_url=options.get("_api_url", ctx.base_url), timeout_seconds=timeout)


def _any_copy(ctx: Context, object_id: str) -> str | None:
    r = ctx.conn.execute("SELECT container_id FROM copies WHERE object_id = ? ORDER BY seq LIMIT 1",
                         (object_id,)).fetchone()
    return r["container_id"] if r else None


def _ensure_copy(ctx: Context, copy: sqlite3.Row, container_id: str, folder: str) -> None:
    exists = ctx.conn.execute("SELECT 1 FROM copies WHERE object_id = ? AND container_id = ?",
                              (copy["id"], container_id)).fetchone()
    if exists is None:
        containers.ensure_folder(ctx, container_id, folder, True)
        objects.add_copy(ctx, copy["id"], container_id, folder, copy["name"], loads(copy["tags"]),
                         loads(copy["properties"]))


def process_ended(ctx: Context, job_id: str, end: ProcessEnd) -> None:
    """The job's process is gone: terminated, failed (reason by what it left), or on to its output."""
    row = ctx.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        return
    _revoke(ctx, job_id)
    if row["state"] == "terminating":
        _set_state(ctx, row, "terminated", **_stop_clock(ctx, row))
        _settle_workspace(ctx, job_row(ctx, row["origin_job"]))
        return
    if row["state"] != "running":
        if row["stopped_running"] is None and row["started_running"] is not None:
            ctx.conn.execute("UPDATE jobs SET stopped_running = ? WHERE id = ?", (ctx.now, job_id))
        return
    ctx.conn.execute("UPDATE jobs SET stopped_running = ? WHERE id = ?", (max(ctx.now, row["started_running"]),
                                                                          job_id))
    row = job_row(ctx, job_id)
    reason, message = _failure_of(end)
    if reason is not None:
        _fail(ctx, row, reason, message)
        return
    output = iospec.normalize_jbors(end.output if end.output is not None else {})
    spec = executable_spec(ctx, row["executable"])
    problem = iospec.check_output(spec.get("outputSpec"), output) if row["origin_job"] == row["id"] else None
    if problem is not None:
        _fail(ctx, row, "OutputError", problem)
        return
    ctx.conn.execute("UPDATE jobs SET output = ? WHERE id = ?", (dumps(output), job_id))
    if not _try_complete(ctx, job_row(ctx, job_id)):
        row = job_row(ctx, job_id)
        if row["state"] == "running":  # subjobs, JBORs or closing objects to wait for
            _set_state(ctx, row, "waiting_on_output")


def _failure_of(end: ProcessEnd) -> tuple[str | None, str]:
    if end.reason == "wall-limit":
        return "JobTimeoutExceeded", "the job ran longer than its time limit (runSpec.timeoutPolicy, or the " \
                                     "server's job wall limit) and was stopped"
    if end.reason in ("cpu-limit", "memory-limit"):
        return "AppInsufficientResourceError", f"the job exceeded the server's job {end.reason.split('-')[0]} " \
                                               "limit and was stopped"
    if end.reason in ("server-gone", "shepherd-lost", "lost"):
        return "UnresponsiveWorker", "the job's process was lost (the server restarted or its supervisor died)"
    if end.reason in ("start-failed", "shepherd-error", "could-not-start"):
        detail = end.extra.get("error") or "see the server's log"
        return "ExecutionError", f"the job's process could not be run: {detail}"
    if end.error_unreadable:
        return "AppInternalError", ("Please consult the job log; the job's reported error could not be parsed "
                                    "from the file job_error.json")
    if end.error is not None:
        err = end.error.get("error") if isinstance(end.error, dict) else None
        if not isinstance(err, dict):
            return "AppInternalError", ("Please consult the job log; the job's reported error could not be "
                                        "parsed from the file job_error.json")
        kind = err.get("type") if err.get("type") in ("AppError", "AppInternalError") else "AppInternalError"
        return kind, str(err.get("message", ""))
    if end.exit_code != 0:
        how = f"signal {end.signal}" if end.signal else f"status {end.exit_code}"
        return "AppInternalError", f"the job's code exited with {how}; see the job log"
    if end.output_problem is not None:
        return "OutputError", end.output_problem
    return None, ""


def _try_complete(ctx: Context, row: sqlite3.Row) -> bool:
    """-> done once subjobs are done, output JBORs resolve and output objects are closed (True: the job has
    ended, done or failed; False: it waits)."""
    children = ctx.conn.execute("SELECT state FROM jobs WHERE parent_job = ?", (row["id"],)).fetchall()
    if any(c["state"] not in TERMINAL for c in children):
        return False
    output = loads(row["output"]) or {}
    for dep, *_ in iospec.find_jbors(output):
        other = _execution_state(ctx, dep)
        if other is None or other["state"] in ("failed", "terminated", "partially_failed"):
            _fail(ctx, row, "DependencyUnsatisfiable", f"{dep} was a job dependency but failed")
            return True
        if other["state"] != "done":
            return False
    try:
        resolved = iospec.resolve_jbors(output, _outputs(ctx))
    except ValueError as exc:
        _fail(ctx, row, "OutputError", str(exc))
        return True
    links = [oid for oid, _ in iospec.find_links(resolved)]
    states = _object_states(ctx, links)
    for oid in links:
        if oid not in states:
            _fail(ctx, row, "OutputError", f"the output object {oid} does not exist")
            return True
        if states[oid] == "open" and not _tree_running(ctx, row):
            _fail(ctx, row, "OutputError", f"the output object {oid} is still open and no job of the tree runs "
                                           "to close it (close output objects before the job ends)")
            return True
        if states[oid] != "closed":
            return False  # closing, or open while a job of the tree may still close it
    master = row["origin_job"] == row["id"]
    if master:
        spec = executable_spec(ctx, row["executable"])
        problem = iospec.check_output(spec.get("outputSpec"), resolved)
        if problem is not None:
            _fail(ctx, row, "OutputError", problem)
            return True
        for oid, project in iospec.find_links(resolved):
            source = project or _copy_in(ctx, oid, (row["workspace"], row["project"]))
            if source is None:
                _fail(ctx, row, "OutputError", f"the output object {oid} is not in the job's workspace")
                return True
            _ensure_copy(ctx, objects.find_copy(ctx, oid, source), row["project"], row["folder"])
    ctx.conn.execute("UPDATE jobs SET output = ? WHERE id = ?", (dumps(resolved), row["id"]))
    _set_state(ctx, row, "done")
    _settle_workspace(ctx, job_row(ctx, row["origin_job"]))
    return True


def _tree_running(ctx: Context, row: sqlite3.Row) -> bool:
    return ctx.conn.execute("SELECT 1 FROM jobs WHERE origin_job = ? AND state = 'running' LIMIT 1",
                            (row["origin_job"],)).fetchone() is not None


def _copy_in(ctx: Context, object_id: str, containers_: tuple[str, ...]) -> str | None:
    for c in containers_:
        if ctx.conn.execute("SELECT 1 FROM copies WHERE object_id = ? AND container_id = ?",
                            (object_id, c)).fetchone():
            return c
    return _any_copy(ctx, object_id)


def _settle_workspace(ctx: Context, origin: sqlite3.Row) -> None:
    """Once a master job's tree has ended, its workspace goes (kept with delayWorkspaceDestruction)."""
    if origin["state"] not in TERMINAL:
        return
    if any(r["state"] not in TERMINAL for r in descendants(ctx, origin["id"])
           if r["workspace"] == origin["workspace"]):
        return
    if loads(origin["options"]).get("delayWorkspaceDestruction"):
        return
    if ctx.conn.execute("SELECT 1 FROM containers WHERE id = ?", (origin["workspace"],)).fetchone():
        objects.destroy_container(ctx, origin["workspace"])


def lost_on_restart(ctx: Context) -> int:
    """Jobs that had a process when the server stopped: their process is gone (reaped): they fail."""
    rows = ctx.conn.execute("SELECT * FROM jobs WHERE state IN ('running', 'terminating')").fetchall()
    for row in rows:
        process_ended(ctx, row["id"], ProcessEnd(exit_code=None, reason="lost"))
    return len(rows)


# -- describe --------------------------------------------------------------------------------------------
IO_FIELDS = ("runInput", "originalInput", "input", "output")
DESCRIBE_ORDER = ("id", "class", "name", "executableName", "state", "function", "applet", "app", "executable",
                  "project", "folder", "workspace", "launchedBy", "billTo", "region", "created", "modified",
                  "startedRunning", "stoppedRunning", "stateTransitions", "parentJob", "parentAnalysis",
                  "analysis", "stage", "detachedFrom", "originJob", "rootExecution", "dependsOn", "tags",
                  "properties", "details", "priority", "delayWorkspaceDestruction", "systemRequirements",
                  "executionPolicy", "timeout", "instanceType", "try", "allowSSH", "debug", "runInput",
                  "originalInput", "input", "output", "failureReason", "failureMessage", "failureFrom")


def describe_options(options: Any) -> tuple[set[str] | None, bool, bool]:
    """(fields asked for or None, defaultFields, io) of a job or analysis describe; `try` checked."""
    wanted, default_fields = validate.describe_fields(options)
    io = validate.field(options, "io", bool, default=True)
    if "try" in options:
        value = options["try"]
        if not (isinstance(value, int) and not isinstance(value, bool)) or value < 0:
            raise InvalidInput('expected key "try" of input to be a non-negative integer')
    return wanted, default_fields, io


def describe_job(ctx: Context, row: sqlite3.Row, options: dict) -> dict[str, Any]:
    """/job-xxxx/describe for one jobs row (the caller may see it): default fields, `fields`, `io`."""
    wanted, default_fields, io = describe_options(options)
    keys = {"id"} | (wanted or set())
    if default_fields:
        keys.update(k for k in DESCRIBE_ORDER if io or k not in IO_FIELDS)
    values = _job_values(ctx, row)
    return {k: values[k] for k in DESCRIBE_ORDER if k in keys and k in values}


def _job_values(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    options = loads(row["options"])
    spec = executable_spec(ctx, row["executable"])
    run_spec = spec.get("runSpec") or {}
    executable = row["executable"]
    is_app = id_class(executable) == "app"
    if is_app:  # an app job names its app (app, executableName = the app's name), not an applet
        named = ctx.conn.execute("SELECT name FROM global_executables WHERE id = ?", (executable,)).fetchone()
    else:
        named = ctx.conn.execute("SELECT c.name FROM copies c WHERE c.object_id = ? ORDER BY seq LIMIT 1",
                                 (executable,)).fetchone()
    original = loads(row["original_input"])
    billing = ctx.conn.execute("SELECT bill_to, region FROM containers WHERE id = ?", (row["project"],)).fetchone()
    values: dict[str, Any] = {
        "id": row["id"], "class": "job", "name": row["name"],
        "executableName": named["name"] if named else executable, "state": row["state"],
        "function": row["function"], ("app" if is_app else "applet"): executable, "executable": executable,
        "project": row["project"], "folder": row["folder"], "workspace": row["workspace"],
        "launchedBy": row["launched_by"],
        "billTo": billing["bill_to"] if billing else row["launched_by"],
        "region": billing["region"] if billing else ctx.settings.region,
        "created": row["created"], "modified": row["modified"],
        "stateTransitions": loads(row["state_transitions"]), "parentJob": row["parent_job"],
        "parentAnalysis": row["analysis"], "analysis": row["analysis"], "stage": row["stage"],
        "detachedFrom": None,
        "originJob": row["origin_job"], "rootExecution": row["root_execution"],
        "dependsOn": loads(row["depends_on"]), "tags": loads(row["tags"]),
        "properties": loads(row["properties"]), "details": loads(row["details"]),
        "priority": options.get("priority", "normal"),
        "delayWorkspaceDestruction": bool(options.get("delayWorkspaceDestruction", False)),
        "systemRequirements": options.get("systemRequirements", {}),
        "executionPolicy": run_spec.get("executionPolicy", {}), "try": 0,
        "instanceType": "local", "allowSSH": options.get("allowSSH", []),
        "debug": options.get("debug", {}),
        "runInput": loads(row["run_input"]), "originalInput": original,
        "input": partly_resolved(ctx, original),
        "output": loads(row["output"]) if row["state"] == "done" else None,
    }
    if "timeoutPolicy" in run_spec:
        try:
            seconds = timeout_seconds(run_spec["timeoutPolicy"], row["function"])
        except InvalidInput:
            seconds = None
        if seconds is not None:
            values["timeout"] = int(seconds * 1000)
    if row["started_running"] is not None:
        values["startedRunning"] = row["started_running"]
    if row["stopped_running"] is not None:
        values["stoppedRunning"] = row["stopped_running"]
    if row["failure"]:
        failure = loads(row["failure"])
        values["failureReason"] = failure["reason"]
        values["failureMessage"] = failure["message"]
        if "from" in failure:
            values["failureFrom"] = failure["from"]
    return values


# -- job metadata --------------------------------------------------------------------------------------
def _set_column(ctx: Context, row: sqlite3.Row, column: str, value: Any) -> None:
    """One metadata column of a job or analysis row (its table by its class), and `modified`."""
    table = "analyses" if id_class(row["id"]) == "analysis" else "jobs"
    ctx.conn.execute(f"UPDATE {table} SET {column} = ?, modified = ? WHERE id = ?",
                     (dumps(value), max(ctx.now, row["modified"]), row["id"]))


def edit_tags(ctx: Context, execution_id: str, tags: list[str], add: bool) -> None:
    """addTags / removeTags of a job or an analysis: the launcher, its tree, or CONTRIBUTE on its project."""
    row = visible_execution(ctx, execution_id)
    may_manage(ctx, row, "CONTRIBUTE")
    current = loads(row["tags"])
    _set_column(ctx, row, "tags", list(dict.fromkeys(current + tags)) if add else
                [t for t in current if t not in set(tags)])


def set_properties(ctx: Context, execution_id: str, changes: dict[str, str | None]) -> None:
    """setProperties of a job or an analysis (null removes a property)."""
    row = visible_execution(ctx, execution_id)
    may_manage(ctx, row, "CONTRIBUTE")
    _set_column(ctx, row, "properties", metadata.merge_properties(loads(row["properties"]), changes))


def update(ctx: Context, job_id: str, changes: dict[str, Any]) -> None:
    row = visible_job(ctx, job_id)
    may_manage(ctx, row, "CONTRIBUTE")
    _set_column(ctx, row, "options", {**loads(row["options"]), **changes})
