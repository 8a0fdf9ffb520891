"""/system/findExecutions, /system/findJobs and /system/describeExecutions over HTTP: every filter, paging newest
first, visibility through project membership, malformed input, and describe wiring.

Jobs cannot be created over the API here, so each test inserts rows into `jobs` through the server's Database
(between requests, which the server handles one at a time), in states the job service never moves (done,
failed, running: no process is ever started for them). The module has a server of its own, so the jobs it
inserts never show up in other modules' searches. Describes come from executions.describe_job; these tests
check which options reach it and which keys come back, not every value of a job describe.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.db import dumps, token_sha256
from conformance.refserver.ids import new_id
from conformance.refserver.pytest_fixture import (
    DXPY_ENVIRONMENT,
    point_dxpy_at,
    saved_dxpy_configuration,
    saved_environment,
)
from conformance.refserver.server import RefServer
from tests.conftest import Client

FIND = "/system/findExecutions"
FIND_JOBS = "/system/findJobs"
DESCRIBE = "/system/describeExecutions"
T0 = 1_764_150_000_000


@pytest.fixture(scope="module")
def refserver() -> Iterator[RefServer]:
    """This module's own server (overrides the session's): the jobs inserted here stay out of other tests."""
    with RefServer(settings=Settings(closing_ms=200, users=dict(FIXED_TOKENS))) as server:
        yield server


class Jobs:
    """Inserts job rows straight into the server's store, on its handler thread (between requests: the job
    service's clock writes to the same connection while jobs are going)."""

    def __init__(self, server: RefServer):
        self.db = server.app.db
        self.handlers = server.app.handlers
        self.clock = T0

    def add(self, project: str, *, name: str = "adder", state: str = "done", applet: str | None = None,
            launched_by: str = "user-alice", parent: str | None = None, origin: str | None = None,
            root: str | None = None, created: int | None = None, modified: int | None = None,
            tags: list[str] | None = None, properties: dict[str, str] | None = None) -> str:
        job = new_id("job")
        self.clock += 1000
        created = self.clock if created is None else created
        self.handlers.submit(self._insert, job, name, state, applet, project, launched_by, parent, origin, root,
                             created, modified, tags, properties).result(timeout=10)
        return job

    def _insert(self, job, name, state, applet, project, launched_by, parent, origin, root, created, modified, tags,
                properties) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs(id, seq, name, state, function, executable, project, folder, workspace, launched_by, "
                "parent_job, origin_job, root_execution, created, modified, run_input, original_input, tags, "
                "properties) VALUES (?, ?, ?, ?, 'main', ?, ?, '/', ?, ?, ?, ?, ?, ?, ?, '{}', '{}', ?, ?)",
                (job, self.db.next_seq("jobs"), name, state, applet or "applet-" + "B" * 24, project,
                 new_id("container"), launched_by, parent, origin or job, root or origin or job, created,
                 created if modified is None else modified, dumps(tags or []), dumps(properties or {})))

    def many(self, project: str, count: int, **fields: Any) -> list[str]:
        return [self.add(project, **fields) for _ in range(count)]


@pytest.fixture()
def jobs(refserver: RefServer) -> Jobs:
    return Jobs(refserver)


def found(client: Client, body: dict, user: str = "alice", route: str = FIND) -> list[str]:
    """IDs of every result of one search (which must fit in one page)."""
    answer = client.ok(route, body, user)
    assert answer["next"] is None, answer
    return [r["id"] for r in answer["results"]]


# -- results and filters ---------------------------------------------------------------------------------
@pytest.mark.parametrize("route", [FIND, FIND_JOBS])
def test_results_are_ids_newest_first(client, project, jobs, route):
    first, second, third = jobs.many(project, 3)
    answer = client.ok(route, {"project": project})
    assert answer == {"results": [{"id": third}, {"id": second}, {"id": first}], "next": None}


def test_id_filter(client, project, jobs):
    a, b, c = jobs.many(project, 3)
    assert found(client, {"id": [a, c]}) == [c, a]
    assert found(client, {"id": [a, a, "job-" + "B" * 24]}) == [a]
    assert found(client, {"id": []}) == []
    assert found(client, {"id": [b]}, route=FIND_JOBS) == [b]


def test_launched_by_project_and_executable(client, project, jobs):
    other_project = client.new_project()
    applet = new_id("applet")
    mine = jobs.add(project, applet=applet)
    bobs = jobs.add(project, launched_by="user-bob")
    elsewhere = jobs.add(other_project, applet=applet)
    assert found(client, {"project": project}) == [bobs, mine]
    assert found(client, {"project": project, "launchedBy": "user-bob"}) == [bobs]
    assert found(client, {"executable": applet}) == [elsewhere, mine]
    assert found(client, {"executable": applet, "project": other_project}) == [elsewhere]
    assert found(client, {"executable": new_id("workflow")}) == []


def test_job_tree_filters(client, project, jobs):
    root = jobs.add(project)
    child = jobs.add(project, parent=root, origin=root)
    grandchild = jobs.add(project, parent=child, origin=root)
    other_root = jobs.add(project)
    in_project = {"project": project}
    assert found(client, {**in_project, "originJob": root}) == [grandchild, child, root]
    assert found(client, {**in_project, "rootExecution": root}) == [grandchild, child, root]
    assert found(client, {**in_project, "parentJob": root}) == [child]
    assert found(client, {**in_project, "parentJob": None}) == [other_root, root]
    assert found(client, {**in_project, "originJob": root, "parentJob": None}) == [root]
    assert found(client, {**in_project, "includeSubjobs": False}) == [other_root, root]
    assert found(client, {**in_project, "includeSubjobs": True}) == [other_root, grandchild, child, root]


def test_tree_filters_take_a_list_of_ids_as_dx_find_jobs_sends(client, project, jobs):
    # dx find jobs asks for the trees of a page of root executions at once (dx.py find_executions).
    first, second, third = jobs.add(project), jobs.add(project), jobs.add(project)
    child = jobs.add(project, parent=first, origin=first)
    in_project = {"project": project}
    assert found(client, {**in_project, "originJob": [first, second]}) == [child, second, first]
    assert found(client, {**in_project, "rootExecution": [third]}) == [third]
    assert found(client, {**in_project, "rootExecution": []}) == []
    answer = client.expect_error(FIND, {**in_project, "originJob": [first, "job-1"]}, "InvalidInput", 422)
    assert "originJob[1]" in answer.json["error"]["message"]


def test_no_analyses(client, project, jobs):
    job = jobs.add(project)
    in_project = {"project": project}
    assert found(client, {**in_project, "parentAnalysis": None}) == [job]
    assert found(client, {**in_project, "parentAnalysis": new_id("analysis")}) == []
    assert found(client, {**in_project, "class": "analysis"}) == []
    assert found(client, {**in_project, "class": "job"}) == [job]
    assert found(client, {**in_project, "class": "job"}, route=FIND_JOBS) == [job]
    assert found(client, {"id": [new_id("analysis")]}) == []
    assert found(client, {**in_project, "rootExecution": new_id("analysis")}) == []


def test_state(client, project, jobs):
    done = jobs.add(project, state="done")
    failed = jobs.add(project, state="failed")
    running = jobs.add(project, state="running")
    in_project = {"project": project}
    assert found(client, {**in_project, "state": "done"}) == [done]
    assert found(client, {**in_project, "state": ["done", "running"]}) == [running, done]
    assert found(client, {**in_project, "state": ["failed", "failed"]}) == [failed]
    assert found(client, {**in_project, "state": "in_progress"}) == []
    assert found(client, {**in_project, "state": []}) == []


def test_created_and_modified_bounds_are_inclusive(client, project, jobs):
    # As findDataObjects' created/modified (query.time_range): both bounds inclusive.
    early = jobs.add(project, created=T0, modified=T0 + 5000)
    late = jobs.add(project, created=T0 + 2000, modified=T0 + 2000)
    in_project = {"project": project}
    assert found(client, {**in_project, "created": {"after": T0}}) == [late, early]
    assert found(client, {**in_project, "created": {"after": T0 + 1}}) == [late]
    assert found(client, {**in_project, "created": {"before": T0 + 2000}}) == [late, early]
    assert found(client, {**in_project, "created": {"before": T0 + 1999}}) == [early]
    assert found(client, {**in_project, "created": {"after": T0 + 1, "before": T0 + 1999}}) == []
    assert found(client, {**in_project, "created": {}}) == [late, early]
    assert found(client, {**in_project, "modified": {"after": T0 + 3000}}) == [early]
    assert found(client, {**in_project, "modified": {"before": T0 + 3000}}) == [late]


def test_name(client, project, jobs):
    apples = jobs.add(project, name="test_applet")
    upper = jobs.add(project, name="TEST_APPLET")
    other = jobs.add(project, name="other:main")
    in_project = {"project": project}
    assert found(client, {**in_project, "name": "test_applet"}) == [apples]
    assert found(client, {**in_project, "name": {"glob": "?est_apple*"}}) == [apples]
    assert found(client, {**in_project, "name": {"glob": "test_apples*"}}) == []
    assert found(client, {**in_project, "name": {"regexp": "[t]+est_apple.+"}}) == [apples]
    assert found(client, {**in_project, "name": {"regexp": "^test", "flags": "i"}}) == [upper, apples]
    assert found(client, {**in_project, "name": {"glob": "*:main"}}) == [other]


def test_tags_and_properties(client, project, jobs):
    foo = jobs.add(project, tags=["foo"], properties={"foo": "bar"})
    foo_bar = jobs.add(project, tags=["foo", "bar"], properties={"foo": "baz", "k": "v"})
    bare = jobs.add(project)
    in_project = {"project": project}
    assert found(client, {**in_project, "tags": "foo"}) == [foo_bar, foo]
    assert found(client, {**in_project, "tags": {"$and": ["foo", "bar"]}}) == [foo_bar]
    assert found(client, {**in_project, "tags": {"$or": ["bar", "nothing"]}}) == [foo_bar]
    assert found(client, {**in_project, "properties": {"foo": True}}) == [foo_bar, foo]
    assert found(client, {**in_project, "properties": {"foo": "baz"}}) == [foo_bar]
    assert found(client, {**in_project, "properties": {"$or": [{"foo": "bar"}, {"k": True}]}}) == [foo_bar, foo]
    assert found(client, {**in_project, "properties": {}}) == [bare, foo_bar, foo]


def test_filters_combine(client, project, jobs):
    match = jobs.add(project, name="adder", state="done", tags=["t"])
    jobs.add(project, name="adder", state="failed", tags=["t"])
    jobs.add(project, name="adder", state="done")
    jobs.add(project, name="other", state="done", tags=["t"])
    assert found(client, {"project": project, "name": "adder", "state": "done", "tags": "t"}) == [match]


# -- paging ----------------------------------------------------------------------------------------------
def walk(client: Client, body: dict, limit: int, between=None, user: str = "alice") -> tuple[list[str], int]:
    """Every result of a search, page after page (calling `between()` after each page); (IDs, pages)."""
    seen: list[str] = []
    starting, pages = None, 0
    while True:
        answer = client.ok(FIND, {**body, "limit": limit, **({"starting": starting} if starting else {})}, user)
        pages += 1
        assert len(answer["results"]) <= limit
        seen += [r["id"] for r in answer["results"]]
        starting = answer["next"]
        if starting is None:
            return seen, pages
        assert set(starting) == {"id"}, starting
        if between:
            between()


def test_pages_cover_every_job_once_newest_first(client, project, jobs):
    ids = jobs.many(project, 33)
    seen, pages = walk(client, {"project": project}, 7)
    assert pages == 5
    assert seen == ids[::-1]


def test_next_is_the_first_job_of_the_following_page(client, project, jobs):
    ids = jobs.many(project, 5)
    answer = client.ok(FIND, {"project": project, "limit": 2})
    assert [r["id"] for r in answer["results"]] == [ids[4], ids[3]]
    assert answer["next"] == {"id": ids[2]}
    following = client.ok(FIND, {"project": project, "limit": 2, "starting": answer["next"]})
    assert [r["id"] for r in following["results"]] == [ids[2], ids[1]]
    last = client.ok(FIND, {"project": project, "limit": 1, "starting": following["next"]})
    assert last == {"results": [{"id": ids[0]}], "next": None}


def test_jobs_created_between_pages_cause_no_skip_or_repeat(client, project, jobs):
    original = jobs.many(project, 31)
    added: list[str] = []
    seen, _ = walk(client, {"project": project}, 7, between=lambda: added.extend(jobs.many(project, 3)))
    assert seen == original[::-1]  # newer jobs land before the cursor
    assert added


def test_paging_with_python_checks(client, project, jobs):
    """Name/tag filters run after SQL: pages still hold `limit` matches and `next` is the next match."""
    wanted = []
    for i in range(30):
        wanted.append(jobs.add(project, name="keep" if i % 3 == 0 else "drop"))
    keep = [j for i, j in enumerate(wanted) if i % 3 == 0]
    seen, pages = walk(client, {"project": project, "name": "keep"}, 4)
    assert seen == keep[::-1] and pages == 3


def test_limit_default_and_clamp(client, project, jobs):
    ids = jobs.many(project, 1001)
    for body in ({"project": project}, {"project": project, "limit": 5000}):  # default 1000; above it, 1000
        answer = client.ok(FIND, body)
        assert len(answer["results"]) == 1000 and answer["next"] == {"id": ids[0]}
    assert len(client.ok(FIND, {"project": project, "limit": 1})["results"]) == 1


@pytest.mark.parametrize("starting", [
    {"id": "job-" + "B" * 24},                     # no such job
    {"id": 7},
    {},
    "job-" + "B" * 24,
    7,
    [{"id": "job-" + "B" * 24}],
])
def test_tampered_starting_is_invalid_input(client, project, jobs, starting):
    jobs.many(project, 3)
    answer = client.expect_error(FIND, {"project": project, "starting": starting}, "InvalidInput", 422)
    assert "starting" in answer.json["error"]["message"]


def test_starting_at_a_job_of_someone_else_is_invalid_input(client, jobs):
    bobs_project = client.new_project(user="bob")
    bobs = jobs.add(bobs_project, launched_by="user-bob")
    assert found(client, {"starting": {"id": bobs}}, user="bob") == [bobs]
    client.expect_error(FIND, {"starting": {"id": bobs}}, "InvalidInput", 422)


# -- visibility ------------------------------------------------------------------------------------------
def test_bob_sees_nothing_of_alices_project(client, project, jobs):
    alices = jobs.many(project, 3)
    bobs_project = client.new_project(user="bob")
    bobs = jobs.add(bobs_project, launched_by="user-bob")
    assert found(client, {"project": project}, user="bob") == []
    assert found(client, {"id": alices}, user="bob") == []
    assert found(client, {"launchedBy": "user-alice"}, user="bob") == []
    everything_bob_sees = found(client, {}, user="bob")
    assert bobs in everything_bob_sees and not set(alices) & set(everything_bob_sees)
    assert found(client, {"id": [bobs]}) == []
    # Any level on the project makes its jobs visible, whoever launched them.
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "VIEW"})
    assert found(client, {"project": project}, user="bob") == alices[::-1]
    assert found(client, {"id": [*alices, bobs]}, user="bob") == [bobs, *alices[::-1]]


def test_removed_project_hides_its_jobs(client, jobs):
    doomed = client.new_project()
    job = jobs.add(doomed)
    assert found(client, {"id": [job]}) == [job]
    client.ok(f"/{doomed}/destroy", {})
    assert found(client, {"id": [job]}) == []


# -- malformed input -------------------------------------------------------------------------------------
JOB = "job-" + "B" * 24
MALFORMED = [
    ("class", {"class": "applet"}),
    ("class", {"class": 1}),
    ("id", {"id": JOB}),
    ("id", {"id": ["file-" + "B" * 24]}),
    ("id", {"id": [None]}),
    ("launchedBy", {"launchedBy": "alice"}),
    ("launchedBy", {"launchedBy": ["user-alice"]}),
    ("project", {"project": "project-short"}),
    ("project", {"project": JOB}),
    ("executable", {"executable": "file-" + "B" * 24}),
    ("executable", {"executable": 3}),
    ("originJob", {"originJob": "analysis-" + "B" * 24}),
    ("rootExecution", {"rootExecution": "applet-" + "B" * 24}),
    ("parentJob", {"parentJob": "none"}),
    ("parentJob", {"parentJob": False}),
    ("parentAnalysis", {"parentAnalysis": JOB}),
    ("state", {"state": "finished"}),
    ("state", {"state": ["done", 1]}),
    ("state", {"state": {"$or": ["done"]}}),
    ("created", {"created": {"after": "yesterday"}}),
    ("created", {"created": 5}),
    ("modified", {"modified": {"before": 1.5}}),
    ("name", {"name": 3}),
    ("name", {"name": {"glob": "*", "regexp": "x"}}),
    ("name", {"name": {"regexp": "("}}),
    ("name", {"name": {"regexp": "x", "flags": "q"}}),
    ("tags", {"tags": ["foo"]}),
    ("tags", {"tags": ""}),
    ("properties", {"properties": {"k": 1}}),
    ("properties", {"properties": "k"}),
    ("includeSubjobs", {"includeSubjobs": "no"}),
    ("includeRestarted", {"includeRestarted": 1}),
    ("describe", {"describe": "yes"}),
    ("describe", {"describe": 1}),
    ("fields", {"describe": {"fields": ["state"]}}),
    ("fields.state", {"describe": {"fields": {"state": 1}}}),
    ("io", {"describe": {"io": "no"}}),
    ("defaultFields", {"describe": {"defaultFields": None}}),
    ("try", {"describe": {"try": -1}}),
    ("limit", {"limit": 0}),
    ("limit", {"limit": 1.5}),
    ("limit", {"limit": "10"}),
    ("starting", {"starting": "abc"}),
]


@pytest.mark.parametrize(("key", "body"), MALFORMED, ids=[f"{k}-{json.dumps(b)}" for k, b in MALFORMED])
def test_malformed_filter_is_invalid_input_naming_the_key(client, key, body):
    answer = client.expect_error(FIND, body, "InvalidInput", 422)
    assert f'"{key}' in answer.json["error"]["message"] or key in answer.json["error"]["message"], answer


@pytest.mark.parametrize("body", [{"class": "analysis"}, {"id": ["analysis-" + "B" * 24]}])
def test_find_jobs_refuses_analyses(client, body):
    client.expect_error(FIND_JOBS, body, "InvalidInput", 422)


def test_non_mapping_input_is_invalid_input(client):
    client.expect_error(FIND, ["job"], "InvalidInput", 422)


def test_long_id_list_beyond_sqlites_parameter_cap(client, project, jobs):
    job = jobs.add(project)
    many = [job] + [f"job-{i:024d}" for i in range(260_000)]  # more than SQLite's 250,000 parameters
    assert found(client, {"id": many}) == [job]


# -- describe --------------------------------------------------------------------------------------------
SPEC_KEYS = {"id", "class", "name", "state", "applet", "project", "launchedBy", "created", "parentJob"}


def test_describe_true_gives_each_result_the_job_describe(client, project, jobs):
    parent = jobs.add(project, name="adder")
    child = jobs.add(project, name="adder:more", parent=parent, origin=parent, state="running")
    answer = client.ok(FIND, {"project": project, "describe": True})
    assert [r["id"] for r in answer["results"]] == [child, parent]
    for result in answer["results"]:
        assert SPEC_KEYS <= set(result["describe"]) and result["describe"]["id"] == result["id"]
        assert {"runInput", "originalInput", "input", "output"} <= set(result["describe"])
    assert answer["results"][0]["describe"]["parentJob"] == parent
    assert answer["results"][0]["describe"]["state"] == "running"
    assert answer["results"][1]["describe"]["name"] == "adder"


def test_describe_options_reach_the_job_describe(client, project, jobs):
    job = jobs.add(project)
    fields = client.ok(FIND_JOBS, {"project": project, "describe": {"fields": {"state": True, "name": True}}})
    assert fields["results"] == [{"id": job, "describe": {"id": job, "name": "adder", "state": "done"}}]
    no_io = client.ok(FIND, {"project": project, "describe": {"io": False}})["results"][0]["describe"]
    assert SPEC_KEYS <= set(no_io) and not {"runInput", "originalInput", "input", "output"} & set(no_io)


def test_no_describe_unless_asked(client, project, jobs):
    jobs.add(project)
    for body in ({"project": project}, {"project": project, "describe": False}):
        assert set(client.ok(FIND, body)["results"][0]) == {"id"}


def test_bad_describe_options_fail_even_when_nothing_matches(client):
    client.expect_error(FIND, {"id": [], "describe": {"io": 1}}, "InvalidInput", 422)


# -- job tokens ------------------------------------------------------------------------------------------
def test_a_job_token_sees_its_own_tree_and_what_its_grants_show(refserver, client, project, jobs):
    """A job's token acts as the job (ctx.member): its own job tree always, a project through its members rows."""
    origin = jobs.add(project, state="running")
    child = jobs.add(project, parent=origin, origin=origin, state="running")
    stranger = jobs.add(project)
    token = "job-token-of-" + origin
    with refserver.app.db.transaction() as conn:
        conn.execute("INSERT INTO job_tokens(token_sha256, job_id) VALUES (?, ?)", (token_sha256(token), origin))
    as_job = Client(refserver.url, {"job": token})
    assert found(as_job, {"project": project}, user="job") == [child, origin]
    assert client.ok(DESCRIBE, {"executions": [stranger]})["results"][0]["describe"]["id"] == stranger
    assert as_job.ok(DESCRIBE, {"executions": [child, stranger]}, user="job")["results"][1]["error"]["type"] == \
        "ResourceNotFound"
    as_job.expect_error(FIND, {"starting": {"id": stranger}}, "InvalidInput", 422, user="job")
    with refserver.app.db.transaction() as conn:
        conn.execute("INSERT INTO members(container_id, member_id, level) VALUES (?, ?, 'VIEW')", (project, origin))
    assert found(as_job, {"project": project}, user="job") == [stranger, child, origin]
    assert found(as_job, {"starting": {"id": stranger}, "limit": 5}, user="job") == [stranger, child, origin]


# -- describeExecutions ----------------------------------------------------------------------------------
def test_describe_executions_in_order_with_error_entries(client, project, jobs):
    first, second = jobs.many(project, 2)
    bobs = jobs.add(client.new_project(user="bob"), launched_by="user-bob")
    missing, analysis = new_id("job"), new_id("analysis")
    answer = client.ok(DESCRIBE, {"executions": [second, missing, first, bobs, analysis, second]})
    results = answer["results"]
    assert [r.get("describe", {}).get("id") for r in results] == [second, None, first, None, None, second]
    for entry, wanted in zip((results[1], results[3], results[4]), (missing, bobs, analysis), strict=True):
        assert set(entry) == {"error", "statusCode"} and entry["statusCode"] == 404
        assert entry["error"]["type"] == "ResourceNotFound" and wanted in entry["error"]["message"]
    assert SPEC_KEYS <= set(results[0]["describe"])
    assert client.ok(DESCRIBE, {"executions": [bobs]}, user="bob")["results"][0]["describe"]["id"] == bobs


def test_describe_executions_options(client, project, jobs):
    job = jobs.add(project)
    common = {"fields": {"state": True}}
    items = [job, {"id": job}, {"id": job, "describe": False}, {"id": job, "describe": {"fields": {"name": True}}},
             {"id": job, "describe": True}]
    shapes = [r["describe"] for r in client.ok(DESCRIBE, {"executions": items, **common})["results"]]
    assert shapes[:3] == [{"id": job, "state": "done"}] * 3  # the top-level options
    assert shapes[3] == {"id": job, "name": "adder"}  # the item's own
    assert SPEC_KEYS | {"runInput"} <= set(shapes[4])  # true: the default describe
    no_io = client.ok(DESCRIBE, {"executions": [job], "io": False})["results"][0]["describe"]
    assert SPEC_KEYS <= set(no_io) and "runInput" not in no_io


def test_describe_executions_empty(client):
    assert client.ok(DESCRIBE, {"executions": []}) == {"results": []}


DESCRIBE_MALFORMED = [
    ("executions", {}),
    ("executions", {"executions": JOB}),
    ("executions", {"executions": ["file-" + "B" * 24]}),
    ("executions", {"executions": [{"describe": True}]}),
    ("executions", {"executions": [3]}),
    ("executions", {"executions": [JOB] * 1001}),
    ("executions[].describe", {"executions": [{"id": JOB, "describe": "yes"}]}),
    ("executions[].describe", {"executions": [{"id": JOB, "describe": 0}]}),
    ("io", {"executions": [{"id": JOB, "describe": {"io": 0}}]}),
    ("fields", {"executions": [JOB], "fields": {"state": "yes"}}),
    ("io", {"executions": [JOB], "io": "no"}),
    ("try", {"executions": [JOB], "try": True}),
]


@pytest.mark.parametrize(("key", "body"), DESCRIBE_MALFORMED,
                         ids=[f"{k}-{json.dumps(b)[:60]}" for k, b in DESCRIBE_MALFORMED])
def test_describe_executions_malformed(client, key, body):
    answer = client.expect_error(DESCRIBE, body, "InvalidInput", 422)
    assert key in answer.json["error"]["message"], answer


# -- dxpy ------------------------------------------------------------------------------------------------
@pytest.fixture()
def dxpy_here(refserver: RefServer, tmp_path) -> Iterator[Any]:
    """dxpy pointed at this module's server as alice; its configuration and the environment restored after."""
    with saved_environment(DXPY_ENVIRONMENT), saved_dxpy_configuration() as dxpy:
        context = {"auth_token_type": "Bearer", "auth_token": refserver.token("alice")}
        point_dxpy_at(dxpy, refserver.host, refserver.port, context, str(tmp_path))
        yield dxpy


def test_dxpy_find_jobs_pages_filters_and_describes(dxpy_here, project, jobs):
    search = dxpy_here.bindings.search
    ids = jobs.many(project, 25, tags=["t"])
    subjob = jobs.add(project, parent=ids[0], origin=ids[0], name="adder:more")
    # first_page_size 4: dxpy asks for 4, 8, 16 ... following `next` until it is null.
    assert [r["id"] for r in search.find_jobs(project=project, first_page_size=4)] == [subjob, *ids[::-1]]
    assert [r["id"] for r in search.find_executions(project=project, no_parent_job=True, tags=["t"],
                                                    name="add*", name_mode="glob", first_page_size=7)] == ids[::-1]
    assert [r["id"] for r in search.find_jobs(project=project, parent_job=ids[0], state="done")] == [subjob]
    described = list(search.find_jobs(project=project, describe={"fields": {"name": True}}, limit=2))
    assert [r["describe"] for r in described] == [{"id": subjob, "name": "adder:more"}, {"id": ids[-1], "name": "adder"}]
    answer = dxpy_here.api.system_describe_executions({"executions": [subjob], "fields": {"parentJob": True}})
    assert answer == {"results": [{"describe": {"id": subjob, "parentJob": ids[0]}}]}


# -- the method schemas ----------------------------------------------------------------------------------
SCHEMA_ROUTES = (FIND, FIND_JOBS, DESCRIBE)


def schema_examples(direction_validity: str) -> list[tuple[str, Any]]:
    from conformance.spec import load_spec

    spec = load_spec()
    return [(route, example) for route in SCHEMA_ROUTES
            for example in spec.method_doc(route)["x-examples"]["input"][direction_validity]]


@pytest.mark.parametrize(("route", "body"), schema_examples("valid"))
def test_valid_schema_examples_are_answered_per_the_output_schema(client, route, body):
    from conformance.spec import load_spec

    # The examples' `starting` is the `next` of no answer of this server.
    answer = client.ok(route, {k: v for k, v in body.items() if k != "starting"})
    assert load_spec().validator(route, "output").errors(answer) == []


@pytest.mark.parametrize(("route", "body"), schema_examples("invalid"))
def test_invalid_schema_examples_are_invalid_input(client, route, body):
    client.expect_error(route, body, "InvalidInput", 422)


def test_answers_with_results_describes_and_errors_match_the_output_schema(client, project, jobs):
    from conformance.spec import load_spec

    spec = load_spec()
    jobs.many(project, 3)
    answer = client.ok(FIND, {"project": project, "limit": 2})
    assert answer["next"] is not None and spec.validator(FIND, "output").errors(answer) == []
    assert spec.validator(FIND_JOBS, "output").errors(client.ok(FIND_JOBS, {"project": project})) == []
    described = client.ok(FIND, {"project": project, "describe": True})
    assert spec.validator(FIND, "output").errors(described) == []
    mixed = client.ok(DESCRIBE, {"executions": [described["results"][0]["id"], new_id("job"), new_id("analysis")]})
    assert spec.validator(DESCRIBE, "output").errors(mixed) == []
