"""Workflows' stored specs (the workflows table) and the describe fields read from them.

A workflow is a data object (objects, copies) whose content lives in `workflows.spec` (title, summary,
description, outputFolder, stages, inputs, outputs, initializedFrom) and `workflows.edit_version`. The
describe adds what is derived from the stages: `stages[i].accessible` (whether the caller can see the
stage's executable) and `inputSpec`/`outputSpec`: "<stageID>.<field>" entries grouped by stage ID, bound
stage inputs given as defaults, for an unlocked workflow; the workflow-level `inputs`/`outputs` once it
is locked (closed with non-null inputs). Shapes from the recorded describes (real-responses
workflow-describe__*.json) and EXECUTABLES-DIGEST 5.1-5.3.

This module reads the store only; the rules that change a workflow are in workflows.py.
"""

from __future__ import annotations

import copy
import sqlite3
from typing import Any

from . import global_access
from .context import Context
from .db import loads
from .ids import id_class

# The stored spec's keys with the values a new blank workflow has (digest 5.1; title None = the name).
SPEC_DEFAULTS: dict[str, Any] = {"title": None, "summary": "", "description": "", "outputFolder": None,
                                 "stages": [], "inputs": None, "outputs": None}
# Describe keys of a workflow beyond the common data-object ones, in the recorded order.
DESCRIBE_FIELDS = ("editVersion", "title", "summary", "description", "outputFolder", "temporary", "inputs",
                   "outputs", "stages", "inputSpec", "outputSpec", "initializedFrom")
# A stage in describe, in the recorded key order (accessible is computed).
STAGE_KEYS = ("id", "name", "executable", "folder", "input", "executionPolicy", "systemRequirements")
# Where a describe leaves a key out (initializedFrom of a workflow made from nothing).
ABSENT = object()


def stored(ctx: Context, workflow_id: str) -> tuple[dict[str, Any], int]:
    """(spec with every key of SPEC_DEFAULTS, editVersion) of a workflow."""
    row = ctx.conn.execute("SELECT spec, edit_version FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
    spec = loads(row["spec"]) if row is not None else {}
    full = {**copy.deepcopy(SPEC_DEFAULTS), **spec}
    return full, row["edit_version"] if row is not None else 0


def is_locked(state: str, spec: dict[str, Any]) -> bool:
    """Closed with workflow-level inputs (digest 5.3, dxworkflow.py is_locked)."""
    return state == "closed" and spec.get("inputs") is not None


# -- executables of stages ---------------------------------------------------------------------------------
def _applet_visible(ctx: Context, applet_id: str) -> bool:
    row = ctx.conn.execute(
        "SELECT 1 FROM copies c JOIN members m ON m.container_id = c.container_id "
        "JOIN objects o ON o.id = c.object_id WHERE c.object_id = ? AND m.member_id = ? AND o.class = 'applet'",
        (applet_id, ctx.member)).fetchone()
    return row is not None


def _app_visible(ctx: Context, row: sqlite3.Row) -> bool:
    """A version the caller may see (global_access.visible) and not deleted: usable in a stage."""
    return not row["deleted"] and global_access.visible(ctx, row)


def executable_spec(ctx: Context, executable_id: str) -> dict[str, Any] | None:
    """The spec (inputSpec, outputSpec, ...) of an applet or app the caller can see, else None."""
    cls = id_class(executable_id)
    if cls == "applet":
        if not _applet_visible(ctx, executable_id):
            return None
        row = ctx.conn.execute("SELECT spec FROM applets WHERE id = ?", (executable_id,)).fetchone()
        return loads(row["spec"]) if row is not None else {}
    if cls == "app":
        row = ctx.conn.execute("SELECT * FROM global_executables WHERE id = ? AND class = 'app'",
                               (executable_id,)).fetchone()
        if row is None or not _app_visible(ctx, row):
            return None
        return loads(row["spec"])
    return None


# -- describe ----------------------------------------------------------------------------------------------
def describe_value(ctx: Context, row: sqlite3.Row, key: str) -> Any:
    """One of DESCRIBE_FIELDS for the workflow of `row` (an objects row joined with a copy), or ABSENT."""
    spec, edit_version = stored(ctx, row["id"])
    if key == "editVersion":
        return edit_version
    if key == "title":
        return spec["title"] if spec["title"] is not None else row["name"]
    if key == "temporary":
        return False
    if key == "stages":
        return [_described_stage(ctx, stage) for stage in spec["stages"]]
    if key == "inputSpec":
        if is_locked(row["state"], spec):
            return copy.deepcopy(spec["inputs"])
        return _stage_specs(ctx, spec["stages"], "inputSpec")
    if key == "outputSpec":
        if spec["outputs"] is not None:
            return [{k: v for k, v in entry.items() if k != "outputSource"} for entry in spec["outputs"]]
        return _stage_specs(ctx, spec["stages"], "outputSpec")
    if key == "initializedFrom":
        return spec.get("initializedFrom", ABSENT)
    return spec[key]


def _described_stage(ctx: Context, stage: dict[str, Any]) -> dict[str, Any]:
    out = {k: copy.deepcopy(stage.get(k)) for k in STAGE_KEYS}
    out["accessible"] = executable_spec(ctx, stage["executable"]) is not None
    return out


def _stage_specs(ctx: Context, stages: list[dict[str, Any]], which: str) -> list[dict[str, Any]]:
    """The workflow's inputSpec or outputSpec from its stages' executables: "<stage>.<field>" entries with
    group = the stage ID; a bound stage input becomes the entry's default. Stages whose executable the
    caller cannot see, or that has no such spec, add nothing."""
    out: list[dict[str, Any]] = []
    for stage in stages:
        spec = executable_spec(ctx, stage["executable"])
        for entry in (spec or {}).get(which) or []:
            derived = {"name": f"{stage['id']}.{entry['name']}",
                       **{k: copy.deepcopy(v) for k, v in entry.items() if k not in ("name", "group")},
                       "group": stage["id"]}
            if which == "inputSpec" and entry["name"] in stage.get("input", {}):
                derived["default"] = copy.deepcopy(stage["input"][entry["name"]])
            out.append(derived)
    return out
