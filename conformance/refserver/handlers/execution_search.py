"""/system/findExecutions, findJobs, findAnalyses, describeExecutions: searching and bulk-describing executions.

Visibility, as executions.visible_job decides it for /job-xxxx/describe: a job is visible to a caller
(`ctx.member`: the user, or the job of a job token) holding any level on the job's project, and to the jobs of
its own job tree. A job the caller cannot see is never found, and described only as ResourceNotFound.

Order and paging: newest first (jobs.seq DESC). `next` is {"id": <the first job of the following page>} and
`starting` resumes there, inclusively. Jobs are never deleted and their seq never changes, so paging neither
skips nor repeats a job, also when jobs are created between pages (they land before the cursor). A `starting`
that is not a job the caller can see is refused with InvalidInput: it cannot be the `next` of an answer.
`limit` is clamped to 1000 as for findDataObjects (query.limit).

Analyses are executions too: both tables are searched as one (EXECUTIONS_SQL), newest first over one
creation counter. `executable` finds an applet's jobs and the analyses with a stage running it (digest 6, live
test); `parentAnalysis` is the analysis of a stage job (null: executions that are not stages).
`includeRestarted` is checked and has no effect (jobs are never restarted here).
Sources: digest EXECUTABLES §6, schemas/methods/system/{findExecutions,findJobs,describeExecutions}.json.
"""

from __future__ import annotations

import re
from typing import Any

from .. import analyses, executions, query
from ..context import Context
from ..db import dumps
from ..errors import DXError, InvalidInput
from ..ids import id_class
from ..objects import CONTAINER_CLASSES
from ..validate import entity_id
from . import route
from .search import MAX_ITEMS, Check, in_clause, item_error, metadata_checks, page_of, range_clause

JOB_STATES = ("idle", "waiting_on_input", "runnable", "running", "waiting_on_output", "done", "failed",
              "unresponsive", "terminating", "terminated", "debug_hold", "restartable")
ANALYSIS_STATES = ("in_progress", "partially_failed", "done", "failed", "terminating", "terminated")
EXECUTION_STATES = frozenset(JOB_STATES + ANALYSIS_STATES)
EXECUTION_CLASSES = frozenset({"job", "analysis"})
JOB_CLASSES = frozenset({"job"})
ANALYSIS_CLASSES = frozenset({"analysis"})
# Jobs and analyses as one table `j` with the columns the filters and checks use (class says which).
EXECUTIONS_SQL = (
    "(SELECT id, seq, 'job' AS class, name, state, executable, project, launched_by, parent_job, origin_job,"
    " root_execution, analysis AS parent_analysis, created, modified, tags, properties FROM jobs"
    " UNION ALL SELECT id, seq, 'analysis', name, state, executable, project, launched_by, parent_job, NULL,"
    " root_execution, NULL, created, modified, tags, properties FROM analyses)")
# `launchedBy`: a user in handle form; `executable`: any executable's ID (only applets run here).
USER_ID = re.compile(r"^user-[A-Za-z0-9._-]+$")
EXECUTABLE_ID = re.compile(r"^(applet|app|workflow|globalworkflow)-.")
# The describe options of /job-xxxx/describe that describeExecutions also takes at the top level.
DESCRIBE_OPTIONS = ("fields", "defaultFields", "io", "try")


def _describe_options(value: Any, key: str) -> dict:
    """A describe input (`true` = the default describe, or a mapping of job describe options), checked up front
    so that bad options fail the call even when nothing matches."""
    if value is True:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f'expected key "{key}" of input to be true or a hash of describe options')
    executions.describe_options(value)
    return value


# -- findExecutions / findJobs ---------------------------------------------------------------------------
def _id_list(inp: dict, classes: frozenset[str]) -> list[str] | None:
    value = inp.get("id")
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidInput('expected key "id" of input to be an array of ' + "/".join(sorted(classes)) + " IDs")
    return list(dict.fromkeys(entity_id(item, "id[]", classes) for item in value))


def _states(inp: dict) -> list[str] | None:
    value = inp.get("state")
    if value is None:
        return None
    states = [value] if isinstance(value, str) else value
    if not isinstance(states, list) or not all(isinstance(s, str) and s in EXECUTION_STATES for s in states):
        raise InvalidInput('expected key "state" of input to be an execution state or an array of them ('
                           + ", ".join(sorted(EXECUTION_STATES)) + ")")
    return sorted(set(states))


def _execution_filters(inp: dict, classes: frozenset[str]) -> tuple[list[str], list[Any], list[Check]]:
    """The input's filters as SQL conditions over jobs j and Python checks (name, tags, properties) over the
    job row; InvalidInput naming the key of the first malformed filter."""
    where: list[str] = []
    params: list[Any] = []
    checks: list[Check] = []

    def equals(column: str, value: Any) -> None:
        where.append(f"{column} = ?")
        params.append(value)

    cls = inp.get("class")
    if cls is not None and cls not in classes:
        raise InvalidInput('expected key "class" of input to be ' + " or ".join(f'"{c}"' for c in sorted(classes)))
    if cls is not None:
        equals("j.class", cls)
    elif len(classes) == 1:
        equals("j.class", next(iter(classes)))

    ids = _id_list(inp, classes)
    if ids is not None:
        # json_each: one SQL parameter however long the list (SQLite caps the number of parameters).
        where.append("j.id IN (SELECT value FROM json_each(?))")
        params.append(dumps(ids))

    launched_by = inp.get("launchedBy")
    if launched_by is not None:
        if not isinstance(launched_by, str) or not USER_ID.match(launched_by):
            raise InvalidInput('expected key "launchedBy" of input to be a user ID (user-<handle>)')
        equals("j.launched_by", launched_by)
    if inp.get("project") is not None:
        equals("j.project", entity_id(inp["project"], "project", CONTAINER_CLASSES))
    executable = inp.get("executable")
    if executable is not None:
        if not isinstance(executable, str) or not EXECUTABLE_ID.match(executable):
            raise InvalidInput('expected key "executable" of input to be an applet, app, workflow or '
                               "globalworkflow ID")
        where.append("(j.executable = ? OR (j.class = 'analysis' AND EXISTS (SELECT 1 FROM jobs s "
                     "WHERE s.analysis = j.id AND s.executable = ?)))")
        params += [executable, executable]
    # originJob and rootExecution: one ID, or a list of them (dx find jobs asks for the trees of a page of
    # root executions at once: dx.py find_executions).
    for key, column, classes_of in (("originJob", "j.origin_job", JOB_CLASSES),
                                    ("rootExecution", "j.root_execution", EXECUTION_CLASSES)):
        value = inp.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            wanted = [entity_id(v, f"{key}[{i}]", classes_of) for i, v in enumerate(value)]
            clause, values = in_clause(column, wanted)
            where.append(clause)
            params += values
        else:
            equals(column, entity_id(value, key, classes_of))
    if "parentJob" in inp:  # null: jobs without a parent
        if inp["parentJob"] is None:
            where.append("j.parent_job IS NULL")
        else:
            equals("j.parent_job", entity_id(inp["parentJob"], "parentJob", JOB_CLASSES))
    if "parentAnalysis" in inp:  # null: executions that are not the stage of an analysis
        if inp["parentAnalysis"] is None:
            where.append("j.parent_analysis IS NULL")
        else:
            equals("j.parent_analysis", entity_id(inp["parentAnalysis"], "parentAnalysis", ANALYSIS_CLASSES))

    states = _states(inp)
    if states is not None:
        clause, values = in_clause("j.state", states)
        where.append(clause)
        params += values
    for key in ("created", "modified"):
        clauses, values = range_clause(f"j.{key}", query.time_range(inp, key))
        where += clauses
        params += values
    if query.optional_bool(inp, "includeSubjobs") is False:
        where.append("j.parent_job IS NULL")
    query.optional_bool(inp, "includeRestarted")

    checks += metadata_checks(inp)
    return where, params, checks


def _starting_seq(ctx: Context, inp: dict) -> int | None:
    """The seq of the job `starting` names (the `next` of an earlier answer), or None without `starting`."""
    start = query.starting(inp, ("id",))
    if start is None:
        return None
    visible, params = executions.visibility_sql(ctx)
    row = ctx.conn.execute(f"SELECT j.seq FROM {EXECUTIONS_SQL} j WHERE j.id = ? AND {visible}",
                           (start[0], *params)).fetchone()
    if row is None:
        raise InvalidInput('key "starting" of input is not the "next" value of an earlier answer (no execution '
                           "you can see has that ID)")
    return row["seq"]


def _find(ctx: Context, inp: dict, classes: frozenset[str]) -> dict:
    where, params, checks = _execution_filters(inp, classes)
    describe = query.describe_input(inp)
    if describe is not None:
        describe = _describe_options(describe, "describe")
    limit = query.limit(inp)
    start = _starting_seq(ctx, inp)
    if start is not None:
        where.append("j.seq <= ?")
        params.append(start)
    visible, visible_params = executions.visibility_sql(ctx)
    rows = ctx.conn.execute(f"SELECT j.* FROM {EXECUTIONS_SQL} j WHERE {' AND '.join([visible, *where])} "
                            "ORDER BY j.seq DESC", [*visible_params, *params])
    page, following = page_of(rows, checks, limit)
    results = []
    for row in page:
        result: dict[str, Any] = {"id": row["id"]}
        if describe is not None:
            result["describe"] = _describe(ctx, row["id"], describe)
        results.append(result)
    return {"results": results, "next": None if following is None else {"id": following["id"]}}


@route("/system/findExecutions")
def find_executions(ctx: Context, inp: dict) -> dict:
    return _find(ctx, inp, EXECUTION_CLASSES)


@route("/system/findJobs")
def find_jobs(ctx: Context, inp: dict) -> dict:
    """findExecutions of jobs only: `class` may only be "job", `id` only job IDs."""
    return _find(ctx, inp, JOB_CLASSES)


@route("/system/findAnalyses")
def find_analyses(ctx: Context, inp: dict) -> dict:
    """findExecutions of analyses only: `class` may only be "analysis", `id` only analysis IDs."""
    return _find(ctx, inp, ANALYSIS_CLASSES)


def _describe(ctx: Context, execution: str, options: dict) -> dict:
    """The describe of a job or analysis the caller may see (ResourceNotFound otherwise)."""
    if id_class(execution) == "analysis":
        return analyses.describe_analysis(ctx, analyses.visible_analysis(ctx, execution), options)
    return executions.describe_job(ctx, executions.visible_job(ctx, execution), options)


# -- describeExecutions ----------------------------------------------------------------------------------
def _items(inp: dict, common: dict) -> list[tuple[str, dict]]:
    """`executions`: up to MAX_ITEMS items, each an execution ID or {id, describe?}; returns (ID, describe
    options): an item's own describe (true = the default describe) replaces the top-level options."""
    value = inp.get("executions")
    if not isinstance(value, list):
        raise InvalidInput('expected input to have key "executions" with an array as value')
    if len(value) > MAX_ITEMS:
        raise InvalidInput(f'key "executions" of input may list at most {MAX_ITEMS} items')
    items = []
    for item in value:
        if isinstance(item, str):
            items.append((entity_id(item, "executions[]", EXECUTION_CLASSES), common))
        elif isinstance(item, dict):
            execution = entity_id(item.get("id"), "executions[].id", EXECUTION_CLASSES)
            own = item.get("describe")
            options = common if own is None or own is False else _describe_options(own, "executions[].describe")
            items.append((execution, options))
        else:
            raise InvalidInput('expected each item of "executions" to be an execution ID or a hash with key "id"')
    return items


@route("/system/describeExecutions")
def describe_executions(ctx: Context, inp: dict) -> dict:
    """{"executions": [...], "fields"?, "defaultFields"?, "io"?, "try"?} -> {"results": [...]} in the order
    of `executions`: {"describe": ...} for each job the caller can see, else an error entry (as
    describeDataObjects writes it). Bad input, including bad describe options, fails the whole call."""
    common = {key: inp[key] for key in DESCRIBE_OPTIONS if key in inp}
    executions.describe_options(common)
    items = _items(inp, common)
    results = []
    for execution, options in items:
        try:
            results.append({"describe": _describe(ctx, execution, options)})
        except InvalidInput:
            raise
        except DXError as exc:
            results.append(item_error(exc))
    return {"results": results}
