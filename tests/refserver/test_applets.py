"""Applets on the reference server over HTTP: /applet/new checks, describe vs get, the shared data-object
methods, removal, and projects destroyed with jobs in them."""

from __future__ import annotations

import time

import pytest

BASH = {"interpreter": "bash", "code": "main() {\n  true\n}\n"}


def new_applet(client, project: str, **fields) -> str:
    body = {"project": project, "dxapi": "1.0.0", "runSpec": BASH, **fields}
    return client.ok("/applet/new", body)["id"]


def wait_state(client, job: str, states: set[str], timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = client.ok(f"/{job}/describe", {})
        if described["state"] in states or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def test_applet_is_closed_and_describe_leaves_out_the_code_that_get_gives(client, project):
    applet = new_applet(client, project, name="a", inputSpec=[{"name": "n", "class": "int"}])
    described = client.ok(f"/{applet}/describe", {})
    assert described["state"] == "closed" and described["class"] == "applet"
    assert "code" not in described["runSpec"] and described["runSpec"]["interpreter"] == "bash"
    assert described["inputSpec"] == [{"name": "n", "class": "int"}]
    assert client.ok(f"/{applet}/get", {})["runSpec"]["code"] == BASH["code"]


@pytest.mark.parametrize("fields", [
    {"runSpec": {"interpreter": "cobol", "code": ""}},
    {"runSpec": {"interpreter": "bash"}},
    {"runSpec": "bash"},
    {"dxapi": 1},
    {"inputSpec": [{"name": "not an identifier", "class": "int"}]},
    {"inputSpec": [{"name": "n", "class": "integer"}]},
    {"outputSpec": [{"name": "n", "class": "int"}, {"name": "n", "class": "int"}]},
    {"access": {"project": "OWN"}},
    {"runSpec": {"interpreter": "bash", "code": "", "timeoutPolicy": {"*": {"weeks": 1}}}},
])
def test_applet_new_refuses_malformed_specs(client, project, fields):
    body = {"project": project, "dxapi": "1.0.0", "runSpec": BASH, **fields}
    client.expect_error("/applet/new", body, "InvalidInput", 422)


def test_applet_new_needs_contribute(client, project):
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "UPLOAD"})
    body = {"project": project, "dxapi": "1.0.0", "runSpec": BASH}
    client.expect_error("/applet/new", body, "PermissionDenied", 401, user="bob")


def test_applets_have_no_close_or_types_routes(client, project):
    applet = new_applet(client, project)
    for method in ("close", "addTypes", "setDetails", "setVisibility"):
        client.expect_error(f"/{applet}/{method}", {}, "ResourceNotFound", 404)


def test_removing_an_applet_and_destroying_its_project(client, project):
    first, second = new_applet(client, project), new_applet(client, project)
    client.ok(f"/{project}/removeObjects", {"objects": [first]})
    client.expect_error(f"/{first}/describe", {}, "ResourceNotFound", 404)
    client.ok(f"/{second}/describe", {})
    client.ok(f"/{project}/destroy", {})
    client.expect_error(f"/{second}/describe", {}, "ResourceNotFound", 404)


def test_destroying_a_project_with_a_running_job_needs_terminate_jobs(client, project):
    applet = new_applet(client, project, runSpec={"interpreter": "bash", "code": "main() {\n  sleep 30\n}\n"})
    job = client.ok(f"/{applet}/run", {"project": project, "input": {}})["id"]
    assert wait_state(client, job, {"running"})["state"] == "running"
    client.expect_error(f"/{project}/destroy", {}, "InvalidState", 422)
    client.ok(f"/{project}/destroy", {"terminateJobs": True})
    # The project is gone, so its job can no longer be seen by alice; the server still ends it.
    client.expect_error(f"/{job}/describe", {}, "ResourceNotFound", 404)


def test_a_job_past_its_time_limit_fails_with_job_timeout_exceeded():
    from conformance.refserver.context import FIXED_TOKENS, Settings
    from conformance.refserver.limits import JobLimits
    from conformance.refserver.server import RefServer

    from ..conftest import Client

    settings = Settings(users=dict(FIXED_TOKENS), job_limits=JobLimits(wall_seconds=1.0))
    with RefServer(settings=settings) as server:
        client = Client(server.url, dict(FIXED_TOKENS))
        project = client.ok("/project/new", {"name": "timeouts"})["id"]
        slow = new_applet(client, project, runSpec={"interpreter": "bash", "code": "main() {\n  sleep 30\n}\n",
                                                    "timeoutPolicy": {"*": {"hours": 2}}})
        job = client.ok(f"/{slow}/run", {"project": project, "input": {}})["id"]
        described = wait_state(client, job, {"done", "failed", "terminated"})
        assert described["state"] == "failed" and described["failureReason"] == "JobTimeoutExceeded"
        assert described["stoppedRunning"] - described["startedRunning"] < 10_000
        # The runSpec's own timeout (the smaller limit would apply) is described in ms.
        assert described["timeout"] == 2 * 3600 * 1000


def test_timeout_policy_of_the_entry_point_or_star():
    from conformance.refserver.executions import timeout_seconds

    policy = {"*": {"hours": 1}, "sub": {"minutes": 5}}
    assert timeout_seconds(policy, "main") == 3600 and timeout_seconds(policy, "sub") == 300
    assert timeout_seconds({"sub": {"days": 1}}, "main") is None


def test_a_zero_timeout_policy_is_a_short_limit_not_none(client, project):
    zero = new_applet(client, project, runSpec={"interpreter": "bash", "code": "main() {\n  sleep 30\n}\n",
                                                "timeoutPolicy": {"*": {"minutes": 0}}})
    job = client.ok(f"/{zero}/run", {"project": project, "input": {}})["id"]
    described = wait_state(client, job, {"done", "failed", "terminated"})
    assert described["state"] == "failed" and described["failureReason"] == "JobTimeoutExceeded"


@pytest.mark.parametrize("body", [
    {"batchInput": {"n": [1]}, "files": [True]}, {"batchInput": {"n": [1]}, "files": ["file-B0000000000000000000000B"]},
    {"batchInput": {"n": [1]}, "files": "x"}, {"batchInput": {"n": 1}}, {"batchInput": {"n": [1], "m": [1, 2]}},
    {"batchInput": {"n": ["one"]}}, {"batchInput": {"n": [1]}, "instanceTypes": {}},
])
def test_validate_batch_refuses_malformed_input(client, project, body):
    applet = new_applet(client, project, inputSpec=[{"name": "n", "class": "int"}, {"name": "m", "class": "int",
                                                                                  "optional": True}])
    client.expect_error(f"/{applet}/validateBatch", body, "InvalidInput", 422)


def test_validate_batch_expands_rows_with_the_common_input(client, project):
    applet = new_applet(client, project, inputSpec=[{"name": "n", "class": "int"}, {"name": "m", "class": "int"}])
    answer = client.ok(f"/{applet}/validateBatch", {"batchInput": {"n": [1, 2]}, "commonInput": {"m": 9},
                                                     "files": [{"$dnanexus_link": "file-B0000000000000000000000B"}]})
    assert answer == {"expandedBatch": [{"m": 9, "n": 1}, {"m": 9, "n": 2}]}
