"""The public token `PUBLIC` is no secret: a step that sends it does not make every later "PUBLIC" (an app's
authorized user "everyone") a scrubbed `***` in the records the cases are judged on."""

from __future__ import annotations

import json

from conformance.cases import load_suite
from conformance.engine import run_case
from conformance.engine.transport import Transport
from conformance.model import REDACTED, Outcome
from conformance.redaction import PUBLIC_TOKENS, Redactor, redactor
from conformance.resources import cases_dir

from .hostile import HostileServer, answer
from .runner_support import session_for

SECRET = "very-secret-token-123"


def test_the_redactor_never_scrubs_the_public_token():
    scrubber = Redactor(["PUBLIC", SECRET])
    assert scrubber.tokens == (SECRET,)
    answer_ = {"authorizedUsers": ["user-bob", "PUBLIC"], "PUBLIC": f"Bearer {SECRET}"}
    assert scrubber.scrub_json(answer_) == {"authorizedUsers": ["user-bob", "PUBLIC"], "PUBLIC": f"Bearer {REDACTED}"}
    assert scrubber.scrub(b'["PUBLIC"]') == b'["PUBLIC"]'
    assert not redactor(["PUBLIC"]) and redactor(["PUBLIC"]).scrub("Bearer PUBLIC") == "Bearer PUBLIC"
    assert "PUBLIC" in PUBLIC_TOKENS


def test_an_answer_after_a_step_with_the_public_token_keeps_its_public_values():
    body = json.dumps({"authorizedUsers": ["PUBLIC"], "echo": SECRET}).encode()
    with HostileServer(answer("200 OK", body, {"Content-Type": "application/json"})) as server:
        transport = Transport(server.url, {"alice": SECRET}, timeout=1.0)
        public = transport.call("/system/findProjects", user=None, token="PUBLIC", json_body={})
        later = transport.call("/app-xxxx/listAuthorizedUsers", user="alice", json_body={"authorizedUsers": ["PUBLIC"]})
    assert public.response.json == {"authorizedUsers": ["PUBLIC"], "echo": REDACTED}
    assert later.request.json == {"authorizedUsers": ["PUBLIC"]}
    assert later.response.json == {"authorizedUsers": ["PUBLIC"], "echo": REDACTED}


def test_the_shipped_app_access_cases_pass_after_the_public_token_case(refserver):
    """The order in which two copies of the suite in one run met them (copy 0's real-platform.yaml before copy
    1's apps/access.yaml): once failed with "***" where "PUBLIC" was expected."""
    suite = load_suite([cases_dir() / "semantics" / "real-platform.yaml", cases_dir() / "semantics" / "apps" / "access.yaml"],
                       base=cases_dir().parent)
    order = ["public-token-find-projects", "authorized-users-list", "non-developer-cannot-edit"]
    cases = [next(case for case in suite.cases if case.id == case_id) for case_id in order]
    with session_for(refserver.url, suite) as session:
        results = [run_case(session, case, suite) for case in cases]
    assert [r.outcome for r in results] == [Outcome.PASSED] * len(order), [r.message for r in results]
