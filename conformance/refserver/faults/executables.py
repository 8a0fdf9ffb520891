"""Deliberate faults of applets and jobs: run input checks, nonces, the job machinery, job describe, search, tokens.

Registered into FAULTS on import (the package imports every fault module). Each breaks exactly one documented
rule (EXECUTABLES-DIGEST 3-6; docs/selftest.md) in one of three ways: it wraps the handler of a few routes
(rewriting their input or answer, or editing the store around them inside the request's transaction), it
drops a route's nonce, or it wraps the steps the job service takes on the store (`Fault.steps`:
job_service.Steps) and edits the store around them inside that step's transaction, for rules that show in
how jobs move rather than in one answer. Neither the handlers nor executions.py know faults exist.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import iospec, objects
from ..db import dumps, loads
from .helpers import call_with_view, wrap_output
from .registry import Fault, Handler, fault

# Answers that hold job describes: one (describe), in search results, or in a bulk describe's items.
JOB_DESCRIBE_ROUTES = ("/job-xxxx/describe", "/system/findExecutions", "/system/findJobs",
                       "/system/describeExecutions")
SEARCH_ROUTES = ("/system/findExecutions", "/system/findJobs")
RUN_ROUTES = ("/applet-xxxx/run",)
# Jobs that have not started: what decides when they do is looked at by executions.advance.
NOT_STARTED = ("idle", "waiting_on_input")
# A JBOR hidden from the job machinery (jbor-not-awaited): the key it is kept under, as JSON text.
HIDDEN_JBOR_KEY = "$dxconform_fault_hidden_jbor"


# -- job describes in answers ------------------------------------------------------------------------------
def _each_job_describe(out: Any, fn: Callable[[dict], dict]) -> Any:
    """`out` with fn applied to every job describe it holds: the answer of job describe, of findExecutions
    (results[].describe) or of describeExecutions ([].describe)."""
    if isinstance(out, list):
        return [_each_job_describe(item, fn) for item in out]
    if not isinstance(out, dict):
        return out
    if isinstance(out.get("results"), list):
        return {**out, "results": [_each_job_describe(r, fn) for r in out["results"]]}
    if isinstance(out.get("describe"), dict):
        return {**out, "describe": _each_job_describe(out["describe"], fn)}
    return fn(dict(out)) if str(out.get("id", "")).startswith("job-") else out


def _job_describes(fn: Callable[[dict], dict]) -> Callable[[Handler], Handler]:
    return wrap_output(lambda out: _each_job_describe(out, fn))


def _failed_as_done(d: dict) -> dict:
    return {**d, "state": "done"} if d.get("state") == "failed" else d


def _transitions_reversed(d: dict) -> dict:
    value = d.get("stateTransitions")
    return {**d, "stateTransitions": value[::-1]} if isinstance(value, list) and len(value) > 1 else d


def _started_in_seconds(d: dict) -> dict:
    value = d.get("startedRunning")
    return {**d, "startedRunning": value // 1000} if isinstance(value, int) and not isinstance(value, bool) else d


def _parent_forgotten(d: dict) -> dict:
    return {**d, "parentJob": None} if d.get("parentJob") is not None else d


def _without_failure_reason(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "failureReason"}


# -- run: the applet's inputSpec, loosened for the length of one call ------------------------------------------
def _input_spec_loosened(loosen: Callable[[dict], dict]) -> Callable[[Handler], Handler]:
    """/applet-xxxx/run sees the applet's inputSpec with each entry loosen(entry); the stored spec is put back
    after the call (inside the request's transaction, so nobody sees the loosened one)."""

    def wrap(handler: Handler) -> Handler:
        def wrapped(ctx, inp):
            row = ctx.conn.execute("SELECT spec FROM applets WHERE id = ?", (ctx.subject,)).fetchone()
            spec = loads(row["spec"]) if row is not None else {}
            if not isinstance(spec.get("inputSpec"), list):
                return handler(ctx, inp)
            loosened = {**spec, "inputSpec": [loosen(dict(entry)) for entry in spec["inputSpec"]]}
            ctx.conn.execute("UPDATE applets SET spec = ? WHERE id = ?", (dumps(loosened), ctx.subject))
            try:
                return handler(ctx, inp)
            finally:
                ctx.conn.execute("UPDATE applets SET spec = ? WHERE id = ?", (row["spec"], ctx.subject))

        return wrapped

    return wrap


def _optional(entry: dict) -> dict:
    return {**entry, "optional": True}


def _without_choices(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "choices"}


# -- routes ----------------------------------------------------------------------------------------------
def _terminate_does_nothing(handler: Handler) -> Handler:
    return lambda ctx, inp: {"id": ctx.subject}


def _later_pages_lose_their_first(handler: Handler) -> Handler:
    """A page asked for with `starting` (the second and later) comes without its first result."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        if isinstance(inp, dict) and inp.get("starting") is not None and isinstance(out, dict) \
                and out.get("results"):
            return {**out, "results": out["results"][1:]}
        return out

    return wrapped


def _describe_with_code(handler: Handler) -> Handler:
    """Applet describe's runSpec keeps its code (which only /applet-xxxx/get gives)."""

    def wrapped(ctx, inp):
        out = handler(ctx, inp)
        code = (objects.applet_spec(ctx, ctx.subject).get("runSpec") or {}).get("code")
        if isinstance(out, dict) and isinstance(out.get("runSpec"), dict) and code is not None:
            return {**out, "runSpec": {**out["runSpec"], "code": code}}
        return out

    return wrapped


def _job_reads_any_container(handler: Handler) -> Handler:
    """A job's token gets VIEW on the project (or container) in the URL for the length of the call, whoever's
    it is (its rights are its members rows: executions.py grants them at launch)."""

    def wrapped(ctx, inp):
        if ctx.job is None:
            return handler(ctx, inp)
        return call_with_view(ctx, ctx.job, handler, inp)

    return wrapped


# -- the job machinery (Fault.steps) ----------------------------------------------------------------------
@contextmanager
def _columns_replaced(ctx, table: str, key: str, column: str, rows: dict[str, str]) -> Iterator[None]:
    """For the length of the block, `column` of the rows `rows` names (key value -> new text); put back after."""
    saved = {k: ctx.conn.execute(f"SELECT {column} FROM {table} WHERE {key} = ?", (k,)).fetchone()[column]
             for k in rows}
    for k, value in rows.items():
        ctx.conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (value, k))
    try:
        yield
    finally:
        for k, value in saved.items():
            ctx.conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (value, k))


def _never_starts(steps):
    """advance sees no free process slot: a runnable job stays runnable."""
    return dataclasses.replace(steps, advance=lambda ctx, free_slots, *a, **kw: steps.advance(ctx, 0, *a, **kw))


def _output_specs_hidden(ctx) -> dict[str, str]:
    """The applets of the jobs that may finish now, their spec without outputSpec (applet ID -> JSON)."""
    hidden = {}
    for r in ctx.conn.execute("SELECT DISTINCT a.id, a.spec FROM applets a JOIN jobs j ON j.executable = a.id "
                              "WHERE j.state IN ('running', 'waiting_on_output')"):
        spec = loads(r["spec"])
        if "outputSpec" in spec:
            hidden[r["id"]] = dumps({k: v for k, v in spec.items() if k != "outputSpec"})
    return hidden


def _output_unchecked(steps):
    """A job's output is taken as it is: the outputSpec of its applet is out of sight while the job ends."""

    def around(step):
        def wrapped(ctx, *args, **kwargs):
            with _columns_replaced(ctx, "applets", "id", "spec", _output_specs_hidden(ctx)):
                return step(ctx, *args, **kwargs)

        return wrapped

    return dataclasses.replace(steps, advance=around(steps.advance), process_ended=around(steps.process_ended))


def _not_started(ctx, column: str) -> list[tuple[str, Any]]:
    marks = ",".join("?" * len(NOT_STARTED))
    return [(r["id"], loads(r[column])) for r in ctx.conn.execute(
        f"SELECT id, {column} FROM jobs WHERE state IN ({marks})", NOT_STARTED)]


def _dependencies_ignored(steps):
    """advance sees every job that has not started without its dependsOn (describe still shows it)."""

    def advance(ctx, *args, **kwargs):
        emptied = {job_id: "[]" for job_id, deps in _not_started(ctx, "depends_on") if deps}
        with _columns_replaced(ctx, "jobs", "id", "depends_on", emptied):
            return steps.advance(ctx, *args, **kwargs)

    return dataclasses.replace(steps, advance=advance)


def _walk(value: Any, replace: Callable[[Any], Any | None]) -> Any:
    """`value` with each node for which replace(node) is not None replaced by it (not looking inside those)."""
    new = replace(value)
    if new is not None:
        return new
    if isinstance(value, list):
        return [_walk(v, replace) for v in value]
    if isinstance(value, dict) and not iospec.is_link(value):
        return {k: _walk(v, replace) for k, v in value.items()}
    return value


def _jbors_hidden(ctx, value: Any) -> Any:
    """JBORs to jobs that are not done, each kept as JSON text under a key the job machinery does not know."""

    def hide(node: Any) -> Any | None:
        parts = iospec.jbor_parts(node)
        if parts is None:
            return None
        row = ctx.conn.execute("SELECT state FROM jobs WHERE id = ?", (parts[0],)).fetchone()
        return {HIDDEN_JBOR_KEY: json.dumps(node)} if row is None or row["state"] != "done" else node

    return _walk(value, hide)


def _jbors_shown(value: Any) -> Any:
    def show(node: Any) -> Any | None:
        if isinstance(node, dict) and set(node) == {HIDDEN_JBOR_KEY}:
            return json.loads(node[HIDDEN_JBOR_KEY])
        return None

    return _walk(value, show)


def _jbors_not_awaited(steps):
    """advance takes a JBOR to a job that is not done for a plain value: the consumer starts at once, with the
    JBOR itself in its input (job_input.json); its stored input is put back after the step."""

    def advance(ctx, *args, **kwargs):
        hidden = {}
        for job_id, original in _not_started(ctx, "original_input"):
            changed = _jbors_hidden(ctx, original)
            if changed != original:
                hidden[job_id] = dumps(changed)
        with _columns_replaced(ctx, "jobs", "id", "original_input", hidden):
            launches = steps.advance(ctx, *args, **kwargs)
        return [dataclasses.replace(launch, input=_jbors_shown(launch.input)) for launch in launches]

    return dataclasses.replace(steps, advance=advance)


# -- the faults ---------------------------------------------------------------------------------------------
EXECUTABLE_FAULTS = frozenset(f.name for f in (
    # run input (the applet's inputSpec)
    fault(Fault("run-accepts-missing-input", "semantics",
                "a run without a required input (not optional, no default) is refused",
                routes=RUN_ROUTES, wrap=_input_spec_loosened(_optional))),
    fault(Fault("run-ignores-choices", "semantics", "a run input that is not among its entry's choices is refused",
                routes=RUN_ROUTES, wrap=_input_spec_loosened(_without_choices))),
    fault(Fault("run-nonce-not-idempotent", "semantics",
                "a repeated nonce on /applet-xxxx/run with the same input returns the same job",
                routes=RUN_ROUTES + ("/job/new",), drop_nonce=True)),
    # the job machinery
    fault(Fault("job-never-leaves-runnable", "semantics", "a runnable job starts running (and goes on to end)",
                steps=_never_starts)),
    fault(Fault("output-not-validated", "semantics",
                "a job whose output does not follow the outputSpec fails with OutputError",
                steps=_output_unchecked)),
    fault(Fault("jbor-not-awaited", "semantics",
                "a job whose input holds a JBOR waits (waiting_on_input) until the referenced job is done, "
                "and runs with the resolved value",
                steps=_jbors_not_awaited)),
    fault(Fault("depends-on-ignored", "semantics", "a job waits until every job and object of its dependsOn is "
                "done or closed", steps=_dependencies_ignored)),
    fault(Fault("terminate-does-nothing", "semantics", "terminate moves a running job to terminating, then terminated",
                routes=("/job-xxxx/terminate",), wrap=_terminate_does_nothing)),
    # job describe
    fault(Fault("failed-job-reported-done", "semantics", "a job that failed is described in state failed",
                routes=JOB_DESCRIBE_ROUTES, wrap=_job_describes(_failed_as_done))),
    fault(Fault("state-transitions-reversed", "semantics",
                "stateTransitions lists the job's states in the order they happened (setAt non-decreasing)",
                routes=JOB_DESCRIBE_ROUTES, wrap=_job_describes(_transitions_reversed))),
    fault(Fault("started-running-in-seconds", "data-types",
                "startedRunning is a timestamp in milliseconds since the epoch",
                routes=JOB_DESCRIBE_ROUTES, wrap=_job_describes(_started_in_seconds))),
    fault(Fault("subjob-parent-null", "semantics", "a subjob's describe names its parent job (parentJob)",
                routes=JOB_DESCRIBE_ROUTES, wrap=_job_describes(_parent_forgotten))),
    fault(Fault("failure-reason-missing", "semantics", "a failed job's describe has failureReason",
                routes=JOB_DESCRIBE_ROUTES, wrap=_job_describes(_without_failure_reason))),
    # search, applet describe, tokens
    fault(Fault("find-executions-paging-skips", "semantics",
                "paging findExecutions with starting/next never skips a job",
                routes=SEARCH_ROUTES, wrap=_later_pages_lose_their_first)),
    fault(Fault("applet-describe-leaks-code", "semantics",
                "applet describe gives runSpec without its code (only /applet-xxxx/get gives the code)",
                routes=("/applet-xxxx/describe",), wrap=_describe_with_code)),
    fault(Fault("job-token-reads-any-project", "auth",
                "a job's token reaches only what its job was granted (not another user's project)",
                routes=tuple(f"/{c}-xxxx/{m}" for c in ("project", "container") for m in ("describe", "listFolder")),
                wrap=_job_reads_any_container)),
))
