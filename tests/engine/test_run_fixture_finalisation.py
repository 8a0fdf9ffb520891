"""The runner owns the teardown of `scope: run` fixtures, which the session runs through a hook it is given.

The runner hands the session the hook when it first sets a run fixture up; the session runs it (once) before
removing what the run created.
"""

from __future__ import annotations

from conformance.engine import run_case
from conformance.engine.runner import finalize_run_fixtures
from conformance.model import Outcome

from .runner_support import case_of, session_for, write_suite

SUITE = """
defaults: {area: semantics, topic: hygiene, level: MUST, source: tests/engine}
fixtures:
  shared_record:
    scope: run
    steps:
      - route: /record/new
        body: {project: "{work_project}", name: "{run_prefix}-shared"}
        save: {shared: $.id}
    finally:
      - route: /{shared}/describe
        body: {project: "{work_project}"}
      - route: /system/whoami
        expect: {status: 418}
cases:
  - id: plain
    title: no run fixture
    steps:
      - route: /system/whoami
  - id: uses-shared
    title: sets the run fixture up
    uses: [shared_record]
    steps:
      - route: /{shared}/describe
"""


def test_the_session_runs_the_runners_hook_once_at_cleanup(tmp_path, refserver):
    suite = write_suite(tmp_path, SUITE)
    with session_for(refserver.url, suite) as session:
        assert run_case(session, case_of(suite, "plain")).outcome == Outcome.PASSED
        assert session.cleanup_hooks == []       # nothing pending: no hook
        assert run_case(session, case_of(suite, "uses-shared")).outcome == Outcome.PASSED
        assert session.cleanup_hooks == [finalize_run_fixtures]
        report = session.cleanup()
        paths = [e.request.path for e in report.exchanges]
        # The finally steps ran first (describe, whoami), then the tracker's removals.
        assert paths[:2] == [f"/{session.run_fixtures[next(iter(session.run_fixtures))].saved['shared']}/describe",
                             "/system/whoami"]
        assert len(report.failed) == 1 and "finally 2" in report.failed[0] and "status 200" in report.failed[0]
        again = session.cleanup()
    assert not any(e.request.path == "/system/whoami" for e in again.exchanges)   # finalised once
