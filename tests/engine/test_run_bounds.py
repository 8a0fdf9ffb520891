"""The engine's bounds against hostile servers, part by part: the breaker, the URL cap, the body budget, the
memo of awaited states and bounded messages (tests/hostile/test_suite_bounds.py runs them end to end)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading

from conformance.cases.model import Expect
from conformance.engine.awaits import AwaitMemo
from conformance.engine.body_budget import BODY_HEAD_BYTES, BodyBudget
from conformance.engine.expectations import Miss
from conformance.engine.transport import BREAKER_LIMIT, MAX_URL_CHARS, Transport
from conformance.model import (
    BODY_RECORD_LIMIT,
    MESSAGE_LIMIT,
    Area,
    Exchange,
    Finding,
    Level,
    Mismatch,
    Request,
    Response,
)

from .hostile import HostileServer, answer


def _ok(conn: socket.socket) -> None:
    answer("200 OK", b'{"id": "user-x"}', {"Content-Type": "application/json"})(conn)


# --- the breaker ---------------------------------------------------------------------------------------------

def test_the_breaker_trips_after_calls_in_a_row_without_an_answer_and_then_sends_nothing():
    release = threading.Event()
    with HostileServer(lambda conn: release.wait(10)) as server, \
            Transport(server.url, {"alice": "t"}, timeout=0.3) as transport:
        try:
            exchanges = [transport.call("/system/whoami", user="alice") for _ in range(BREAKER_LIMIT + 3)]
        finally:
            release.set()
        sent = len(server.requests)
    assert all(e.error.kind in ("timeout", "deadline") for e in exchanges[:BREAKER_LIMIT])
    assert {e.error.kind for e in exchanges[BREAKER_LIMIT:]} == {"breaker"}
    assert sent == BREAKER_LIMIT          # the calls after the trip never reached the server
    assert transport.breaker.tripped.startswith(f"the server stopped answering: {BREAKER_LIMIT} calls in a row")
    assert "\n" not in transport.breaker.tripped


def test_an_answer_resets_the_breaker_count():
    calls = []

    def every_third_answers(conn: socket.socket) -> None:
        calls.append(1)
        if len(calls) % 3 == 0:
            _ok(conn)
        else:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset

    with HostileServer(every_third_answers) as server, Transport(server.url, {"alice": "t"}, timeout=2) as transport:
        exchanges = [transport.call("/system/whoami", user="alice") for _ in range(3 * BREAKER_LIMIT)]
    assert transport.breaker.tripped is None
    assert not any(e.error is not None and e.error.kind == "breaker" for e in exchanges)


def test_a_url_too_long_to_send_is_not_sent():
    with HostileServer(_ok) as server, Transport(server.url, {"alice": "t"}, timeout=2) as transport:
        exchange = transport.call("/" + "x" * (MAX_URL_CHARS + 10) + "/describe", user="alice")
        assert not server.requests
    assert exchange.response is None and exchange.error.kind == "url_too_long"
    assert len(exchange.request.url) <= MAX_URL_CHARS and transport.breaker.in_a_row == 0


# --- the body budget -----------------------------------------------------------------------------------------

def _exchange(body: bytes) -> Exchange:
    return Exchange(Request("POST", "http://127.0.0.1:9/x/y", "/x/y"), Response(200, body=body))


def test_bodies_are_kept_whole_within_the_budget_then_keep_their_head_length_and_sha256():
    budget = BodyBudget(limit_bytes=3 * 1024 * 1024)
    bodies = [bytes([65 + n]) * (1024 * 1024 + n) for n in range(5)]
    kept = [budget.keep(_exchange(body)) for body in bodies]
    assert [k.response.body for k in kept[:2]] == bodies[:2]        # 2 MiB and a bit: within 3 MiB
    for original, copy in zip(bodies[2:], kept[2:], strict=True):
        response = copy.response
        assert response.body == original[:BODY_HEAD_BYTES]
        assert response.full_length == len(original)
        assert response.full_sha256 == hashlib.sha256(original).hexdigest()
    assert budget.cut_bodies == 3
    # small bodies are always whole and never counted
    assert budget.keep(_exchange(b"{}")).response.body == b"{}" and budget.cut_bodies == 3


def test_a_cut_body_is_recorded_with_its_marker_length_and_sha256():
    body = b"x" * (3 * BODY_RECORD_LIMIT)
    record = Response(200, body=body).cut(BODY_HEAD_BYTES).to_json()
    assert record["body"] == "x" * BODY_HEAD_BYTES + f"... [{len(body)} bytes in all]"
    assert record["body_cut"] == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                                  "kept": BODY_HEAD_BYTES}
    # a body past the record limit (never cut in memory) has the same marker in results.json
    whole = Response(200, body=body).to_json()
    assert whole["body_cut"]["kept"] == BODY_RECORD_LIMIT and whole["body_cut"]["length"] == len(body)
    assert "body_cut" not in Response(200, body=b"{}").to_json()
    json.dumps(record)


def test_messages_and_values_of_findings_and_misses_are_bounded():
    huge = "A" * (10 * MESSAGE_LIMIT)
    finding = Finding("output_schema", Level.MUST, Area.JSON_OUTPUT, "src", f"{{'pad': '{huge}'}} is bad",
                      actual={"pad": huge}).bounded()
    assert len(finding.message) < MESSAGE_LIMIT + 40 and finding.message.endswith("chars in all]")
    assert isinstance(finding.actual, str) and len(finding.actual) < MESSAGE_LIMIT + 40
    record = Mismatch("$.pad", "equals", text=huge, expected="x", actual=huge).to_json()
    assert len(record["text"]) < MESSAGE_LIMIT + 40 and len(record["actual"]) < MESSAGE_LIMIT + 40


# --- awaited states that never come --------------------------------------------------------------------------

ROUTE = "/file-xxxx/describe"
CLOSED = Expect(values={"$.state": "closed"})


def _missed(path: str = "$.state", expected: object = "closed") -> list[Miss]:
    return [Miss(f"{path}: expected {expected!r}, got 'open'", path, expected, "open")]


def test_a_state_that_never_came_twice_is_hopeless_and_names_the_first_wait():
    memo = AwaitMemo()
    memo.gave_up(ROUTE, _missed(), "a.yaml:3 (case-a)", seconds=2)
    assert memo.hopeless(ROUTE, _missed()) is None            # once is not yet a pattern
    memo.gave_up(ROUTE, _missed(), "b.yaml:9 (case-b)", seconds=2)
    assert memo.hopeless(ROUTE, _missed()) == "a.yaml:3 (case-a)"
    # the same state missed by a step that expects more besides is hopeless too; another state is not
    assert memo.hopeless(ROUTE, _missed() + _missed("$.size", 5)) == "a.yaml:3 (case-a)"
    assert memo.hopeless(ROUTE, _missed("$.state", "closing")) is None
    assert memo.hopeless("/record-xxxx/describe", _missed()) is None
    # a wait for another value at the same path that holds says nothing of it
    memo.held(ROUTE, Expect(values={"$.state": "open"}))
    assert memo.hopeless(ROUTE, _missed()) == "a.yaml:3 (case-a)"
    # once it does come, it is no longer hopeless
    memo.held(ROUTE, Expect(values={"$": {"state": "closed", "size": 5}}))
    assert memo.hopeless(ROUTE, _missed()) is None


def test_one_long_wait_that_gave_up_is_enough():
    memo = AwaitMemo()
    memo.gave_up(ROUTE, _missed(), "a.yaml:3 (case-a)", seconds=120)
    assert memo.hopeless(ROUTE, _missed()) == "a.yaml:3 (case-a)"
