"""run_case against the reference server: outcomes, faults caught, eventually timing, finally, errors."""

from __future__ import annotations

import json
import socket
import time

import pytest

from conformance.engine import run_case
from conformance.model import Level, Outcome

from .runner_support import case_of, faulty_server, session_for, write_suite

HEADER = """
defaults:
  area: semantics
  topic: engine
  level: MUST
  source: tests/engine
fixtures:
  project:
    steps:
      - route: /project/new
        body: {name: "{run_prefix}-{case_id}"}
        save: {project: $.id}
    finally:
      - route: /{project}/destroy
        body: {terminateJobs: true}
"""

TAGS = HEADER + """
cases:
  - id: tags-stick
    title: addTags adds the tags
    uses: [project]
    steps:
      - route: /record/new
        body: {project: "{project}", name: "{run_prefix}-r"}
        save: {record: $.id}
      - route: /{record}/addTags
        body: {project: "{project}", tags: [x, y]}
      - route: /{record}/describe
        expect:
          status: 200
          schema: methods/record-xxxx/describe.json#/$defs/output
          values:
            $.tags: [x, y]
"""


@pytest.fixture()
def tags_suite(tmp_path):
    return write_suite(tmp_path, TAGS)


def test_a_case_passes_on_the_reference_server(refserver, tags_suite):
    with session_for(refserver.url, tags_suite) as session:
        result = run_case(session, case_of(tags_suite, "tags-stick"))
    assert result.outcome == Outcome.PASSED, result.message
    assert result.id == "cases.yaml::tags-stick"
    assert result.routes == ["/record/new", "/record-xxxx/addTags", "/record-xxxx/describe"]
    # fixture (project/new), three steps, fixture finally (destroy)
    assert [e.request.path.rsplit("/", 1)[-1] for e in result.exchanges] == [
        "new", "new", "addTags", "describe", "destroy"]
    assert not [f for f in result.findings if f.level == Level.MUST]
    assert result.duration_ms >= 0


def test_the_same_case_fails_on_a_server_breaking_the_rule(tags_suite):
    with faulty_server("tags-do-not-stick") as server, session_for(server.url, tags_suite) as session:
        result = run_case(session, case_of(tags_suite, "tags-stick"))
    assert result.outcome == Outcome.FAILED
    assert "step 3" in result.message and "$.tags" in result.message
    assert "cases.yaml:" in result.message  # the step's file:line


def test_a_must_finding_fails_a_case_whose_expectations_hold(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: whoami
    title: whoami answers
    steps:
      - route: /system/whoami
        expect: {status: 200, values: {$.id: {$regex: "^user-"}}}
""")
    with session_for(refserver.url, suite) as session:
        assert run_case(session, suite.cases[0]).outcome == Outcome.PASSED
    with faulty_server("text-plain-answers") as server, session_for(server.url, suite) as session:
        result = run_case(session, suite.cases[0])
        checks = {r.id: r for r in session.ledger.results()}
    assert result.outcome == Outcome.FAILED
    assert result.message.startswith("check json_content_type:")
    assert any(f.check == "json_content_type" and f.level == Level.MUST for f in result.findings)
    ledger_entry = checks["checks/json_content_type::/system/whoami"]
    assert ledger_entry.outcome == Outcome.FAILED and ledger_entry.routes == ["/system/whoami"]
    # whoami answered 200: the error-envelope rule had nothing to apply to.
    assert checks["checks/error_envelope::/system/whoami"].outcome == Outcome.NOT_APPLICABLE


def test_should_findings_are_kept_as_warnings_on_a_passing_case(tmp_path):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: whoami
    title: whoami answers
    steps:
      - route: /system/whoami
""")
    with faulty_server("no-nosniff") as server, session_for(server.url, suite) as session:
        result = run_case(session, suite.cases[0])
    assert result.outcome == Outcome.PASSED
    assert [(f.check, f.level) for f in result.findings] == [("nosniff", Level.SHOULD)]


CLOSE = HEADER + """
cases:
  - id: close-then-closed
    title: a closed file ends closed
    uses: [project]
    steps:
      - route: /file/new
        body: {project: "{project}", name: "{run_prefix}-f"}
        save: {file: $.id}
      - route: /{file}/close
      - route: /{file}/describe
        eventually: {timeout: 2, interval: 0.05}
        expect:
          values: {$.state: closed}
"""


def test_eventually_reports_how_long_the_server_took(tmp_path, refserver):
    suite = write_suite(tmp_path, CLOSE)
    with session_for(refserver.url, suite) as session:  # the shared server closes files in 200 ms
        result = run_case(session, suite.cases[0])
    assert result.outcome == Outcome.PASSED, result.message
    took = int(result.message.split("held after ")[1].split(" ms")[0])
    assert 150 <= took < 2000
    assert "tries)" in result.message


def test_eventually_gives_up_at_its_deadline(tmp_path):
    suite = write_suite(tmp_path, CLOSE)
    with faulty_server("close-does-nothing") as server, session_for(server.url, suite) as session:
        started = time.monotonic()
        result = run_case(session, suite.cases[0])
    assert 2 <= time.monotonic() - started < 6
    assert result.outcome == Outcome.FAILED
    assert "did not hold within 2 s" in result.message and "$.state" in result.message
    # Every poll was checked, but a long poll keeps only its first and last exchanges in the record.
    polls = [e for e in result.exchanges if e.request.path.endswith("/describe")]
    assert 2 <= len(polls) <= 5


def test_finally_steps_run_after_a_failure(tmp_path, refserver, client):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: fails-midway
    title: a step that fails, then cleanup
    uses: [project]
    steps:
      - route: /record/new
        body: {project: "{project}", name: "{run_prefix}-r"}
        save: {record: $.id}
      - route: /{record}/describe
        expect: {status: 418}
      - route: /system/whoami
    finally:
      - route: /{project}/removeObjects
        body: {objects: ["{record}"]}
      - route: /{record}/describe
        expect: {status: 404}
""")
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
        leftover = session.tracker.snapshot()
    assert result.outcome == Outcome.FAILED
    assert "step 2" in result.message and "status 200, expected 418" in result.message
    methods = [e.request.path.rsplit("/", 1)[-1] for e in result.exchanges]
    assert methods == ["new", "new", "describe", "removeObjects", "describe", "destroy"]
    assert "whoami" not in methods  # steps stop at the first failure; finally steps do not
    assert leftover["projects"] == {}  # the fixture's own finally destroyed its project


def test_a_finally_step_whose_values_were_never_saved_is_skipped(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: setup-fails
    title: the first step fails before saving
    steps:
      - route: /record/new
        body: {name: no-project}
        expect: {status: 200}
        save: {record: $.id}
    finally:
      - route: /{record}/describe
""")
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
    assert result.outcome == Outcome.FAILED
    assert len(result.exchanges) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_transport_error_is_an_error_outcome_not_an_exception(tmp_path):
    suite = write_suite(tmp_path, TAGS)
    with session_for(f"http://127.0.0.1:{_closed_port()}", suite, timeout=2) as session:
        result = run_case(session, case_of(suite, "tags-stick"))
        report = session.cleanup()
    assert result.outcome == Outcome.ERROR
    assert "no answer" in result.message and "refused" in result.message
    assert report.failed == []  # nothing was created, so nothing is left to remove


def test_a_hanging_route_ends_as_error_within_the_timeout(tmp_path):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: whoami
    title: whoami answers
    steps:
      - route: /system/whoami
  - id: greet
    title: greet answers
    steps:
      - route: /system/greet
        body: {client: dxconform, version: "0.1"}
""")
    with faulty_server("hangs-on-whoami") as server, session_for(server.url, suite, timeout=1.0) as session:
        started = time.monotonic()
        hung = run_case(session, case_of(suite, "whoami"))
        elapsed = time.monotonic() - started
        after = run_case(session, case_of(suite, "greet"))
        second = run_case(session, case_of(suite, "whoami"))
        started = time.monotonic()
        third = run_case(session, case_of(suite, "whoami"))
        third_took = time.monotonic() - started
    assert hung.outcome == Outcome.ERROR and elapsed < 5
    assert "timeout" in hung.message or "deadline" in hung.message
    assert after.outcome == Outcome.PASSED  # the run goes on
    # After two timeouts in a row the route is not called again: one hanging route costs two timeouts.
    assert second.outcome == Outcome.ERROR and len(second.exchanges) == 1
    assert third.outcome == Outcome.ERROR and third.exchanges == [] and third_took < 0.5
    assert "not sent: /system/whoami timed out 2 times" in third.message
    assert third.routes == ["/system/whoami"]


OPTIONAL = """
defaults: {area: semantics, topic: databases, level: MUST, source: tests/engine}
cases:
  - id: new-dbcluster
    title: a database cluster can be made
    profile: databases
    steps:
      - route: /dbcluster/new
        body: {project: project-B0000000000000000000000Q}
  - id: new-dbcluster-core
    title: the same, claimed core
    steps:
      - route: /dbcluster/new
        body: {project: project-B0000000000000000000000Q}
  - id: optional-but-wrong
    title: an optional case failing on a core route
    profile: databases
    steps:
      - route: /system/whoami
        expect: {status: 201}
"""


def test_an_optional_route_the_server_lacks_is_unsupported_but_never_for_core(tmp_path, refserver):
    suite = write_suite(tmp_path, OPTIONAL)
    with session_for(refserver.url, suite) as session:
        outcomes = {case.id: run_case(session, case) for case in suite.cases}
    assert outcomes["new-dbcluster"].outcome == Outcome.UNSUPPORTED
    assert "does not have this route" in outcomes["new-dbcluster"].message
    assert "dxconformNoSuchMethod" in outcomes["new-dbcluster"].message   # the control it was told apart by
    assert outcomes["new-dbcluster-core"].outcome == Outcome.FAILED
    assert outcomes["optional-but-wrong"].outcome == Outcome.FAILED


def test_unselected_profiles_are_skipped(tmp_path, refserver):
    suite = write_suite(tmp_path, OPTIONAL)
    with session_for(refserver.url, suite, profiles=frozenset({"apps"})) as session:
        result = run_case(session, case_of(suite, "new-dbcluster"))
        core = run_case(session, case_of(suite, "optional-but-wrong"))
    assert result.outcome == Outcome.SKIPPED and "not selected" in result.message
    assert core.outcome == Outcome.SKIPPED


def test_a_case_needing_a_second_user_without_a_token_is_unsupported(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: as-bob
    title: bob is someone else
    steps:
      - route: /system/whoami
        user: bob
""")
    with session_for(refserver.url, suite, tokens={"alice": "alice-token"}) as session:
        result = run_case(session, suite.cases[0])
    assert result.outcome == Outcome.UNSUPPORTED and "'bob'" in result.message and "--token2" in result.message


def test_no_token_reaches_a_result(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: tokens
    title: tokens in headers and literal tokens
    steps:
      - route: /system/whoami
        user: bob
      - route: /system/whoami
        token: alice-token
        body: {echo: alice-token}
        expect: {status: 418}
""")
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
    text = json.dumps(result.to_json())
    assert result.outcome == Outcome.FAILED
    assert "alice-token" not in text and "bob-token" not in text
    assert "Bearer ***" in text


def test_a_schema_expectation_reports_the_failing_path(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: wrong-schema
    title: whoami does not answer a file description
    steps:
      - route: /system/whoami
        expect: {schema: methods/file-xxxx/describe.json#/$defs/output}
""")
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
    assert result.outcome == Outcome.FAILED
    assert "schema methods/file-xxxx/describe.json#/$defs/output" in result.message


RERUN_NAMES = HEADER + """
cases:
  - id: global-name
    title: an app named after the case, then a step that fails
    steps:
      - {route: /project/new, body: {name: "{run_prefix}-{case_id}"}, save: {project: $.id}}
      - route: /applet/new
        body: {project: "{project}", dxapi: "1.0.0", runSpec: {interpreter: bash, code: "main() {\\n  true\\n}\\n"}}
        save: {applet: $.id}
      - {route: /app/new, body: {applet: "{applet}", name: "{run_prefix}-{case_id}", version: "1.0.0"}}
      - {route: /system/whoami, expect: {status: 201}}
    finally:
      - {route: "/{project}/destroy"}
"""


def test_a_rerun_names_what_it_makes_apart_from_the_first_attempt(tmp_path, refserver):
    """App names are global and stay taken after delete: attempt 1 gets case_id "<id>-r1", so a rerun fails
    where the first attempt failed, not on the name the first attempt took."""
    suite = write_suite(tmp_path, RERUN_NAMES)
    with session_for(refserver.url, suite) as session:
        assert session.builtin_values("a b", 0)["case_id"] == "a-b"
        assert session.builtin_values("a b", 2)["case_id"] == "a-b-r2"
        first = run_case(session, suite.cases[0])
        again = run_case(session, suite.cases[0], attempt=1)
    for result in (first, again):
        assert result.outcome == Outcome.FAILED and "status 200, expected 201" in result.message, result.message
