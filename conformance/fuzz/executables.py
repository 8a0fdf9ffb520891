"""Harmless executables: the fixed code of every applet the fuzzer makes, what every client sends to the
executable routes, and the routes that start jobs.

The fuzzer never sends generated code. Whatever runSpec it draws for /applet/new, `code` is replaced by a
fixed do-nothing program for the drawn interpreter (bash `true`, python3 `pass`), so a job of any applet the
run made ends at once; the inputSpec, outputSpec and the other runSpec keys stay generated. Every job a run
starts is terminated in its cleanup (Session.cleanup), and the pool's own job never starts: it depends on an
open record.

Two keys the schemas leave optional are always sent by clients, so the fuzzer sends them too (else most
drawn bodies would be refused for their absence, and a broken constraint elsewhere would go untested):
`dxapi` of /applet/new (dxpy refuses to call without it) and `project` of /applet-xxxx/run (dxpy sends it
whenever it runs outside a job, as the fuzzer does)."""

from __future__ import annotations

from typing import Any

from .steps import placeholder

APPLET_NEW = "/applet/new"
APPLET_RUN = "/applet-xxxx/run"
# Routes whose answer's `id` is a job the run started (terminated in cleanup).
JOB_STARTING_ROUTES = frozenset({APPLET_RUN, "/job/new"})
# Instance classes made by a call on another object rather than by a */new route: class -> that route.
MADE_BY_CALL = {"job": APPLET_RUN}
CODE_PATH = ("runSpec", "code")
HARMLESS_CODE = {"bash": "true", "python3": "pass", "python2.7": "pass"}
DEFAULT_INTERPRETER = "bash"
# The pool's applet: no inputSpec (any input is taken), fixed code.
POOL_RUN_SPEC = {"interpreter": DEFAULT_INTERPRETER, "code": HARMLESS_CODE[DEFAULT_INTERPRETER],
                 "distribution": "Ubuntu", "release": "24.04", "version": "0"}
DXAPI = "1.0.0"


def as_clients_send(route: str, body: Any) -> Any:
    """`body` as a client outside a job sends it: harmless applet code, and `dxapi` / `project` when absent."""
    if not isinstance(body, dict):
        return body
    if route == APPLET_RUN and "project" not in body:
        return {**body, "project": placeholder("project")}
    if route == APPLET_NEW:
        return harmless(route, body if "dxapi" in body else {**body, "dxapi": DXAPI})
    return body


def harmless(route: str, body: Any) -> Any:
    """`body` with the applet's code fixed when `route` makes an applet (and runSpec is an object); any
    other body as it is."""
    if route != APPLET_NEW or not isinstance(body, dict) or not isinstance(body.get("runSpec"), dict):
        return body
    run_spec = body["runSpec"]
    interpreter = run_spec.get("interpreter")
    if not isinstance(interpreter, str) or interpreter not in HARMLESS_CODE:
        interpreter = DEFAULT_INTERPRETER   # the server refuses it; were it taken, `true` is still harmless
    return {**body, "runSpec": {**run_spec, "code": HARMLESS_CODE[interpreter]}}


def fixed_path(route: str, path: tuple) -> bool:
    """Whether the fuzzer fixes the value at `path` of `route`'s body (no edge value may go there)."""
    return route == APPLET_NEW and path[: len(CODE_PATH)] == CODE_PATH
