"""Harmless executables: the fixed code of every applet (and app) the fuzzer makes, what every client sends
to the executable routes, and the routes that start jobs and analyses.

The fuzzer never sends generated code. Whatever runSpec it draws for /applet/new (or /app-xxxx/update, the
one app route that takes a runSpec), `code` is replaced by a fixed do-nothing program for the drawn
interpreter (bash `true`, python3 `pass`), so a job of any applet or app the run made ends at once; the
inputSpec, outputSpec and the other runSpec keys stay generated. Apps are made from the run's applets, and
the stages of workflows and global workflows run the run's applets and apps, so their jobs end at once too.
Every job and analysis a run starts is terminated in its cleanup (Session.cleanup), and the pool's own job
and analysis never start: they depend on an open record.

Keys the schemas leave optional are always sent by clients, so the fuzzer sends them too (else most drawn
bodies would be refused for their absence, and a broken constraint elsewhere would go untested): `dxapi` of
/applet/new (dxpy refuses to call without it), and `project` and `input` of the run routes (dxpy sends the
project whenever it runs outside a job, as the fuzzer does, and always an input; for /applet-xxxx/run only
the project, as before). And the workflow edit routes get the workflow's current `editVersion`, read just
before the call (execute.py), where a valid body carries one: dxpy reads it from describe when the caller names
none, and a drawn one would almost always be stale, so the edit itself would never be fuzzed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .steps import Step, placeholder

APPLET_NEW = "/applet/new"
APPLET_RUN = "/applet-xxxx/run"
APP_RUN = "/app-xxxx/run"
APP_UPDATE = "/app-xxxx/update"
WORKFLOW_RUN = "/workflow-xxxx/run"
GLOBALWORKFLOW_RUN = "/globalworkflow-xxxx/run"
# Routes whose answer's `id` is a job the run started (terminated in cleanup).
JOB_STARTING_ROUTES = frozenset({APPLET_RUN, APP_RUN, "/job/new"})
# Routes whose answer's `id` is an analysis the run started (terminated in cleanup).
ANALYSIS_STARTING_ROUTES = frozenset({WORKFLOW_RUN, GLOBALWORKFLOW_RUN})
# Routes whose answer's `id` is an app or global workflow: not in any project, deleted in cleanup. Their names
# are global on a server: the run prefix leads every name the fuzzer sends them (strategies.py), never an edge.
GLOBAL_MAKING_ROUTES = frozenset({"/app/new", "/globalworkflow/new"})
NAME_PATH = ("name",)
# Instance classes made by a call on another object rather than by a */new route: class -> those routes.
MADE_BY_CALL = {"job": (APPLET_RUN, APP_RUN), "analysis": (WORKFLOW_RUN, GLOBALWORKFLOW_RUN)}
# Calls clients make on an executable before they run it: a workflow's stages added, an app published.
BEFORE_RUN = frozenset({"/workflow-xxxx/addStage", "/app-xxxx/publish", "/globalworkflow-xxxx/publish"})
# What a stateful sequence sends half the time to a run, and to /app/new (with a drawn version): the plainest
# body a client sends, so that the object made is there for the calls after it (a drawn run input names inputs
# a workflow does not have; a drawn /app/new mostly names no applet).
PLAIN_RUN = {"input": {}}
PLAIN_APP_NEW = {"applet": placeholder("applet"), "name": "s"}
# Routes whose runSpec may carry code: it is always fixed.
CODE_ROUTES = frozenset({APPLET_NEW, APP_UPDATE})
# Run routes to which clients always send a project and an input.
RUNS_WITH_INPUT = frozenset({APP_RUN, WORKFLOW_RUN, GLOBALWORKFLOW_RUN})
CODE_PATH = ("runSpec", "code")
# Workflow routes that name the current edit version; the fuzzer sends the one the workflow has.
EDIT_ROUTES = frozenset({"/workflow-xxxx/addStage", "/workflow-xxxx/removeStage", "/workflow-xxxx/moveStage",
                         "/workflow-xxxx/update", "/workflow-xxxx/updateStageExecutable", "/workflow-xxxx/overwrite",
                         "/workflow-xxxx/isStageCompatible"})
EDIT_VERSION_PATH = ("editVersion",)
HARMLESS_CODE = {"bash": "true", "python3": "pass", "python2.7": "pass"}
DEFAULT_INTERPRETER = "bash"
# The pool's applet: no inputSpec (any input is taken), fixed code.
POOL_RUN_SPEC = {"interpreter": DEFAULT_INTERPRETER, "code": HARMLESS_CODE[DEFAULT_INTERPRETER],
                 "distribution": "Ubuntu", "release": "24.04", "version": "0"}
DXAPI = "1.0.0"


def as_clients_send(route: str, body: Any) -> Any:
    """`body` as a client outside a job sends it: harmless code, and `dxapi` / `project` / `input` when absent."""
    if not isinstance(body, dict):
        return body
    if route == APPLET_RUN and "project" not in body:
        return {**body, "project": placeholder("project")}
    if route in RUNS_WITH_INPUT:
        return {"project": placeholder("project"), "input": {}, **body}
    if route == APPLET_NEW:
        return harmless(route, body if "dxapi" in body else {**body, "dxapi": DXAPI})
    return harmless(route, body)


def harmless(route: str, body: Any) -> Any:
    """`body` with the code fixed when `route` makes an applet or changes an app (and runSpec is an object);
    any other body as it is."""
    if route not in CODE_ROUTES or not isinstance(body, dict) or not isinstance(body.get("runSpec"), dict):
        return body
    run_spec = body["runSpec"]
    interpreter = run_spec.get("interpreter")
    if not isinstance(interpreter, str) or interpreter not in HARMLESS_CODE:
        interpreter = DEFAULT_INTERPRETER   # the server refuses it; were it taken, `true` is still harmless
    return {**body, "runSpec": {**run_spec, "code": HARMLESS_CODE[interpreter]}}


def fixed_path(route: str, path: tuple) -> bool:
    """Whether the fuzzer fixes the value at `path` of `route`'s body (no edge value may go there)."""
    return (route in CODE_ROUTES and path[: len(CODE_PATH)] == CODE_PATH) or \
        (route in EDIT_ROUTES and path == EDIT_VERSION_PATH) or (route in GLOBAL_MAKING_ROUTES and path == NAME_PATH)


def takes_current_edit_version(step: Step) -> bool:
    """Whether `step` is a valid workflow edit naming an edit version: it is sent with the current one."""
    body = step.body
    return step.route in EDIT_ROUTES and step.violation is None and step.raw is None and \
        isinstance(body, dict) and type(body.get("editVersion")) is int


def with_edit_version(step: Step, version: int) -> Step:
    return replace(step, body={**step.body, "editVersion": version})
