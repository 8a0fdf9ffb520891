"""Analyses on the store: /workflow-xxxx/run makes one, its stages run as jobs (executions.py); states, describe.

A run checks the input against the workflow (digest 5.4: "<stageID>.<field>" keys, or the workflow-level
`inputs` names; a locked workflow, closed with `inputs`, takes only those), builds each stage's input from its
bindings (digest 5.2 link forms: another stage's output becomes a JBOR to that stage's job, another stage's
input its value, a workflow input the run's value), checks it against the stage executable's inputSpec and
creates one idle job per stage at once, each a master job of its own (executions.new_stage_job). Part 1's
scheduler then runs them: a stage waiting on another's output waits in waiting_on_input, and one whose producer
failed fails with DependencyUnsatisfiable.

The analysis state follows its stage jobs (`settle`, after every scheduler step): in_progress while one goes;
partially_failed once one failed and others still go; then failed (one failed), terminated (one terminated,
none failed) or done (all done, with the output: "<stageID>.<field>" for every stage output plus the workflow's
`outputs` by their outputSource). /analysis-xxxx/terminate terminates every stage's job tree: terminating,
then terminated. Output folders follow digest 5.4 (`folder_of`). What the digest leaves open is decided here and
listed in docs/emulator.md.
"""

from __future__ import annotations

import copy
import sqlite3
from dataclasses import dataclass
from typing import Any

from . import access, containers, executions, iospec, objects, validate
from .context import Context
from .db import dumps, loads
from .errors import InvalidInput, InvalidState, ResourceNotFound
from .ids import id_class, new_id

ENDED = frozenset({"done", "failed", "terminated"})
GOING = ("in_progress", "partially_failed", "terminating")
LINK = "$dnanexus_link"
# Run inputs only workflows take (digest 3.1); `ignoreReuse` is a list of stage IDs or "*" here, not a boolean.
WORKFLOW_ONLY = ("stageSystemRequirements", "stageFolders", "rerunStages", "ignoreReuse")
# Run inputs workflows refuse (dxpy raises client-side for them: dxapplet.py:148-149).
APPLET_ONLY = ("headJobOnDemand",)


@dataclass
class StagePlan:
    """One stage of a run, before its job exists."""

    stage: dict[str, Any]
    job_id: str
    executable: str
    spec: dict[str, Any]
    name: str
    folder: str
    run_input: dict[str, Any]       # what the run gave for this stage ("<stage>.<field>" keys, prefix dropped)
    original_input: dict[str, Any]  # bindings resolved, run values over them, the inputSpec's defaults
    options: dict[str, Any]


@dataclass
class Plan:
    """A whole run, checked, before anything is created."""

    analysis_id: str
    executable: str
    workflow: dict[str, Any]
    name: str
    project: str
    folder: str
    run_input: dict[str, Any]
    stages: list[StagePlan]
    tags: list[str]
    properties: dict[str, str]
    details: Any
    depends_on: list[str]
    options: dict[str, Any]
    parent: sqlite3.Row | None


# -- running --------------------------------------------------------------------------------------------
def run_workflow(ctx: Context, workflow_id: str, inp: dict) -> dict[str, Any]:
    """/workflow-xxxx/run -> {"id": analysis-xxxx, "stages": [job IDs]} (digest 3.1 output)."""
    return run_spec(ctx, workflow_id, workflow_describe(ctx, workflow_id), inp)


def dry_run(ctx: Context, workflow_id: str, inp: dict) -> dict[str, Any]:
    """/workflow-xxxx/dryRun: the run's checks, nothing created; answers what the run would make: the analysis'
    name, folder, input and per stage the executable, job name, folder and input (this server's form: the
    platform's answer is not documented in the sources at hand)."""
    plan = _plan(ctx, workflow_id, workflow_describe(ctx, workflow_id), inp)
    return {"name": plan.name, "project": plan.project, "folder": plan.folder, "runInput": plan.run_input,
            "originalInput": _stage_keyed(plan, "original_input"),
            "stages": [{"id": s.stage["id"], "execution": {"executable": s.executable, "name": s.name,
                                                           "folder": s.folder, "input": s.original_input}}
                       for s in plan.stages]}


def run_spec(ctx: Context, executable_id: str, workflow: dict[str, Any], inp: dict) -> dict[str, Any]:
    """Run `workflow` (a workflow describe: stages, inputs, outputs, outputFolder, name, state ...) as
    `executable_id` (the workflow itself, or a global workflow that froze it)."""
    plan = _plan(ctx, executable_id, workflow, inp)
    _create(ctx, plan)
    return {"id": plan.analysis_id, "stages": [s.job_id for s in plan.stages]}


def workflow_describe(ctx: Context, workflow_id: str) -> dict[str, Any]:
    validate.entity_id(workflow_id, "workflow", {"workflow"})
    row, container = objects.locate(ctx, workflow_id, None, "VIEW")
    if row["class"] != "workflow":
        raise ResourceNotFound(f"The entity {workflow_id} could not be found")
    return objects.describe_object(ctx, workflow_id, container, {})


def _plan(ctx: Context, executable_id: str, workflow: dict[str, Any], inp: dict) -> Plan:
    given = validate.field(inp, "input", dict, required=True)
    for key in APPLET_ONLY:
        if key in inp:
            raise InvalidInput(f'key "{key}" of input applies to applets and apps, not to workflows')
    caller = executions.calling_job(ctx)
    project = objects.project_hint(inp)
    if project is None:
        if caller is None:
            raise InvalidInput('expected input to have property "project" (the project to run in)')
        project = caller["workspace"]  # as for applets run from inside a job (digest 9.9)
    access.container(ctx, project, "CONTRIBUTE")
    stages = [dict(s) for s in workflow.get("stages") or []]
    if not stages:
        raise InvalidState(f"{workflow.get('id', executable_id)} has no stages: there is nothing to run")
    by_id = {s["id"]: s for s in stages}
    base = validate.normalize_folder(inp["folder"]) if "folder" in inp else \
        (workflow.get("outputFolder") or "/")
    stage_folders = _stage_map(inp, "stageFolders", by_id, str)
    stage_requirements = _stage_map(inp, "stageSystemRequirements", by_id, dict)
    for key, value in stage_requirements.items():
        executions.check_system_requirements(value, f"stageSystemRequirements.{key}")
    _ignore_reuse(inp, by_id)
    if "rerunStages" in inp:
        validate.strings(validate.field(inp, "rerunStages", list), "rerunStages")
    options = executions.run_options({k: v for k, v in inp.items() if k not in WORKFLOW_ONLY})
    tags, properties, details = executions.run_metadata(inp)
    depends_on = executions.depends_on_of(ctx, inp)
    name = validate.name(inp["name"]) if "name" in inp else workflow.get("name") or executable_id
    workflow_values, per_stage = _split_input(workflow, given, by_id)
    job_ids = {s["id"]: new_id("job") for s in stages}
    effective: dict[str, dict[str, Any]] = {}
    plans = []
    for stage in stages:
        executable = stage.get("executable")
        spec = _stage_spec(ctx, stage)
        bound = _bind(stage, by_id, job_ids, workflow_values, per_stage, effective, set())
        try:
            original = iospec.check_input(spec.get("inputSpec"), iospec.normalize_jbors(bound))
        except InvalidInput as exc:
            raise InvalidInput(f"stage {stage['id']}: {exc.message}") from None
        stage_options = dict(options)
        requirements = stage_requirements.get(stage["id"], stage_requirements.get("*"))
        if requirements is not None:
            stage_options["systemRequirements"] = requirements
        elif "systemRequirements" not in options and stage.get("systemRequirements"):
            stage_options["systemRequirements"] = stage["systemRequirements"]
        folder = stage_folders.get(stage["id"], stage_folders.get("*", stage.get("folder")))
        plans.append(StagePlan(stage=stage, job_id=job_ids[stage["id"]], executable=executable, spec=spec,
                               name=stage.get("name") or _executable_name(ctx, executable, spec),
                               folder=folder_of(base, folder), run_input=per_stage.get(stage["id"], {}),
                               original_input=original, options=stage_options))
    return Plan(analysis_id=new_id("analysis"), executable=executable_id, workflow=workflow, name=name,
                project=project, folder=base, run_input=given, stages=plans, tags=tags, properties=properties,
                details=details, depends_on=depends_on, options=options,
                parent=None if caller is None or options.get("detach") else caller)


def folder_of(base: str, folder: str | None) -> str:
    """A stage's output folder (digest 5.4): an absolute one as it is, a relative one under `base` (the run's
    folder, else the workflow's outputFolder, else /), none: `base`."""
    if folder is None or folder == "":
        return base
    if folder.startswith("/"):
        return validate.normalize_folder(folder, "folder")
    return validate.normalize_folder(base.rstrip("/") + "/" + folder, "folder")


def _stage_map(inp: dict, key: str, by_id: dict[str, dict], kind: type) -> dict[str, Any]:
    """{stageID | "*": value} of a run input (dxpy rewrites stage names and indexes to IDs client-side)."""
    value = validate.field(inp, key, dict, default={})
    for stage, item in value.items():
        if stage != "*" and stage not in by_id:
            raise InvalidInput(f'key "{key}.{stage}" of input names no stage of the workflow (stage IDs or "*")')
        validate.expect(isinstance(item, kind), f"{key}.{stage}", "a string" if kind is str else "a hash")
    return value


def _ignore_reuse(inp: dict, by_id: dict[str, dict]) -> None:
    if "ignoreReuse" not in inp:
        return
    value = inp["ignoreReuse"]
    if isinstance(value, bool):
        return
    validate.expect(isinstance(value, list) and all(isinstance(v, str) for v in value), "ignoreReuse",
                    'a boolean or an array of stage IDs or "*"')
    for stage in value:
        if stage != "*" and stage not in by_id:
            raise InvalidInput(f'key "ignoreReuse" of input names {stage!r}, no stage of the workflow')


def _split_input(workflow: dict, given: dict, by_id: dict[str, dict]) -> tuple[dict, dict[str, dict]]:
    """(workflow-level values with the `inputs` defaults, {stageID: {field: value}}) of a run's input."""
    inputs = workflow.get("inputs")
    locked = workflow.get("state") == "closed" and inputs is not None
    names = {entry["name"] for entry in inputs or [] if isinstance(entry, dict) and "name" in entry}
    workflow_given: dict[str, Any] = {}
    per_stage: dict[str, dict[str, Any]] = {}
    for key, value in given.items():
        if key in names:
            workflow_given[key] = value
            continue
        stage, dot, field = key.partition(".")
        if dot and stage in by_id and field:
            if locked:
                raise InvalidInput(f'the input "{key}" is private and cannot be overridden: the workflow is locked '
                                   "(closed, with workflow-level inputs); give its workflow-level inputs instead")
            per_stage.setdefault(stage, {})[field] = value
            continue
        raise InvalidInput(f'unexpected key "input.{key}" of input: neither "<stage ID>.<input name>" of a stage of '
                           "the workflow nor a workflow-level input")
    if inputs is None:
        return workflow_given, per_stage
    try:
        values = iospec.check_input(inputs, iospec.normalize_jbors(workflow_given))
    except InvalidInput as exc:
        raise InvalidInput(f"workflow inputs: {exc.message}") from None
    return values, per_stage


def _stage_spec(ctx: Context, stage: dict[str, Any]) -> dict[str, Any]:
    """The spec of a stage's executable, which the caller must be able to see (else ResourceNotFound)."""
    executable = stage.get("executable")
    cls = id_class(executable)
    if cls == "applet":
        try:
            row, _ = objects.locate(ctx, executable, None, "VIEW")
        except ResourceNotFound:
            raise ResourceNotFound(f"The executable {executable} of stage {stage['id']} could not be found") from None
        if row["class"] != "applet":
            raise ResourceNotFound(f"The executable {executable} of stage {stage['id']} could not be found")
    elif cls == "app":
        row = ctx.conn.execute("SELECT deleted FROM global_executables WHERE id = ?", (executable,)).fetchone()
        if row is None or row["deleted"]:
            raise ResourceNotFound(f"The executable {executable} of stage {stage['id']} could not be found")
    else:
        raise InvalidInput(f"the executable of stage {stage['id']} is not an applet or app ID")
    return executions.executable_spec(ctx, executable)


def _executable_name(ctx: Context, executable: str, spec: dict[str, Any]) -> str:
    if id_class(executable) == "app":
        row = ctx.conn.execute("SELECT name FROM global_executables WHERE id = ?", (executable,)).fetchone()
        return spec.get("title") or (row["name"] if row else executable)
    row = ctx.conn.execute("SELECT name FROM copies WHERE object_id = ? ORDER BY seq LIMIT 1",
                           (executable,)).fetchone()
    return row["name"] if row else executable


def _bind(stage: dict, by_id: dict[str, dict], job_ids: dict[str, str], workflow_values: dict,
          per_stage: dict[str, dict], effective: dict[str, dict], seen: set[str]) -> dict[str, Any]:
    """A stage's input before its inputSpec's defaults: its bindings with their links replaced, the run's
    values for it over them. Memoised in `effective` (a stage input bound to another stage's input)."""
    sid = stage["id"]
    if sid in effective:
        return effective[sid]
    if sid in seen:
        raise InvalidInput(f"the input bindings of stage {sid} refer to each other in a loop")
    seen.add(sid)

    def replace(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {LINK} and isinstance(value[LINK], dict):
            ref = value[LINK]
            if "workflowInputField" in ref:
                return workflow_values.get(ref["workflowInputField"], _ABSENT)
            if "stage" in ref and ("outputField" in ref or "inputField" in ref):
                other = ref["stage"]
                if other not in by_id:
                    raise InvalidInput(f"a binding of stage {sid} names stage {other!r}, which the workflow lacks")
                if "outputField" in ref:
                    return {LINK: {"job": job_ids[other], "field": ref["outputField"]}}
                inputs = _bind(by_id[other], by_id, job_ids, workflow_values, per_stage, effective, seen)
                return copy.deepcopy(inputs.get(ref["inputField"], _ABSENT))
            return value
        if isinstance(value, dict):
            out = {k: replace(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not _ABSENT}
        if isinstance(value, list):
            return [v for v in map(replace, value) if v is not _ABSENT]
        return value

    bound = replace(copy.deepcopy(stage.get("input") or {}))
    bound.update(copy.deepcopy(per_stage.get(sid, {})))
    effective[sid] = bound
    return bound


class _Absent:
    """A binding to a workflow input or stage input that has no value: the binding is left out."""


_ABSENT = _Absent()


def _stage_keyed(plan: Plan, attribute: str) -> dict[str, Any]:
    return {f"{s.stage['id']}.{k}": v for s in plan.stages for k, v in getattr(s, attribute).items()}


def _create(ctx: Context, plan: Plan) -> None:
    parent = plan.parent
    root = parent["root_execution"] if parent is not None else plan.analysis_id
    stages = [{"id": s.stage["id"], "execution": s.job_id} for s in plan.stages]
    # The analysis' own workspace (a recorded analysis describe has one, apart from its stages'): nobody's
    # member; it goes when the analysis ends (kept with delayWorkspaceDestruction).
    workspace = containers.insert_container(ctx.conn, "container", ctx.user, f"{plan.analysis_id} workspace",
                                            now=ctx.now, region=ctx.settings.region)
    ctx.conn.execute("DELETE FROM members WHERE container_id = ?", (workspace,))
    options = {**plan.options, "_workspace": workspace}
    ctx.conn.execute(
        "INSERT INTO analyses(id, seq, name, state, executable, workflow, project, folder, launched_by, parent_job,"
        " root_execution, created, modified, run_input, original_input, stages, depends_on, tags, properties,"
        " details, state_transitions, options) VALUES (?, ?, ?, 'in_progress', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?, ?, ?, ?)",
        (plan.analysis_id, ctx.db.next_seq("jobs"), plan.name, plan.executable, dumps(plan.workflow), plan.project,
         plan.folder, ctx.user, parent["id"] if parent is not None else None, root, ctx.now, ctx.now,
         dumps(plan.run_input), dumps(_stage_keyed(plan, "original_input")), dumps(stages),
         dumps(plan.depends_on), dumps(plan.tags), dumps(plan.properties), dumps(plan.details), "[]",
         dumps(options)))
    for s in plan.stages:
        executions.new_stage_job(ctx, job_id=s.job_id, executable=s.executable, spec=s.spec, name=s.name,
                                 project=plan.project, folder=s.folder, run_input=s.run_input,
                                 original_input=s.original_input, analysis=plan.analysis_id,
                                 stage=s.stage["id"], root=root, depends_on=plan.depends_on, options=s.options)


# -- states -----------------------------------------------------------------------------------------------
def analysis_row(ctx: Context, analysis_id: str) -> sqlite3.Row:
    row = ctx.conn.execute("SELECT * FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
    if row is None:
        raise ResourceNotFound(f"The entity {analysis_id} could not be found")
    return row


def _stage_jobs(ctx: Context, row: sqlite3.Row) -> list[sqlite3.Row]:
    ids = [s["execution"] for s in loads(row["stages"])]
    found = {r["id"]: r for r in ctx.conn.execute("SELECT * FROM jobs WHERE analysis = ?", (row["id"],))}
    return [found[i] for i in ids if i in found]


def going(ctx: Context) -> bool:
    """Whether an analysis has not ended (the scheduler keeps its clock for it)."""
    marks = ",".join("?" * len(GOING))
    return ctx.conn.execute(f"SELECT 1 FROM analyses WHERE state IN ({marks}) LIMIT 1", GOING).fetchone() is not None


def settle(ctx: Context) -> None:
    """Every analysis that has not ended takes the state its stage jobs give it (after each scheduler step)."""
    marks = ",".join("?" * len(GOING))
    for row in ctx.conn.execute(f"SELECT * FROM analyses WHERE state IN ({marks})", GOING).fetchall():
        _settle_one(ctx, row)


def _settle_one(ctx: Context, row: sqlite3.Row) -> None:
    _follow_stages(ctx, row)
    row = analysis_row(ctx, row["id"])
    if row["state"] in ENDED:
        options = loads(row["options"])
        workspace = options.get("_workspace")
        if workspace and not options.get("delayWorkspaceDestruction") and \
                ctx.conn.execute("SELECT 1 FROM containers WHERE id = ?", (workspace,)).fetchone():
            objects.destroy_container(ctx, workspace)


def _follow_stages(ctx: Context, row: sqlite3.Row) -> None:
    jobs = _stage_jobs(ctx, row)
    states = [j["state"] for j in jobs]
    failed = [j for j in jobs if j["state"] == "failed"]
    all_ended = all(s in ENDED for s in states)
    if row["state"] == "terminating":
        if all_ended:
            executions.set_execution_state(ctx, row, "terminated")
        return
    if all_ended:
        if failed:
            executions.set_execution_state(ctx, row, "failed", failure=dumps(_failure(failed[0])))
        elif any(s == "terminated" for s in states):
            executions.set_execution_state(ctx, row, "terminated")
        else:
            executions.set_execution_state(ctx, row, "done", output=dumps(_output(ctx, row, jobs)))
        return
    if failed and row["state"] == "in_progress":
        executions.set_execution_state(ctx, row, "partially_failed", failure=dumps(_failure(failed[0])))


def _failure(job: sqlite3.Row) -> dict[str, Any]:
    failure = loads(job["failure"]) or {}
    return {"reason": failure.get("reason", "AppError"), "message": failure.get("message", ""),
            "from": {"id": job["id"], "stage": job["stage"]}}


def _output(ctx: Context, row: sqlite3.Row, jobs: list[sqlite3.Row]) -> dict[str, Any]:
    """"<stageID>.<field>" for every stage output, and the workflow's outputs by their outputSource."""
    by_stage = {j["stage"]: loads(j["output"]) or {} for j in jobs}
    output = {f"{stage}.{k}": v for stage, out in by_stage.items() for k, v in out.items()}
    for entry in loads(row["workflow"]).get("outputs") or []:
        source = entry.get("outputSource") if isinstance(entry, dict) else None
        ref = source.get(LINK) if isinstance(source, dict) else None
        if isinstance(ref, dict) and ref.get("stage") in by_stage and ref.get("outputField") in by_stage[ref["stage"]]:
            output[entry["name"]] = by_stage[ref["stage"]][ref["outputField"]]
    return output


# -- visibility, terminate, metadata ------------------------------------------------------------------------
def visible_analysis(ctx: Context, analysis_id: str) -> sqlite3.Row:
    """The analysis, if the caller may see it (the rule of jobs: executions.visible_execution); else not found."""
    validate.entity_id(analysis_id, "analysis", {"analysis"})
    return executions.visible_execution(ctx, analysis_id)


def terminate(ctx: Context, analysis_id: str) -> None:
    """Every stage's job tree is terminated; the analysis is terminating until they have all ended."""
    row = visible_analysis(ctx, analysis_id)
    executions.may_manage(ctx, row, "ADMINISTER")
    if row["state"] in ("terminating", "terminated"):
        return
    if row["state"] in ENDED:
        raise InvalidState(f"{analysis_id} has already finished ({row['state']}); only an analysis that is still "
                           "going can be terminated")
    executions.set_execution_state(ctx, row, "terminating")
    for job in _stage_jobs(ctx, row):
        origin = executions.job_row(ctx, job["origin_job"])
        if origin["state"] not in ENDED and origin["state"] != "terminating":
            executions.terminate_tree(ctx, origin)
    _settle_one(ctx, analysis_row(ctx, analysis_id))


# -- describe --------------------------------------------------------------------------------------------
IO_FIELDS = ("runInput", "originalInput", "input", "output")
# The keys of the recorded analysis describes (real-responses analysis-describe__dxCompiler-dxcint), in order.
DESCRIBE_ORDER = ("id", "class", "name", "executable", "executableName", "state", "project", "folder",
                  "workspace", "launchedBy", "billTo", "region", "created", "modified", "stateTransitions",
                  "workflow", "stages", "parentJob", "parentAnalysis", "detachedFrom", "analysis", "stage",
                  "rootExecution", "dependsOn", "tags", "properties", "details", "priority", "costLimit", "rank",
                  "delayWorkspaceDestruction", "preserveJobOutputs", "runInput", "originalInput", "input",
                  "output", "failureReason", "failureMessage", "failureFrom")


def describe_analysis(ctx: Context, row: sqlite3.Row, options: dict) -> dict[str, Any]:
    """/analysis-xxxx/describe for one analyses row the caller may see: default fields, `fields`, `io`."""
    wanted, default_fields, io = executions.describe_options(options)
    keys = {"id"} | (wanted or set())
    if default_fields:
        keys.update(k for k in DESCRIBE_ORDER if io or k not in IO_FIELDS)
    values = _analysis_values(ctx, row, keys)
    return {k: values[k] for k in DESCRIBE_ORDER if k in keys and k in values}


def _analysis_values(ctx: Context, row: sqlite3.Row, keys: set[str]) -> dict[str, Any]:
    workflow = loads(row["workflow"])
    options = loads(row["options"])
    original = loads(row["original_input"])
    billing = ctx.conn.execute("SELECT bill_to, region FROM containers WHERE id = ?", (row["project"],)).fetchone()
    values: dict[str, Any] = {
        "id": row["id"], "class": "analysis", "name": row["name"], "executable": row["executable"],
        "executableName": workflow.get("name", row["executable"]), "state": row["state"],
        "project": row["project"], "folder": row["folder"], "launchedBy": row["launched_by"],
        "billTo": billing["bill_to"] if billing else row["launched_by"],
        "region": billing["region"] if billing else ctx.settings.region,
        "created": row["created"], "modified": row["modified"],
        "stateTransitions": loads(row["state_transitions"]), "workflow": workflow,
        "parentJob": row["parent_job"], "parentAnalysis": None, "detachedFrom": None, "analysis": None,
        "stage": None, "rootExecution": row["root_execution"], "dependsOn": loads(row["depends_on"]),
        "tags": loads(row["tags"]), "properties": loads(row["properties"]), "details": loads(row["details"]),
        "priority": options.get("priority", "normal"), "workspace": options.get("_workspace"),
        "costLimit": options.get("costLimit"), "rank": options.get("rank", 0),
        "delayWorkspaceDestruction": bool(options.get("delayWorkspaceDestruction", False)),
        "preserveJobOutputs": options.get("preserveJobOutputs"), "runInput": loads(row["run_input"]),
        "originalInput": original, "input": executions.partly_resolved(ctx, original),
        "output": loads(row["output"]) if row["state"] == "done" else None,
    }
    if "stages" in keys:
        jobs = {j["id"]: j for j in _stage_jobs(ctx, row)}
        values["stages"] = [
            {"id": s["id"], "execution": executions.describe_job(ctx, jobs[s["execution"]], {})
             if s["execution"] in jobs else {"id": s["execution"]}}
            for s in loads(row["stages"])]
    if row["failure"]:
        failure = loads(row["failure"])
        values["failureReason"] = failure["reason"]
        values["failureMessage"] = failure["message"]
        values["failureFrom"] = failure["from"]
    return values
