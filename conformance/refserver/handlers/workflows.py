"""Workflows: /workflow/new, the workflow-only routes (stages, editVersion, close, ...) and /workflow-xxxx/run.

The rules are in workflows.py (store) and workflow_store.py (describe); describe, tags, types, details,
visibility, rename, properties and listProjects are the shared data-object routes (dataobjects.py).
/workflow-xxxx/run and dryRun hand over to analyses.py. /system/generateBatchInputs (batch_inputs.py)
lives here too: it belongs to the workflows profile (batch runs of workflows and applets).
"""

from __future__ import annotations

from typing import Any

from .. import analyses, batch_inputs, workflows
from ..context import Context
from . import route


@route("/workflow/new", accepts_nonce=True)
def workflow_new(ctx: Context, inp: dict) -> dict[str, Any]:
    """{"id", "editVersion": 0}: the platform's answer as recorded (real-traffic stor TestList, 2018)."""
    return {"id": workflows.new(ctx, inp), "editVersion": 0}


@route("/workflow-xxxx/close")
def close(ctx: Context, inp: dict) -> dict[str, str]:
    workflows.close(ctx, ctx.subject)
    return {"id": ctx.subject}


# The edit routes: each checks and applies one change (workflows.py), under the editVersion rule of edit().
EDITS = {"addStage": workflows.add_stage, "removeStage": workflows.remove_stage, "moveStage": workflows.move_stage,
         "update": workflows.update, "updateStageExecutable": workflows.update_stage_executable,
         "overwrite": workflows.overwrite}


def _edit_route(method: str, change) -> None:
    @route(f"/workflow-xxxx/{method}")
    def edit(ctx: Context, inp: dict) -> dict[str, Any]:
        return workflows.edit(ctx, ctx.subject, inp, change(ctx, inp))


for _method, _change in EDITS.items():
    _edit_route(_method, _change)


@route("/workflow-xxxx/isStageCompatible")
def is_stage_compatible(ctx: Context, inp: dict) -> dict[str, Any]:
    return workflows.is_stage_compatible(ctx, ctx.subject, inp)


@route("/workflow-xxxx/validateBatch")
def validate_batch(ctx: Context, inp: dict) -> dict[str, list[dict[str, Any]]]:
    """As /applet-xxxx/validateBatch (handlers/applets.py), against the workflow's inputSpec as describe
    gives it ("<stageID>.<field>" names, or the workflow-level inputs of a locked workflow)."""
    return batch_inputs.expand(workflows.input_spec(ctx, workflows.located(ctx, ctx.subject)), inp)


@route("/workflow-xxxx/run", accepts_nonce=True)
def run(ctx: Context, inp: dict) -> dict[str, Any]:
    return analyses.run_workflow(ctx, ctx.subject, inp)


@route("/workflow-xxxx/dryRun")
def dry_run(ctx: Context, inp: dict) -> dict[str, Any]:
    return analyses.dry_run(ctx, ctx.subject, inp)


@route("/system/generateBatchInputs")
def generate_batch_inputs(ctx: Context, inp: dict) -> dict[str, list[dict[str, Any]]]:
    return batch_inputs.generate(ctx, inp)
