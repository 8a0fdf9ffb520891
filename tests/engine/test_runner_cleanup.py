"""Hygiene: the run removes exactly what it created, in the user's project and its own; also after Ctrl-C."""

from __future__ import annotations

import pytest

from conformance.engine import run_case
from conformance.model import Outcome

from .runner_support import case_of, session_for, write_suite

WORK = """
defaults: {area: semantics, topic: hygiene, level: MUST, source: tests/engine}
fixtures:
  project:
    steps:
      - route: /project/new
        body: {name: "{run_prefix}-{case_id}"}
        save: {project: $.id}
  shared_record:
    scope: run
    steps:
      - route: /record/new
        body: {project: "{work_project}", name: "{run_prefix}-shared"}
        save: {shared: $.id}
    finally:
      - route: /{work_project}/removeObjects
        body: {objects: ["{shared}"]}
cases:
  - id: make-things
    title: objects and folders in the work project, and a project of its own
    uses: [project]
    steps:
      - route: /{work_project}/newFolder
        body: {folder: "/{run_prefix}-top/sub", parents: true}
      - route: /record/new
        body: {project: "{work_project}", name: "{run_prefix}-r", folder: "/{run_prefix}-top/sub"}
      - route: /file/new
        body: {project: "{work_project}", name: "{run_prefix}-f", folder: "/{run_prefix}-other", parents: true}
      - route: /record/new
        body: {project: "{project}", name: "{run_prefix}-in-own"}
  - id: uses-shared-1
    title: a run fixture is set up once
    uses: [shared_record]
    steps:
      - route: /{shared}/describe
        expect: {values: {$.name: "{run_prefix}-shared"}}
  - id: uses-shared-2
    title: and shared by the next case
    uses: [shared_record]
    steps:
      - route: /{shared}/describe
  - id: interrupted
    title: a case stopped by Ctrl-C while polling
    steps:
      - route: /record/new
        body: {project: "{work_project}", name: "{run_prefix}-interrupted"}
        save: {doomed: $.id}
      - route: /{doomed}/describe
        eventually: {timeout: 30, interval: 0.01}
        expect: {values: {$.state: never}}
"""


def _names_in(client, project: str) -> list[str]:
    found = client.ok("/system/findDataObjects", {"scope": {"project": project, "recurse": True},
                                                  "describe": {"fields": {"name": True}}})
    return [r["describe"]["name"] for r in found["results"]]


def _folders_in(client, project: str) -> list[str]:
    return client.ok(f"/{project}/listFolder", {"folder": "/", "only": "folders"})["folders"]


@pytest.fixture()
def users_project(client):
    """A project the user already has, holding things the run must never touch."""
    project = client.new_project("users-own")
    keep = [client.ok("/record/new", {"project": project, "name": f"keep-{n}"})["id"] for n in range(3)]
    client.ok(f"/{project}/newFolder", {"folder": "/keep-folder"})
    return project, keep


def test_cleanup_removes_exactly_what_the_run_created(tmp_path, refserver, client, users_project):
    project, keep = users_project
    before = {record: client.ok(f"/{record}/describe", {"project": project}) for record in keep}
    suite = write_suite(tmp_path, WORK)
    with session_for(refserver.url, suite, project=project) as session:
        prefix = session.run_prefix
        results = {c.id: run_case(session, c) for c in suite.cases if c.id != "interrupted"}
        assert all(r.outcome == Outcome.PASSED for r in results.values()), [r.message for r in results.values()]
        during = _names_in(client, project)
        own_projects = list(session.tracker.snapshot()["projects"])
    assert {f"{prefix}-r", f"{prefix}-f", f"{prefix}-shared"} <= set(during)
    assert len(own_projects) == 1
    # After the run: the user's things intact, nothing with the prefix left, the run's project destroyed.
    assert sorted(_names_in(client, project)) == ["keep-0", "keep-1", "keep-2"]
    assert _folders_in(client, project) == ["/keep-folder"]
    assert {record: client.ok(f"/{record}/describe", {"project": project}) for record in keep} == before
    assert client.call(f"/{own_projects[0]}/describe").status == 404
    assert session.cleanup_report.failed == []
    assert session.tracker.snapshot() == {"projects": {}, "in_projects": {}, "global_objects": {}}
    # Cleanup is idempotent: a second call has nothing left to do.
    again = session.cleanup()
    assert (again.removed, again.failed) == ([], [])


def test_cleanup_after_ctrl_c_in_the_middle_of_a_case(tmp_path, refserver, client, users_project, monkeypatch):
    project, _ = users_project
    suite = write_suite(tmp_path, WORK)
    session = session_for(refserver.url, suite, project=project)

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("conformance.engine.steps.time.sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_case(session, case_of(suite, "interrupted"))
    assert f"{session.run_prefix}-interrupted" in _names_in(client, project)
    session.close()  # what the pytest plugin's sessionfinish does
    assert sorted(_names_in(client, project)) == ["keep-0", "keep-1", "keep-2"]


def test_without_a_project_the_run_makes_its_own_work_project_and_destroys_it(tmp_path, refserver, client):
    suite = write_suite(tmp_path, WORK)
    with session_for(refserver.url, suite) as session:
        first = run_case(session, case_of(suite, "uses-shared-1"))
        second = run_case(session, case_of(suite, "uses-shared-2"))
        work = session.work_project()
        assert client.ok(f"/{work}/describe")["name"] == f"{session.run_prefix}-work"
    assert (first.outcome, second.outcome) == (Outcome.PASSED, Outcome.PASSED)
    # The shared record was created once (by the first case's exchanges only).
    assert any(e.request.path == "/record/new" for e in first.exchanges)
    assert not any(e.request.path == "/record/new" for e in second.exchanges)
    assert client.call(f"/{work}/describe").status == 404


APPS = """
defaults: {area: semantics, topic: hygiene, level: MUST, source: tests/engine}
cases:
  - id: make-apps
    title: an app made from an applet, and one the case deletes itself
    steps:
      - route: /project/new
        body: {name: "{run_prefix}-apps"}
        save: {project: $.id}
      - route: /applet/new
        body: {project: "{project}", dxapi: "1.0.0", runSpec: {interpreter: bash, code: "main() {\\n  true\\n}\\n"}}
        save: {applet: $.id}
      - route: /app/new
        body: {applet: "{applet}", name: "{run_prefix}-kept", version: "1.0.0"}
        save: {kept: $.id}
      - route: /app/new
        body: {applet: "{applet}", name: "{run_prefix}-gone", version: "1.0.0"}
        save: {gone: $.id}
      - route: /{gone}/delete
"""


def test_cleanup_deletes_the_apps_the_run_made(tmp_path, refserver, client):
    suite = write_suite(tmp_path, APPS)
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
        assert result.outcome == Outcome.PASSED, result.message
        made = list(session.tracker.snapshot()["global_objects"])
    assert len(made) == 1 and made[0].startswith("app-")
    assert client.ok(f"/{made[0]}/describe", {})["deleted"] is True
    assert session.cleanup_report.failed == []
    assert made[0] in session.cleanup_report.removed
