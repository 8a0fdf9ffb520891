"""Workflows on the store: /workflow/new, the edits under editVersion, close, and stage compatibility.

A workflow is a data object created open (objects, copies) whose content is in the workflows table
(workflow_store.py reads it and gives the describe fields). Facts: EXECUTABLES-DIGEST 5.1-5.3; where the
digest is silent, the design sheet of issue 19 decides:

- every edit route needs CONTRIBUTE on the workflow's project, an open workflow (else InvalidState) and
  `editVersion` (an int, required) equal to the current one (else InvalidState, nothing applied); a
  successful edit answers the new editVersion, old + 1, and an edit that changes nothing answers the
  current one unchanged;
- stage IDs match STAGE_ID and are unique (absent: the server draws `stage-xxxx`); a stage's executable is
  an applet or app the caller can see (ResourceNotFound otherwise), never a workflow (InvalidInput);
  bindings name inputs of the executable, and the links of digest 5.2 name existing stages and fields of
  their executables (workflow-level inputs for workflowInputField); instance types match INSTANCE_TYPE.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from . import (
    access,
    analyses,
    executable_checks,
    executions,
    global_executables,
    iospec,
    objects,
    validate,
    workflow_store,
)
from .context import Context
from .db import dumps, loads
from .errors import InvalidInput, InvalidState, ResourceNotFound
from .ids import id_class, new_id

# Instance type names the server knows (design sheet): mem1_ssd1_x2, mem2_hdd2_v2_x4, azure:mem3_ssd1_x8 ...
INSTANCE_TYPE = re.compile(r"^(azure:)?mem[1-4]_(ssd|hdd)[1-2](_v2|_gpu[0-9]*)?_x[0-9]+$")
# A stage ID a client may choose (dxworkflow.py _get_stage_id, digest 5.2).
STAGE_ID = re.compile(r"^([a-zA-Z_]|stage-)[0-9a-zA-Z_]*$")
# What /workflow/new, initializeFrom and overwrite carry over: the content of a workflow.
CONTENT_KEYS = ("title", "summary", "description", "outputFolder", "stages", "inputs", "outputs")
# A stored stage's keys, with the values of those a stage was given without.
STAGE_DEFAULTS: dict[str, Any] = {"id": None, "name": None, "executable": None, "folder": None, "input": {},
                                  "systemRequirements": {}, "executionPolicy": {}}
# Keys of one stage's entry in /workflow-xxxx/update's `stages`.
STAGE_UPDATE_KEYS = ("name", "folder", "input", "systemRequirements", "executionPolicy")
LINK_KEY = iospec.LINK_KEY


# -- checking pieces ---------------------------------------------------------------------------------------
def check_instance_types(value: Any, key: str) -> dict[str, Any]:
    """systemRequirements {entry point | "*": {instanceType?, ...}} whose instance types the server knows."""
    executions.check_system_requirements(value, key)
    for entry, requirements in value.items():
        itype = requirements.get("instanceType")
        if itype is not None and not INSTANCE_TYPE.fullmatch(itype):
            raise InvalidInput(f'key "{key}.{entry}.instanceType" of input names an unknown instance type '
                               f'"{itype}" (known: names like mem1_ssd1_x2, mem2_hdd2_v2_x4, azure:mem1_ssd1_x2)')
    return value


def _folder(value: Any, key: str) -> str | None:
    """A stage folder: null, absolute ("/out") or relative to the output folder ("out/x"), normalised as
    folder paths are ("a//b/" -> "a/b")."""
    if value is None:
        return None
    if not isinstance(value, str) or value == "":
        raise InvalidInput(f'expected key "{key}" of input to be null or a non-empty string (a folder)')
    if value.startswith("/"):
        return validate.normalize_folder(value, key)
    relative = validate.normalize_folder("/" + value, key)[1:]  # the same rules for the parts
    if not relative:
        raise InvalidInput(f'expected key "{key}" of input to name a folder ("/" for the root)')
    return relative


def _output_folder(value: Any, key: str = "outputFolder") -> str | None:
    return None if value is None else validate.normalize_folder(value, key)


def executable(ctx: Context, value: Any, key: str) -> tuple[str, dict[str, Any]]:
    """(applet or app ID, its spec) for a stage's executable the caller can see: an applet ID, or an app as
    its ID, `app-<name>` (the default alias) or `app-<name>/<version or alias>` (stored as the app's ID)."""
    if not isinstance(value, str):
        raise InvalidInput(f'expected key "{key}" of input to be a string (an applet or app ID)')
    cls = id_class(value)
    if cls == "workflow":
        raise InvalidInput(f'key "{key}" of input names a workflow: workflows cannot be stages of workflows')
    if cls == "app" or (cls is None and value.startswith("app-")):
        row = global_executables.resolve(ctx, "app", value)
        if row["deleted"]:
            raise InvalidState(f"The app {value} (key {key}) was deleted; it cannot be a stage")
        return row["id"], global_executables.spec_of(row)
    if cls != "applet":
        raise InvalidInput(f'expected key "{key}" of input to be an applet or app ID')
    spec = workflow_store.executable_spec(ctx, value)
    if spec is None:
        raise ResourceNotFound(f"The applet {value} (key {key}) could not be found")
    return value, spec


def _spec_names(spec: dict[str, Any] | None, which: str) -> set[str] | None:
    """The names of an executable's inputSpec or outputSpec; None when it has none (anything goes)."""
    entries = (spec or {}).get(which)
    return None if entries is None else {e["name"] for e in entries}


class _Checker:
    """Checks the links of a workflow's stage inputs and outputs against its stages (digest 5.2)."""

    def __init__(self, ctx: Context, stages: list[dict[str, Any]], inputs: list[dict] | None):
        self.ctx = ctx
        self.by_id = {s["id"]: s for s in stages}
        self.inputs = None if inputs is None else {e["name"] for e in inputs}
        self._specs: dict[str, dict[str, Any] | None] = {}

    def spec_of(self, stage_id: str) -> dict[str, Any] | None:
        if stage_id not in self._specs:
            self._specs[stage_id] = workflow_store.executable_spec(self.ctx, self.by_id[stage_id]["executable"])
        return self._specs[stage_id]

    def link(self, target: dict, key: str, own_stage: str | None) -> None:
        """One workflow link: {stage, outputField | inputField} or {workflowInputField}."""
        if set(target) == {"workflowInputField"}:
            name = target["workflowInputField"]
            if not isinstance(name, str) or self.inputs is None or name not in self.inputs:
                raise InvalidInput(f'the link in key "{key}" of input names workflow input {name!r}, which the '
                                   "workflow's inputs do not have")
            return
        fields = set(target) - {"stage"}
        if "stage" not in target or len(fields) != 1 or fields.pop() not in ("outputField", "inputField"):
            raise InvalidInput(f'the link in key "{key}" of input must be {{"stage", "outputField"}}, '
                               '{"stage", "inputField"} or {"workflowInputField"}')
        stage, field_key = target["stage"], "outputField" if "outputField" in target else "inputField"
        field = target[field_key]
        if not isinstance(stage, str) or stage not in self.by_id:
            raise InvalidInput(f'the link in key "{key}" of input names stage {stage!r}, which the workflow '
                               "does not have")
        if field_key == "outputField" and stage == own_stage:
            raise InvalidInput(f'the link in key "{key}" of input names an output of its own stage')
        names = _spec_names(self.spec_of(stage), "outputSpec" if field_key == "outputField" else "inputSpec")
        if not isinstance(field, str) or (names is not None and field not in names):
            raise InvalidInput(f'the link in key "{key}" of input names {field_key} {field!r}, which the '
                               f"executable of stage {stage} does not have")

    def value(self, value: Any, key: str, own_stage: str | None) -> None:
        """Every workflow link inside a bound value; other links and JBORs are left to run time."""
        stack = [(value, key)]
        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                target = node.get(LINK_KEY)
                if isinstance(target, dict) and ({"stage", "workflowInputField"} & set(target)):
                    if len(node) != 1:
                        raise InvalidInput(f'a hash with key "{LINK_KEY}" in key "{path}" of input must have '
                                           "no other key")
                    self.link(target, path, own_stage)
                    continue
                stack.extend((v, f"{path}.{k}") for k, v in node.items())
            elif isinstance(node, list):
                stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))

    def stage(self, stage: dict[str, Any], key: str) -> None:
        names = _spec_names(self.spec_of(stage["id"]), "inputSpec")
        for name, bound in stage["input"].items():
            if names is not None and name not in names:
                raise InvalidInput(f'key "{_sub(key, "input")}.{name}" of input binds an input that the executable '
                                   f"{stage['executable']} does not have")
            self.value(bound, f"{_sub(key, 'input')}.{name}", stage["id"])

    def outputs(self, outputs: list[dict] | None, key: str = "outputs") -> None:
        for i, entry in enumerate(outputs or []):
            source = entry.get("outputSource")
            target = source.get(LINK_KEY) if isinstance(source, dict) and len(source) == 1 else None
            if not isinstance(target, dict) or "outputField" not in target:
                raise InvalidInput(f'expected key "{key}[{i}].outputSource" of input to be a link to a stage '
                                   'output, {"$dnanexus_link": {"stage", "outputField"}}')
            self.link(target, f"{key}[{i}].outputSource", None)

    def everything(self, spec: dict[str, Any]) -> None:
        for i, stage in enumerate(spec["stages"]):
            self.stage(stage, f"stages[{i}]")
        self.outputs(spec["outputs"])


def _sub(key: str, name: str) -> str:
    """The key of `name` inside `key` ("" is the input itself: addStage's stage is the whole input)."""
    return f"{key}.{name}" if key else name


def _stage(ctx: Context, value: Any, key: str, taken: set[str]) -> dict[str, Any]:
    """A stage of /workflow/new or addStage in its stored form; its links are checked afterwards."""
    if not isinstance(value, dict):
        raise InvalidInput(f'expected key "{key}" of input to be a hash (a stage)')
    if "executable" not in value:
        raise InvalidInput(f'expected key "{key}" of input to have property "executable"' if key else
                           'expected input to have property "executable"')
    executable_id, _ = executable(ctx, value["executable"], _sub(key, "executable"))
    stage_id = value.get("id")
    if stage_id is None:
        stage_id = new_id("stage")
    elif not isinstance(stage_id, str) or not STAGE_ID.fullmatch(stage_id):
        raise InvalidInput(f'expected key "{_sub(key, "id")}" of input to match {STAGE_ID.pattern}')
    if stage_id in taken:
        raise InvalidInput(f'key "{_sub(key, "id")}" of input repeats the stage ID "{stage_id}"')
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidInput(f'expected key "{_sub(key, "name")}" of input to be a string or null')
    bound = value.get("input", {})
    if not isinstance(bound, dict):
        raise InvalidInput(f'expected key "{_sub(key, "input")}" of input to be a hash')
    requirements = check_instance_types(value.get("systemRequirements", {}), _sub(key, "systemRequirements"))
    policy = value.get("executionPolicy", {})
    executable_checks.check_execution_policy(policy, _sub(key, "executionPolicy"))
    return {"id": stage_id, "name": name, "executable": executable_id,
            "folder": _folder(value.get("folder"), _sub(key, "folder")), "input": copy.deepcopy(bound),
            "systemRequirements": copy.deepcopy(requirements), "executionPolicy": copy.deepcopy(policy)}


def _io_list(value: Any, key: str) -> list[dict] | None:
    """Workflow-level inputs or outputs: null or an I/O spec (outputs also carry outputSource)."""
    return None if value is None else iospec.check_spec(copy.deepcopy(value), key)


def _text(value: Any, key: str) -> str:
    if value is None:  # unsets: back to the blank workflow's ""
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f'expected key "{key}" of input to be a string')
    return value


def _content(ctx: Context, inp: dict, base: dict[str, Any]) -> dict[str, Any]:
    """The stored spec of /workflow/new: `base` (a blank workflow, or what initializeFrom copied) with the
    content keys the input gives."""
    spec = copy.deepcopy(base)
    if "title" in inp:
        title = inp["title"]
        if title is not None and not isinstance(title, str):
            raise InvalidInput('expected key "title" of input to be a string or null')
        spec["title"] = title
    for key in ("summary", "description"):
        if key in inp:
            spec[key] = _text(inp[key], key)
    if "outputFolder" in inp:
        spec["outputFolder"] = _output_folder(inp["outputFolder"])
    if "inputs" in inp:
        spec["inputs"] = _io_list(inp["inputs"], "inputs")
    if "outputs" in inp:
        spec["outputs"] = _io_list(inp["outputs"], "outputs")
    if "stages" in inp:
        given = inp["stages"]
        if not isinstance(given, list):
            raise InvalidInput('expected key "stages" of input to be an array of stages')
        stages: list[dict[str, Any]] = []
        for i, value in enumerate(given):
            stages.append(_stage(ctx, value, f"stages[{i}]", {s["id"] for s in stages}))
        spec["stages"] = stages
    _Checker(ctx, spec["stages"], spec["inputs"]).everything(spec)
    return spec


# -- creation ----------------------------------------------------------------------------------------------
def _source_workflow(ctx: Context, workflow_id: str, hint: str | None) -> tuple[dict[str, Any], int]:
    row, _ = objects.locate(ctx, workflow_id, hint, "VIEW")
    if row["class"] != "workflow":
        raise ResourceNotFound(f"The workflow {workflow_id} could not be found")
    return workflow_store.stored(ctx, workflow_id)


def _initial(ctx: Context, value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(content copied from the initializeFrom source, initializedFrom) (digest 5.1: title, summary,
    description, outputFolder, inputs, outputs and stages, stage IDs and names kept)."""
    if not isinstance(value, dict):
        raise InvalidInput('expected key "initializeFrom" of input to be a hash {"id", "project"?}')
    source = validate.entity_id(validate.field(value, "id", str, required=True), "initializeFrom.id",
                                {"workflow", "analysis"})
    hint = objects.project_hint(value)
    if id_class(source) == "workflow":
        spec, version = _source_workflow(ctx, source, hint)
        return {k: spec[k] for k in CONTENT_KEYS}, {"id": source, "editVersion": version}
    ran = {**workflow_store.SPEC_DEFAULTS, **loads(analyses.visible_analysis(ctx, source)["workflow"])}
    content = {k: copy.deepcopy(ran[k]) for k in CONTENT_KEYS}
    # The analysis keeps the workflow's describe: its stages as stored, less what describe adds (accessible).
    content["stages"] = [copy.deepcopy({**STAGE_DEFAULTS, **{k: v for k, v in stage.items() if k in STAGE_DEFAULTS}})
                         for stage in content["stages"]]
    return content, {"id": source}


def new(ctx: Context, inp: dict) -> str:
    """/workflow/new: the workflow's ID. CONTRIBUTE on the project, as for applets (executables)."""
    if "details" in inp:
        validate.details_within_limits(inp["details"])
    project = objects.project_hint(inp, required=True)
    access.container(ctx, project, "CONTRIBUTE")
    base, initialized_from = copy.deepcopy(workflow_store.SPEC_DEFAULTS), None
    if "initializeFrom" in inp:
        copied, initialized_from = _initial(ctx, inp["initializeFrom"])
        base.update(copied)
    spec = _content(ctx, inp, base)
    if initialized_from is not None:
        spec["initializedFrom"] = initialized_from
    workflow_id = objects.create_object(ctx, "workflow", inp)
    ctx.conn.execute("INSERT INTO workflows(id, spec, edit_version) VALUES (?, ?, 0)", (workflow_id, dumps(spec)))
    return workflow_id


def close(ctx: Context, workflow_id: str) -> None:
    """/workflow-xxxx/close: UPLOAD, as for records; closing a closed workflow has no effect."""
    row, _ = objects.locate(ctx, workflow_id, None, "UPLOAD")
    if row["class"] != "workflow":
        raise ResourceNotFound(f"The workflow {workflow_id} could not be found")
    ctx.conn.execute("UPDATE objects SET state = 'closed', modified = ? WHERE id = ? AND state = 'open'",
                     (ctx.now, workflow_id))


# -- edits under editVersion -------------------------------------------------------------------------------
Change = Callable[[dict[str, Any]], dict[str, Any]]


def edit(ctx: Context, workflow_id: str, inp: dict, change: Change) -> dict[str, Any]:
    """Apply `change` (spec -> extra answer keys; it edits the spec in place, raising to refuse) under the
    editVersion rules; the answer is {"id", "editVersion", ...extra}."""
    given = validate.field(inp, "editVersion", int, required=True)
    row, _ = objects.locate(ctx, workflow_id, None, "CONTRIBUTE")
    if row["class"] != "workflow":
        raise ResourceNotFound(f"The workflow {workflow_id} could not be found")
    if row["state"] != "open":
        raise InvalidState(f"{workflow_id} is not in the open state; a closed workflow cannot be edited")
    spec, current = workflow_store.stored(ctx, workflow_id)
    if given != current:
        raise InvalidState(f"editVersion {given} does not match the current edit version {current} of "
                           f"{workflow_id}; describe the workflow and retry with the current one")
    changed = copy.deepcopy(spec)
    extra = change(changed)
    version = current
    if changed != spec:
        version = current + 1
        ctx.conn.execute("UPDATE workflows SET spec = ?, edit_version = ? WHERE id = ?",
                         (dumps(changed), version, workflow_id))
        objects.touch_object(ctx, workflow_id)
    return {"id": workflow_id, "editVersion": version, **extra}


def _index_of(spec: dict[str, Any], value: Any, key: str = "stage") -> int:
    if not isinstance(value, str):
        raise InvalidInput(f'expected key "{key}" of input to be a string (a stage ID)')
    for i, stage in enumerate(spec["stages"]):
        if stage["id"] == value:
            return i
    raise InvalidInput(f'key "{key}" of input names stage "{value}", which the workflow does not have')


def add_stage(ctx: Context, inp: dict) -> Change:
    def change(spec: dict[str, Any]) -> dict[str, Any]:
        stage = _stage(ctx, inp, "", {s["id"] for s in spec["stages"]})
        spec["stages"].append(stage)
        _Checker(ctx, spec["stages"], spec["inputs"]).stage(stage, "")
        return {"stage": stage["id"]}
    return change


def remove_stage(ctx: Context, inp: dict) -> Change:
    def change(spec: dict[str, Any]) -> dict[str, Any]:
        del spec["stages"][_index_of(spec, inp.get("stage"))]
        return {}
    return change


def move_stage(ctx: Context, inp: dict) -> Change:
    def change(spec: dict[str, Any]) -> dict[str, Any]:
        index = _index_of(spec, inp.get("stage"))
        new_index = validate.field(inp, "newIndex", int, required=True)
        if not 0 <= new_index < len(spec["stages"]):
            raise InvalidInput(f'expected key "newIndex" of input to be an index of the stages, 0 to '
                               f"{len(spec['stages']) - 1}")
        spec["stages"].insert(new_index, spec["stages"].pop(index))
        return {}
    return change


def _update_stage(ctx: Context, stage: dict[str, Any], changes: Any, key: str) -> None:
    if not isinstance(changes, dict):
        raise InvalidInput(f'expected key "{key}" of input to be a hash')
    for name in changes:
        if name not in STAGE_UPDATE_KEYS:
            raise InvalidInput(f'key "{key}.{name}" of input is not a stage field that update changes '
                               f"({', '.join(STAGE_UPDATE_KEYS)})")
    if "name" in changes:
        if changes["name"] is not None and not isinstance(changes["name"], str):
            raise InvalidInput(f'expected key "{_sub(key, "name")}" of input to be a string or null')
        stage["name"] = changes["name"]
    if "folder" in changes:
        stage["folder"] = _folder(changes["folder"], _sub(key, "folder"))
    if "input" in changes:
        bindings = changes["input"]
        if not isinstance(bindings, dict):
            raise InvalidInput(f'expected key "{_sub(key, "input")}" of input to be a hash (null removes a binding)')
        for name, value in bindings.items():
            if value is None:
                stage["input"].pop(name, None)
            else:
                stage["input"][name] = copy.deepcopy(value)
    if "systemRequirements" in changes:
        stage["systemRequirements"] = copy.deepcopy(
            check_instance_types(changes["systemRequirements"], _sub(key, "systemRequirements")))
    if "executionPolicy" in changes:
        if not isinstance(changes["executionPolicy"], dict):
            raise InvalidInput(f'expected key "{_sub(key, "executionPolicy")}" of input to be a hash')
        stage["executionPolicy"] = copy.deepcopy(changes["executionPolicy"])


def update(ctx: Context, inp: dict) -> Change:
    def change(spec: dict[str, Any]) -> dict[str, Any]:
        if "title" in inp:
            if inp["title"] is not None and not isinstance(inp["title"], str):
                raise InvalidInput('expected key "title" of input to be a string or null')
            spec["title"] = inp["title"]
        for key in ("summary", "description"):
            if key in inp:
                spec[key] = _text(inp[key], key)
        if "outputFolder" in inp:
            spec["outputFolder"] = _output_folder(inp["outputFolder"])
        for key in ("inputs", "outputs"):
            if key in inp:
                spec[key] = _io_list(inp[key], key)
        stages = validate.field(inp, "stages", dict, default={})
        for stage_id, changes in stages.items():
            _update_stage(ctx, spec["stages"][_index_of(spec, stage_id, f"stages.{stage_id}")], changes,
                          f"stages.{stage_id}")
        checker = _Checker(ctx, spec["stages"], spec["inputs"])
        for stage_id in stages:
            checker.stage(spec["stages"][_index_of(spec, stage_id)], f"stages.{stage_id}")
        if "outputs" in inp:
            checker.outputs(spec["outputs"])
        return {}
    return change


def overwrite(ctx: Context, inp: dict) -> Change:
    """The content of another workflow ({"from": {"workflow", "project"?}}) replaces this one's."""
    source = validate.field(inp, "from", dict, required=True)
    source_id = validate.entity_id(validate.field(source, "workflow", str, required=True), "from.workflow",
                                   {"workflow"})
    hint = objects.project_hint(source, "project")

    def change(spec: dict[str, Any]) -> dict[str, Any]:
        other, _ = _source_workflow(ctx, source_id, hint)
        spec.update({k: copy.deepcopy(other[k]) for k in CONTENT_KEYS})
        return {}
    return change


# -- stage executables -------------------------------------------------------------------------------------
def incompatibilities(ctx: Context, spec: dict[str, Any], stage: dict[str, Any],
                      new_spec: dict[str, Any]) -> list[str]:
    """Why `new_spec` cannot replace the executable of `stage`: an input or output of the current
    executable that the new one lacks or has with another class, a required input of the new one that the
    current one lacks, or a binding of the stage the new one has no input for."""
    old_spec = workflow_store.executable_spec(ctx, stage["executable"]) or {}
    found: list[str] = []
    for which, kind in (("inputSpec", "input"), ("outputSpec", "output")):
        old = {e["name"]: e for e in old_spec.get(which) or []}
        new = None if new_spec.get(which) is None else {e["name"]: e for e in new_spec[which]}
        if new is None:
            continue
        for name, entry in old.items():
            if name not in new:
                found.append(f'{kind} "{name}" of the current executable is missing from the new one')
            elif new[name]["class"] != entry["class"]:
                found.append(f'{kind} "{name}" has class {entry["class"]} in the current executable but '
                             f"{new[name]['class']} in the new one")
        if kind == "input":
            for name, entry in new.items():
                required = not entry.get("optional", False) and "default" not in entry
                if name not in old and required and name not in stage["input"]:
                    found.append(f'input "{name}" of the new executable is required and the current one '
                                 "does not have it")
            found.extend(f'the stage binds input "{name}", which the new executable does not have'
                         for name in stage["input"] if name not in new and name not in old)
    return found


def _stage_executable(ctx: Context, inp: dict, spec: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    stage = spec["stages"][_index_of(spec, inp.get("stage"))]
    if "executable" not in inp:
        raise InvalidInput('expected input to have property "executable"')
    executable_id, new_spec = executable(ctx, inp["executable"], "executable")
    return stage, executable_id, incompatibilities(ctx, spec, stage, new_spec)


def update_stage_executable(ctx: Context, inp: dict) -> Change:
    force = validate.field(inp, "force", bool, default=False)

    def change(spec: dict[str, Any]) -> dict[str, Any]:
        stage, executable_id, problems = _stage_executable(ctx, inp, spec)
        if problems and not force:
            raise InvalidState("the new executable is not compatible with the stage (use force to replace it "
                               "anyway): " + "; ".join(problems))
        stage["executable"] = executable_id
        names = _spec_names(workflow_store.executable_spec(ctx, executable_id), "inputSpec")
        if names is not None:
            stage["input"] = {k: v for k, v in stage["input"].items() if k in names}
        return {}
    return change


def is_stage_compatible(ctx: Context, workflow_id: str, inp: dict) -> dict[str, Any]:
    """{"compatible": bool, "incompatibilities"?: [reasons]}; nothing changes."""
    validate.field(inp, "editVersion", int)
    row, _ = objects.locate(ctx, workflow_id, None, "VIEW")
    if row["class"] != "workflow":
        raise ResourceNotFound(f"The workflow {workflow_id} could not be found")
    spec, _ = workflow_store.stored(ctx, workflow_id)
    _, _, problems = _stage_executable(ctx, inp, spec)
    return {"compatible": True} if not problems else {"compatible": False, "incompatibilities": problems}


# -- describe and batches ----------------------------------------------------------------------------------
def located(ctx: Context, workflow_id: str, hint: str | None = None) -> sqlite3.Row:
    """The workflow's copy the caller may VIEW (ResourceNotFound otherwise)."""
    row, _ = objects.locate(ctx, workflow_id, hint, "VIEW")
    if row["class"] != "workflow":
        raise ResourceNotFound(f"The workflow {workflow_id} could not be found")
    return row


def input_spec(ctx: Context, row: sqlite3.Row) -> list[dict[str, Any]]:
    """The workflow's inputSpec as describe gives it."""
    return workflow_store.describe_value(ctx, row, "inputSpec")
