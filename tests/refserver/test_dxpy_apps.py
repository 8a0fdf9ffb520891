"""dxpy, unmodified, makes apps from applets, publishes and authorizes them, and runs them as another user.

Apps are global (not in a project): their names are shared by every test of a server, so each test names its
apps with a fresh suffix. App jobs run real processes (bash), so the module has a server of its own (the
`dx_server` machinery at module scope), stopped at the end with whatever is left. dxpy acts as alice unless a
test switches its security context to bob (`as_user`), as a second dxpy session would; waits poll every 0.1 s.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

from conformance.refserver.pytest_fixture import DXServer

from .dxpy_module import dxpy_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs need Linux /proc")]

server_fixture, dx_fixture, project_fixture = dxpy_fixtures()

WAIT = {"interval": 0.1, "timeout": 30}


@pytest.fixture()
def name() -> str:
    """An app name no other test uses."""
    return f"app_{uuid.uuid4().hex[:12]}"


@contextmanager
def as_user(dx: ModuleType, server: DXServer, user: str) -> Iterator[None]:
    """dxpy acts as `user` inside the block (its security context), as alice again afterwards."""
    dx.set_security_context(server.security_context(user))
    try:
        yield
    finally:
        dx.set_security_context(server.security_context("alice"))


def new_applet(dx: ModuleType, project: str, factor: int, name: str = "multiplier"):
    """A bash applet whose output `out` is `n * factor`."""
    code = f'main() {{\n  dx-jobutil-add-output out "$((n * {factor}))" --class=int\n}}\n'
    applet_id = dx.api.applet_new({
        "project": project, "name": name, "dxapi": "1.0.0",
        "inputSpec": [{"name": "n", "class": "int"}], "outputSpec": [{"name": "out", "class": "int"}],
        "runSpec": {"interpreter": "bash", "code": code, "distribution": "Ubuntu", "release": "24.04"}})["id"]
    return dx.DXApplet(applet_id, project=project)


def new_app(dx: ModuleType, project: str, name: str, version: str, factor: int, **fields):
    app = dx.DXApp()
    app.new(applet=new_applet(dx, project, factor).get_id(), name=name, version=version, **fields)
    return app


def refusal(dx: ModuleType, call) -> str:
    with pytest.raises(dx.exceptions.DXAPIError) as refused:
        call()
    return refused.value.name


def test_an_app_runs_for_its_developer_and_for_authorized_users_only(dx, server, project, name):
    app = new_app(dx, project, name, "1.0.0", 3, title="Tripler")
    desc = app.describe()
    assert (desc["class"], desc["name"], desc["version"], desc["deleted"]) == ("app", name, "1.0.0", False)
    assert set(desc["aliases"]) == {"default", "1.0.0"} and "published" not in desc
    assert dx.DXApp(name=name).describe()["id"] == app.get_id()

    job = dx.DXApp(name=name).run({"n": 2}, project=project)  # the developer runs it before it is published
    job.wait_on_done(**WAIT)
    jdesc = job.describe()
    assert (jdesc["output"], jdesc["app"], jdesc["executable"], jdesc["executableName"], jdesc["name"]) == \
        ({"out": 6}, app.get_id(), app.get_id(), name, "Tripler")
    assert "applet" not in jdesc

    with as_user(dx, server, "bob"):
        bob_project = dx.api.project_new({"name": "bob's"})["id"]
        assert refusal(dx, lambda: dx.DXApp(name=name).run({"n": 1}, project=bob_project)) == "ResourceNotFound"
        assert refusal(dx, lambda: dx.DXApp(name=name).describe()) == "ResourceNotFound"
    app.publish()
    assert "published" in app.describe()
    with as_user(dx, server, "bob"):  # published, but bob is not among its authorized users
        assert refusal(dx, lambda: dx.DXApp(name=name).run({"n": 1}, project=bob_project)) == "ResourceNotFound"
        assert [r["id"] for r in dx.find_apps(name=name)] == []

    dx.api.app_add_authorized_users(app.get_id(), input_params={"authorizedUsers": ["user-bob"]})
    assert dx.api.app_list_authorized_users(app.get_id())["authorizedUsers"] == ["user-bob"]
    with as_user(dx, server, "bob"):
        assert [r["id"] for r in dx.find_apps(name=name)] == [app.get_id()]
        job = dx.DXApp(name=name).run({"n": 5}, project=bob_project)
        job.wait_on_done(**WAIT)
        jdesc = job.describe()
        assert (jdesc["output"], jdesc["launchedBy"], jdesc["project"], jdesc["app"]) == \
            ({"out": 15}, "user-bob", bob_project, app.get_id())
        # an authorized user runs it, but only developers change it
        assert refusal(dx, lambda: dx.DXApp(name=name).update(details={"by": "bob"})) == "PermissionDenied"
        assert refusal(dx, lambda: dx.api.app_add_authorized_users(
            app.get_id(), input_params={"authorizedUsers": ["PUBLIC"]})) == "PermissionDenied"
        # and the run still needs CONTRIBUTE on the project: alice's is not bob's
        assert refusal(dx, lambda: dx.DXApp(name=name).run({"n": 1}, project=project)) in \
            ("PermissionDenied", "ResourceNotFound")

    dx.api.app_remove_authorized_users(app.get_id(), input_params={"authorizedUsers": ["user-bob"]})
    with as_user(dx, server, "bob"):
        assert refusal(dx, lambda: dx.DXApp(name=name).run({"n": 1}, project=bob_project)) == "ResourceNotFound"


def test_versions_run_by_alias_and_by_version(dx, server, project, name):
    first = new_app(dx, project, name, "1.0.0", 1)
    second = new_app(dx, project, name, "1.1.0", 2)
    first.publish()
    assert dx.DXApp(name=name).describe()["version"] == "1.0.0"  # the first version of a name is its default
    dx.api.app_publish(second.get_id(), input_params={"makeDefault": True})
    dx.DXApp(name=name, alias="1.1.0").add_tags(["stable"])
    dx.api.app_add_authorized_users(first.get_id(), input_params={"authorizedUsers": ["PUBLIC"]})

    handlers = {"default": dx.DXApp(name=name), "1.0.0": dx.DXApp(name=name, alias="1.0.0"),
                "stable": dx.DXApp(name=name, alias="stable"), "ID": dx.DXApp(first.get_id())}
    assert {k: h.describe()["version"] for k, h in handlers.items()} == \
        {"default": "1.1.0", "1.0.0": "1.0.0", "stable": "1.1.0", "ID": "1.0.0"}
    with as_user(dx, server, "bob"):  # PUBLIC: bob too, by any alias
        bob_project = dx.api.project_new({"name": "bob's"})["id"]
        jobs = {k: h.run({"n": 10}, project=bob_project) for k, h in handlers.items()}
        for job in jobs.values():
            job.wait_on_done(**WAIT)
        described = {k: j.describe() for k, j in jobs.items()}
    assert {k: d["output"]["out"] for k, d in described.items()} == \
        {"default": 20, "1.0.0": 10, "stable": 20, "ID": 10}
    assert {k: d["app"] for k, d in described.items()} == \
        {"default": second.get_id(), "1.0.0": first.get_id(), "stable": second.get_id(), "ID": first.get_id()}
    assert {d["executableName"] for d in described.values()} == {name}

    assert refusal(dx, lambda: dx.DXApp(name=name, alias="9.9.9").describe()) == "ResourceNotFound"
    assert refusal(dx, lambda: new_app(dx, project, name, "1.1.0", 5)) == "InvalidInput"  # a version once
    with as_user(dx, server, "bob"):  # a new version of a name is for its developers
        assert refusal(dx, lambda: new_app(dx, bob_project, name, "2.0.0", 5)) == "PermissionDenied"
    found = list(dx.find_apps(name=name, all_versions=True, describe={"fields": {"version": True}}))
    assert sorted(r["describe"]["version"] for r in found) == ["1.0.0", "1.1.0"]


def test_a_deleted_app_no_longer_runs(dx, project, name):
    app = new_app(dx, project, name, "0.1.0", 1)
    app.delete()
    assert refusal(dx, lambda: app.run({"n": 1}, project=project)) == "InvalidState"
    assert app.describe()["deleted"] is True
    assert refusal(dx, lambda: dx.DXApp(name=name).run({"n": 1}, project=project)) == "ResourceNotFound"


def test_a_workflow_stage_runs_an_app(dx, project, name):
    app = new_app(dx, project, name, "1.0.0", 7)
    plain = new_applet(dx, project, 2, name="doubler")
    workflow = dx.new_dxworkflow(project=project)
    first = workflow.add_stage(app, name="app stage")
    second = workflow.add_stage(plain, stage_input={"n": {"$dnanexus_link": {"stage": first, "outputField": "out"}}})
    assert workflow.get_stage(first)["executable"] == app.get_id()
    analysis = workflow.run({"app stage.n": 3}, project=project)
    analysis.wait_on_done(**WAIT)
    desc = analysis.describe()
    assert desc["output"] == {f"{first}.out": 21, f"{second}.out": 42}
    job = desc["stages"][0]["execution"]
    assert (job["app"], job["executableName"], job["analysis"], job["stage"]) == \
        (app.get_id(), name, analysis.get_id(), first)
