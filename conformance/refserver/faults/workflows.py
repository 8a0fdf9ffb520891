"""Deliberate faults of workflows, analyses and apps: editVersion, run input, output folders, analysis states and
describes, execution search, app aliases, visibility, publish and developers.

Registered into FAULTS on import (the package imports every fault module). Each breaks exactly one rule
(EXECUTABLES-DIGEST 5-7 and the design of issue 19; docs/selftest.md) the way faults/executables.py does: it
wraps the handler of a few routes (rewriting their input, subject or answer, or editing the store around them
inside the request's transaction and putting it back afterwards), or wraps the job service's step that settles
analyses (`Fault.steps`: job_service.Steps.settle_analyses). Neither workflows.py, analyses.py nor
global_executables.py know faults exist; this module only reads and writes the rows they keep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import global_executables
from ..db import dumps, loads
from ..ids import id_class
from .helpers import wrap_output
from .registry import Fault, Handler, fault

# The routes that edit a workflow under editVersion (handlers/workflows.py).
EDIT_ROUTES = tuple(f"/workflow-xxxx/{m}" for m in ("addStage", "removeStage", "moveStage", "update",
                                                     "updateStageExecutable", "overwrite"))
WORKFLOW_RUN_ROUTES = ("/workflow-xxxx/run", "/workflow-xxxx/dryRun")
# Answers that hold job describes: one, in search results, in a bulk describe's items, or the stage jobs in an
# analysis describe.
JOB_DESCRIBE_ROUTES = ("/job-xxxx/describe", "/system/findExecutions", "/system/findJobs",
                       "/system/describeExecutions", "/analysis-xxxx/describe", "/system/findAnalyses")
# Answers that hold analysis describes.
ANALYSIS_DESCRIBE_ROUTES = ("/analysis-xxxx/describe", "/system/findExecutions", "/system/findAnalyses",
                            "/system/describeExecutions")
SEARCHES_BY_EXECUTABLE = ("/system/findExecutions", "/system/findAnalyses")
# The instance routes of apps and global workflows (handlers/apps.py), by the method's part of the route key.
GLOBAL_METHODS = ("describe", "update", "delete", "publish", "addTags", "removeTags", "addDevelopers",
                  "removeDevelopers", "listDevelopers", "addAuthorizedUsers", "removeAuthorizedUsers",
                  "listAuthorizedUsers", "addCategories", "removeCategories", "listCategories", "run")
APP_ONLY_METHODS = ("get", "install", "uninstall", "validateBatch")
GLOBAL_ROUTES = tuple(f"/{cls}-xxxx/{m}" for cls in global_executables.CLASSES for m in GLOBAL_METHODS) + \
    tuple(f"/app-xxxx/{m}" for m in APP_ONLY_METHODS)
# Routes on which a caller looks at a version, runs or installs it (none edits it).
GLOBAL_READ_ROUTES = tuple(f"/{cls}-xxxx/{m}" for cls in global_executables.CLASSES
                           for m in ("describe", "run", "listDevelopers", "listAuthorizedUsers", "listCategories")) + \
    tuple(f"/app-xxxx/{m}" for m in APP_ONLY_METHODS)


# -- the store, changed for the length of one call -----------------------------------------------------------
@contextmanager
def _workflow_spec_replaced(ctx, workflow_id: str, change: Callable[[dict], dict]) -> Iterator[None]:
    """For the length of the block, the workflow's stored spec is change(spec); put back afterwards."""
    row = ctx.conn.execute("SELECT spec FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
    if row is None:
        yield
        return
    ctx.conn.execute("UPDATE workflows SET spec = ? WHERE id = ?", (dumps(change(loads(row["spec"]))), workflow_id))
    try:
        yield
    finally:
        ctx.conn.execute("UPDATE workflows SET spec = ? WHERE id = ?", (row["spec"], workflow_id))


def _stored_spec(ctx, workflow_id: str | None) -> dict[str, Any]:
    row = ctx.conn.execute("SELECT spec FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
    return loads(row["spec"]) if row is not None else {}


def _edit_version(ctx, workflow_id: str | None) -> int | None:
    row = ctx.conn.execute("SELECT edit_version FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
    return None if row is None else row["edit_version"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- workflows: editVersion, closed workflows -----------------------------------------------------------------
def _stale_version_accepted(handler: Handler) -> Handler:
    """Any int editVersion is taken for the current one (a missing or mistyped one is still refused)."""

    def wrapped(ctx, inp):
        current = _edit_version(ctx, ctx.subject)
        if isinstance(inp, dict) and _is_int(inp.get("editVersion")) and current is not None:
            inp = {**inp, "editVersion": current}
        return handler(ctx, inp)

    return wrapped


def _version_kept(handler: Handler) -> Handler:
    """An edit that changed the workflow keeps the editVersion it was given (in the answer and the store)."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        given = inp.get("editVersion") if isinstance(inp, dict) else None
        if isinstance(out, dict) and _is_int(given) and _is_int(out.get("editVersion")) and out["editVersion"] > given:
            ctx.conn.execute("UPDATE workflows SET edit_version = ? WHERE id = ?", (given, ctx.subject))
            return {**out, "editVersion": given}
        return out

    return wrapped


def _no_op_bumps(handler: Handler) -> Handler:
    """An edit that changed nothing still moves the editVersion on by one (in the answer and the store)."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        given = inp.get("editVersion") if isinstance(inp, dict) else None
        if isinstance(out, dict) and _is_int(given) and out.get("editVersion") == given:
            ctx.conn.execute("UPDATE workflows SET edit_version = ? WHERE id = ?", (given + 1, ctx.subject))
            return {**out, "editVersion": given + 1}
        return out

    return wrapped


def _closed_edited(handler: Handler) -> Handler:
    """A closed workflow is edited as if it were open; it stays closed."""

    def wrapped(ctx, inp):
        row = ctx.conn.execute("SELECT state FROM objects WHERE id = ? AND class = 'workflow'",
                               (ctx.subject,)).fetchone()
        if row is None or row["state"] != "closed":
            return handler(ctx, inp)
        ctx.conn.execute("UPDATE objects SET state = 'open' WHERE id = ?", (ctx.subject,))
        try:
            return handler(ctx, inp)
        finally:
            ctx.conn.execute("UPDATE objects SET state = 'closed' WHERE id = ?", (ctx.subject,))

    return wrapped


# -- workflow runs: input, folders ----------------------------------------------------------------------------
def _run_input_rewritten(fn: Callable[[Any, dict, dict], dict]) -> Callable[[Handler], Handler]:
    """The run sees fn(ctx, stored workflow spec, input) instead of its input."""

    def wrap(handler: Handler) -> Handler:
        def wrapped(ctx, inp):
            if isinstance(inp, dict):
                inp = fn(ctx, _stored_spec(ctx, ctx.subject), inp)
            return handler(ctx, inp)

        return wrapped

    return wrap


def _bound_values_win(ctx, spec: dict, inp: dict) -> dict:
    """The run's "<stage>.<field>" values for inputs the stage binds are left out: the bindings win."""
    given = inp.get("input")
    if not isinstance(given, dict):
        return inp
    bound = {f"{s.get('id')}.{name}" for s in spec.get("stages") or [] for name in (s.get("input") or {})}
    return {**inp, "input": {k: v for k, v in given.items() if k not in bound}}


def _workflow_inputs_dropped(ctx, spec: dict, inp: dict) -> dict:
    """The run's values for workflow-level inputs are left out."""
    given = inp.get("input")
    names = {e.get("name") for e in spec.get("inputs") or [] if isinstance(e, dict)}
    if not isinstance(given, dict) or not names:
        return inp
    return {**inp, "input": {k: v for k, v in given.items() if k not in names}}


def _stage_folders_dropped(ctx, spec: dict, inp: dict) -> dict:
    """The run's stageFolders are left out."""
    return {k: v for k, v in inp.items() if k != "stageFolders"}


def _rooted(folder: Any) -> Any:
    """A relative folder ("foo") taken from the root ("/foo"); others as they are."""
    return "/" + folder if isinstance(folder, str) and folder and not folder.startswith("/") else folder


def _relative_folders_rooted(handler: Handler) -> Handler:
    """Relative stage folders, the workflow's and the run's stageFolders, land under / instead of under the
    run's folder or the workflow's outputFolder."""

    def rooted_stages(spec: dict) -> dict:
        return {**spec, "stages": [{**s, "folder": _rooted(s.get("folder"))} for s in spec.get("stages") or []]}

    def wrapped(ctx, inp):
        if isinstance(inp, dict) and isinstance(inp.get("stageFolders"), dict):
            inp = {**inp, "stageFolders": {k: _rooted(v) for k, v in inp["stageFolders"].items()}}
        with _workflow_spec_replaced(ctx, ctx.subject, rooted_stages):
            return handler(ctx, inp)

    return wrapped


def _links_to_first_stage(handler: Handler) -> Handler:
    """Every stage input bound to another stage's output is bound to the first stage's output instead."""

    def relinked(value: Any, first: str) -> Any:
        if isinstance(value, dict):
            ref = value.get("$dnanexus_link")
            if len(value) == 1 and isinstance(ref, dict) and "stage" in ref and "outputField" in ref:
                return {"$dnanexus_link": {**ref, "stage": first}}
            return {k: relinked(v, first) for k, v in value.items()}
        if isinstance(value, list):
            return [relinked(v, first) for v in value]
        return value

    def first_stage_links(spec: dict) -> dict:
        stages = spec.get("stages") or []
        if not stages:
            return spec
        first = stages[0]["id"]
        return {**spec, "stages": [stages[0]] + [{**s, "input": relinked(s.get("input") or {}, first)}
                                                  for s in stages[1:]]}

    def wrapped(ctx, inp):
        with _workflow_spec_replaced(ctx, ctx.subject, first_stage_links):
            return handler(ctx, inp)

    return wrapped


# -- analyses: states (the job service's settle step) ---------------------------------------------------------
@contextmanager
def _job_states_replaced(ctx, states: dict[str, str]) -> Iterator[None]:
    """For the length of the block, jobs.state of the jobs `states` names (job ID -> state); put back after."""
    saved = {job_id: ctx.conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()["state"]
             for job_id in states}
    for job_id, state in states.items():
        ctx.conn.execute("UPDATE jobs SET state = ? WHERE id = ?", (state, job_id))
    try:
        yield
    finally:
        for job_id, state in saved.items():
            ctx.conn.execute("UPDATE jobs SET state = ? WHERE id = ?", (state, job_id))


def _failed_stages_as_done(steps):
    """The analyses are settled with their failed stage jobs taken for done: an analysis whose stages all ended
    is done (with the output the others gave), whichever failed."""

    def settle(ctx, *args, **kwargs):
        failed = {r["id"]: "done" for r in ctx.conn.execute(
            "SELECT j.id FROM jobs j JOIN analyses a ON a.id = j.analysis WHERE j.state = 'failed' AND "
            "a.state IN ('in_progress', 'partially_failed')")}
        with _job_states_replaced(ctx, failed):
            return steps.settle_analyses(ctx, *args, **kwargs)

    return dataclasses.replace(steps, settle_analyses=settle)


def _never_settled(steps):
    """Analyses are never settled after a scheduler step: one stays in_progress whatever its stages do
    (terminate still ends it: analyses.terminate settles the one it terminates)."""
    return dataclasses.replace(steps, settle_analyses=lambda ctx, *args, **kwargs: None)


# -- execution describes in answers ---------------------------------------------------------------------------
def _each_describe(out: Any, prefix: str, fn: Callable[[dict], dict]) -> Any:
    """`out` with fn applied to every describe of an execution whose ID starts with `prefix` that it holds:
    the answer of a describe, of a search (results[].describe), of describeExecutions ([].describe), and the
    stage jobs inside an analysis describe (stages[].execution)."""
    if isinstance(out, list):
        return [_each_describe(item, prefix, fn) for item in out]
    if not isinstance(out, dict):
        return out
    if isinstance(out.get("results"), list):
        return {**out, "results": [_each_describe(r, prefix, fn) for r in out["results"]]}
    if isinstance(out.get("describe"), dict):
        return {**out, "describe": _each_describe(out["describe"], prefix, fn)}
    if isinstance(out.get("stages"), list) and str(out.get("id", "")).startswith("analysis-"):
        stages = [{**s, "execution": _each_describe(s["execution"], prefix, fn)}
                  if isinstance(s, dict) and isinstance(s.get("execution"), dict) else s for s in out["stages"]]
        out = {**out, "stages": stages}
    return fn(dict(out)) if str(out.get("id", "")).startswith(prefix) else out


def _describes(prefix: str, fn: Callable[[dict], dict]) -> Callable[[Handler], Handler]:
    return wrap_output(lambda out: _each_describe(out, prefix, fn))


def _without_workflow_outputs(d: dict) -> dict:
    """A done analysis' output keeps only its "<stageID>.<field>" keys (stage IDs have no dot)."""
    output = d.get("output")
    if isinstance(output, dict):
        return {**d, "output": {k: v for k, v in output.items() if "." in k}}
    return d


def _analysis_forgotten(d: dict) -> dict:
    """A stage job describes no analysis and no stage."""
    if d.get("analysis") is None and d.get("parentAnalysis") is None:
        return d
    return {**d, **{k: None for k in ("parentAnalysis", "analysis", "stage") if k in d}}


def _analyses_left_out_by_executable(handler: Handler) -> Handler:
    """A search by an applet's or app's ID finds its jobs only, not the analyses with a stage running it."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        executable = inp.get("executable") if isinstance(inp, dict) else None
        if id_class(executable) in ("applet", "app") and isinstance(out, dict) and isinstance(out.get("results"), list):
            return {**out, "results": [r for r in out["results"]
                                       if not (isinstance(r, dict) and str(r.get("id", "")).startswith("analysis-"))]}
        return out

    return wrapped


# -- apps and global workflows -------------------------------------------------------------------------------
def _subject_parts(subject: str | None) -> tuple[str, str, str] | None:
    """(class, name, alias) of a subject that names a version by name ("app-<name>" or "app-<name>/<alias>",
    alias "" when absent); None for a hash ID."""
    if not subject:
        return None
    named, _, alias = subject.partition("/")
    if id_class(named) is not None:
        return None
    for cls in global_executables.CLASSES:
        if named.startswith(cls + "-"):
            return cls, named[len(cls) + 1:], alias
    return None


def _default_is_newest(handler: Handler) -> Handler:
    """`<class>-<name>` (the "default" alias) resolves to the newest version of the name, not the aliased one."""

    def wrapped(ctx, inp):
        parts = _subject_parts(ctx.subject)
        if parts is None or parts[2]:
            return handler(ctx, inp)
        cls, name, _ = parts
        newest = ctx.conn.execute("SELECT version FROM global_executables WHERE class = ? AND name = ? AND "
                                  "deleted = 0 ORDER BY seq DESC LIMIT 1", (cls, name)).fetchone()
        if newest is None:
            return handler(ctx, inp)
        return handler(dataclasses.replace(ctx, subject=f"{cls}-{name}/{newest['version']}"), inp)

    return wrapped


def _versions_of_subject(ctx) -> list[Any]:
    """The rows the subject may name: the one of a hash ID, or every version of a name."""
    parts = _subject_parts(ctx.subject)
    if parts is None:
        return ctx.conn.execute("SELECT * FROM global_executables WHERE id = ?",
                                ((ctx.subject or "").partition("/")[0],)).fetchall()
    return ctx.conn.execute("SELECT * FROM global_executables WHERE class = ? AND name = ?",
                            parts[:2]).fetchall()


def _unpublished_shown(handler: Handler) -> Handler:
    """For the length of a call that looks at or runs a version, the unpublished versions it may name count as
    published for the caller (published, with the caller authorized): anyone sees and runs them."""

    def wrapped(ctx, inp):
        hidden = [r for r in _versions_of_subject(ctx) if r["published"] is None
                  and not global_executables.is_developer(ctx, r["class"], r["name"])]
        added = []
        for row in hidden:
            ctx.conn.execute("UPDATE global_executables SET published = ? WHERE id = ?", (ctx.now, row["id"]))
            key = (row["class"], row["name"], global_executables.AUTHORIZED, ctx.user)
            if ctx.conn.execute("SELECT 1 FROM global_principals WHERE class = ? AND name = ? AND role = ? AND "
                                "principal = ?", key).fetchone() is None:
                ctx.conn.execute("INSERT INTO global_principals(class, name, role, principal) VALUES (?, ?, ?, ?)",
                                 key)
                added.append(key)
        try:
            return handler(ctx, inp)
        finally:
            for row in hidden:
                ctx.conn.execute("UPDATE global_executables SET published = NULL WHERE id = ?", (row["id"],))
            for key in added:
                ctx.conn.execute("DELETE FROM global_principals WHERE class = ? AND name = ? AND role = ? AND "
                                 "principal = ?", key)

    return wrapped


def _publish_twice_accepted(handler: Handler) -> Handler:
    """publish of a version already published answers as if it had published it (nothing changes)."""

    def wrapped(ctx, inp):
        cls = ctx.route.split("/")[1].removesuffix("-xxxx")
        row = global_executables.resolve(ctx, cls, ctx.subject)
        if row["published"] is not None and global_executables.is_developer(ctx, cls, row["name"]):
            return {"id": row["id"]}
        return handler(ctx, inp)

    return wrapped


def _anyone_adds_developers(handler: Handler) -> Handler:
    """addDevelopers by a caller who is not a developer of the name is done as if they were one."""

    def wrapped(ctx, inp):
        cls = ctx.route.split("/")[1].removesuffix("-xxxx")
        row = global_executables.resolve(ctx, cls, ctx.subject)
        if global_executables.is_developer(ctx, cls, row["name"]):
            return handler(ctx, inp)
        key = (cls, row["name"], global_executables.DEVELOPER, ctx.user)
        ctx.conn.execute("INSERT INTO global_principals(class, name, role, principal) VALUES (?, ?, ?, ?)", key)
        try:
            return handler(ctx, inp)
        finally:
            named = inp.get("developers") if isinstance(inp, dict) else None
            if not (isinstance(named, list) and ctx.user in named):
                ctx.conn.execute("DELETE FROM global_principals WHERE class = ? AND name = ? AND role = ? AND "
                                 "principal = ?", key)

    return wrapped


# -- the faults ---------------------------------------------------------------------------------------------
WORKFLOW_FAULTS = frozenset(f.name for f in (
    # workflows: editVersion, closed workflows
    fault(Fault("stale-edit-version-accepted", "semantics",
                "an edit of a workflow whose editVersion is not the current one is refused and not applied",
                routes=EDIT_ROUTES, wrap=_stale_version_accepted)),
    fault(Fault("edit-version-not-incremented", "semantics",
                "an edit that changes a workflow answers (and leaves) editVersion one more than the given one",
                routes=EDIT_ROUTES, wrap=_version_kept)),
    fault(Fault("no-op-edit-bumps-edit-version", "semantics",
                "an edit that changes nothing keeps the workflow's editVersion", routes=EDIT_ROUTES,
                wrap=_no_op_bumps)),
    fault(Fault("closed-workflow-editable", "semantics", "a closed workflow cannot be edited (InvalidState)",
                routes=EDIT_ROUTES, wrap=_closed_edited)),
    # workflow runs
    fault(Fault("run-values-lose-to-bindings", "semantics",
                "a run's \"<stage>.<field>\" value replaces the stage's binding of that input",
                routes=WORKFLOW_RUN_ROUTES, wrap=_run_input_rewritten(_bound_values_win))),
    fault(Fault("workflow-inputs-dropped", "semantics",
                "a run's workflow-level input reaches the stage inputs bound to it (workflowInputField)",
                routes=WORKFLOW_RUN_ROUTES, wrap=_run_input_rewritten(_workflow_inputs_dropped))),
    fault(Fault("stage-links-to-first-stage", "semantics",
                "a stage input bound to another stage's output gets that stage's output, not the first stage's",
                routes=WORKFLOW_RUN_ROUTES, wrap=_links_to_first_stage)),
    fault(Fault("relative-stage-folder-at-root", "semantics",
                "a relative stage folder lands under the run's folder, else the workflow's outputFolder",
                routes=WORKFLOW_RUN_ROUTES, wrap=_relative_folders_rooted)),
    fault(Fault("stage-folders-ignored", "semantics", "a run's stageFolders place the stages they name (or \"*\")",
                routes=WORKFLOW_RUN_ROUTES, wrap=_run_input_rewritten(_stage_folders_dropped))),
    # analyses
    fault(Fault("analysis-done-despite-failed-stage", "semantics",
                "an analysis with a failed stage job ends failed, not done", steps=_failed_stages_as_done)),
    fault(Fault("analysis-stuck-in-progress", "semantics",
                "an analysis whose stage jobs are all done is done", steps=_never_settled)),
    fault(Fault("analysis-output-without-workflow-outputs", "semantics",
                "a done analysis' output has the workflow's outputs by name besides the \"<stage>.<field>\" ones",
                routes=ANALYSIS_DESCRIBE_ROUTES, wrap=_describes("analysis-", _without_workflow_outputs))),
    fault(Fault("stage-job-without-analysis", "semantics",
                "a stage job describes its analysis (parentAnalysis, analysis) and its stage",
                routes=JOB_DESCRIBE_ROUTES, wrap=_describes("job-", _analysis_forgotten))),
    fault(Fault("find-by-applet-misses-analyses", "semantics",
                "findExecutions by an applet finds the analyses with a stage running it, besides its jobs",
                routes=SEARCHES_BY_EXECUTABLE, wrap=_analyses_left_out_by_executable)),
    # apps and global workflows
    fault(Fault("default-alias-is-newest-version", "semantics",
                "app-<name> resolves to the version holding the \"default\" alias, not to the newest one",
                routes=GLOBAL_ROUTES, wrap=_default_is_newest)),
    fault(Fault("unpublished-app-shown-to-others", "semantics",
                "an unpublished app version is seen and run only by the developers of its name",
                routes=GLOBAL_READ_ROUTES, wrap=_unpublished_shown)),
    fault(Fault("publish-twice-accepted", "semantics", "publishing a version that is already published is "
                "refused (InvalidState)",
                routes=tuple(f"/{cls}-xxxx/publish" for cls in global_executables.CLASSES),
                wrap=_publish_twice_accepted)),
    fault(Fault("non-developer-adds-developers", "semantics",
                "only a developer of a name adds developers to it",
                routes=tuple(f"/{cls}-xxxx/addDevelopers" for cls in global_executables.CLASSES),
                wrap=_anyone_adds_developers)),
))
