"""Telling an absent method from a present one (engine/absence.py) and the profile probe (engine/profiles.py).

Unit cases on answers, then the probe over HTTP: against the reference server (core only), and against a
small server on loopback that has one executables route and answers unknown methods in its own words.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.engine.absence import Answer, absent_because
from conformance.engine.profiles import NOT_IMPLEMENTED, probe_profiles
from conformance.engine.transport import Transport
from conformance.model import Outcome
from conformance.refserver.server import RefServer
from conformance.spec import load_spec

UNKNOWN = Answer(404, "ResourceNotFound", "Unknown method dxconformNoSuchMethod")
CONTROL_AT = "/system/dxconformNoSuchMethod"


def test_405_and_501_mean_absent_without_a_control() -> None:
    assert absent_because(Answer(405, "MethodNotAllowed", "no"), "/system/findJobs", None, "")
    assert absent_because(Answer(501, None, "not implemented"), "/system/findJobs", None, "")


def test_an_answer_like_the_control_with_the_method_name_swapped_is_absent() -> None:
    answer = Answer(404, "ResourceNotFound", "Unknown method findJobs")
    evidence = absent_because(answer, "/system/findJobs", UNKNOWN, CONTROL_AT)
    assert evidence and "dxconformNoSuchMethod" in evidence and "findJobs" in evidence


@pytest.mark.parametrize("answer", [
    Answer(404, "ResourceNotFound", "The entity job-B0000000000000000000000Q could not be found"),  # other words
    Answer(404, "InvalidType", "Unknown method findJobs"),                                           # other type
    Answer(422, "InvalidInput", "Unknown method findJobs"),                                          # other status
    Answer(200, None, "{}"),                                                                         # a success
    Answer(401, "InvalidAuthentication", "Unknown method findJobs"),                                 # no token
])
def test_an_answer_that_differs_from_the_control_or_says_nothing_of_the_method_is_present(answer: Answer) -> None:
    assert absent_because(answer, "/system/findJobs", UNKNOWN, CONTROL_AT) is None


def test_without_a_control_only_405_and_501_are_absent() -> None:
    assert absent_because(Answer(404, "ResourceNotFound", "Unknown method"), "/system/findJobs", None, "") is None


def test_the_method_name_is_replaced_as_a_whole_word_only() -> None:
    # "new" inside "renewal" is not the method name: the messages differ, so the method counts as present.
    control = Answer(404, "ResourceNotFound", "dxconformNoSuchMethod: no renewal")
    answer = Answer(404, "ResourceNotFound", "new: no renewal")
    assert absent_because(answer, "/applet/new", control, "/applet/dxconformNoSuchMethod")
    assert absent_because(Answer(404, "ResourceNotFound", "new: no rene"), "/applet/new", control,
                          "/applet/dxconformNoSuchMethod") is None


def test_probe_of_the_reference_server_finds_core_executables_workflows_apps_and_nothing_else() -> None:
    spec = load_spec()
    with RefServer() as server, Transport(server.url, {"alice": server.token("alice")}) as transport:
        statuses, _ = probe_profiles(transport, spec, ["executables", "workflows", "databases"], "dxc-probetest")
        projects = server.app.db.conn.execute(
            "SELECT COUNT(*) FROM containers WHERE name LIKE 'dxc-probetest%'").fetchone()[0]
    assert statuses["core"].status == "claimed" and not statuses["core"].missing
    assert statuses["core"].claim_result().outcome == Outcome.PASSED
    # The server has every probed route of executables and workflows ...
    for name in ("executables", "workflows"):
        assert statuses[name].claim_result().outcome == Outcome.PASSED, name
        assert not statuses[name].missing, name
    # ... apps is there unclaimed (detected) ...
    assert statuses["apps"].status == "detected" and statuses["apps"].claim_result() is None
    # ... and none of databases: claiming it fails, naming the claim.
    databases = statuses["databases"]
    assert databases.claimed and databases.missing
    result = databases.claim_result()
    assert result.outcome == Outcome.FAILED and "claims profile databases" in result.message
    for name in ("misc", "notifications", "orgs-users", "projects-admin"):
        assert statuses[name].status == NOT_IMPLEMENTED and statuses[name].claim_result() is None, name
    # projects-admin's routes were probed on a project made for the probe, and that project is gone again.
    assert all(p.path.startswith("/project-") for p in statuses["projects-admin"].probes)
    assert projects == 0


class _OneRouteServer(BaseHTTPRequestHandler):
    """Has /system/whoami and /system/findJobs (refusing non-mapping input); every other method is unknown,
    in its own words and with its own status (400)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        path = self.path
        if path == "/system/whoami":
            status, answer = 200, {"id": "user-alice"}
        elif path == "/system/findJobs":
            status, answer = ((422, {"error": {"type": "InvalidInput", "message": "input must be a hash"}})
                              if not isinstance(body, dict) else (200, {"results": [], "next": None}))
        else:
            method = path.rsplit("/", 1)[-1]
            status, answer = 400, {"error": {"type": "InvalidType", "message": f"method '{method}' is unknown"}}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def one_route_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OneRouteServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_probe_detects_a_profile_by_one_route_whatever_the_server_calls_unknown_methods(
        one_route_server: str) -> None:
    with Transport(one_route_server, {"alice": "token-of-the-one-route-server"}) as transport:
        statuses, _ = probe_profiles(transport, load_spec(), [], "dxc-probetest", project="project-x")
    executables = statuses["executables"]
    assert executables.status == "detected"
    present = [p for p in executables.probes if p.present]
    assert [p.route for p in present] == ["/system/findJobs"]
    assert present[0].answer["status"] == 422
    # Not claimed: the probe stops at the first route that is there, and no claim result is made.
    assert executables.claim_result() is None
    assert statuses["databases"].status == NOT_IMPLEMENTED
    assert all(p.answer["status"] == 400 for p in statuses["databases"].probes)
