"""The transport against hostile loopback servers: it never hangs, never explodes, never leaks the token."""

from __future__ import annotations

import json
import socket
import time

import pytest

from conformance.engine.transport import _WATCHER, Transport, _Watchdog

from .hostile import (
    HostileServer,
    answer,
    hang,
    huge_unannounced,
    slam,
    trickle_body,
    trickle_headers,
    truncated,
)

TOKEN = "very-secret-token-123"


def transport_for(server: HostileServer, **kwargs) -> Transport:
    return Transport(server.url, {"alice": TOKEN}, **{"timeout": 1.0, **kwargs})


def timed(function):
    started = time.monotonic()
    result = function()
    return result, time.monotonic() - started


def test_a_good_answer_is_recorded_with_the_token_redacted():
    body = json.dumps({"echo": f"Bearer {TOKEN}"}).encode()
    with HostileServer(answer("200 OK", body, {"Content-Type": "application/json", "X-Echo": TOKEN})) as server:
        exchange = transport_for(server).call("/system/whoami", user="alice", json_body={"a": 1})
    assert exchange.error is None and exchange.response.status == 200
    assert exchange.request.headers["authorization"] == "Bearer ***"
    assert exchange.request.json == {"a": 1}
    # The token did go to the server, but appears nowhere in the record.
    assert f"Bearer {TOKEN}".encode() in server.requests[0]
    assert TOKEN not in json.dumps(exchange.to_json())
    assert exchange.response.json == {"echo": "Bearer ***"}
    assert exchange.response.headers["x-echo"] == "***"


def test_a_server_that_never_answers_gives_a_timeout():
    with HostileServer(hang) as server:
        exchange, seconds = timed(lambda: transport_for(server).call("/system/whoami", user="alice"))
    assert exchange.response is None
    assert exchange.error.kind in ("timeout", "deadline")
    assert seconds < 5


def test_a_trickled_body_is_cut_at_the_deadline():
    with HostileServer(trickle_body) as server:
        exchange, seconds = timed(lambda: transport_for(server).call("/system/whoami", user="alice"))
    assert exchange.error.kind == "deadline"
    assert exchange.response.status == 200 and exchange.response.truncated
    assert 0 < len(exchange.response.body) < 100000
    assert seconds < 5


def test_trickled_headers_are_cut_at_the_deadline():
    with HostileServer(trickle_headers) as server:
        exchange, seconds = timed(lambda: transport_for(server).call("/system/whoami", user="alice"))
    assert exchange.error.kind == "deadline"
    assert exchange.response is None or exchange.response.truncated
    assert seconds < 5


def _fired_within(watchdog: _Watchdog, seconds: float) -> bool:
    until = time.monotonic() + seconds
    while not watchdog.fired and time.monotonic() < until:
        time.sleep(0.01)
    return watchdog.fired


def test_a_watchdog_due_before_the_pending_ones_still_fires_at_its_own_deadline():
    """The watcher thread is woken only for a deadline nearer than the one it waits for: a short deadline armed
    while a long one is pending must wake it, or a trickling server would hold the run for the long one."""
    pending = _Watchdog(60.0)
    _WATCHER.arm(pending)
    try:
        short = _Watchdog(0.2)
        _WATCHER.arm(short)
        assert _fired_within(short, 3.0)
        assert not pending.fired
    finally:
        _WATCHER.disarm(pending)


def test_a_watchdog_armed_after_an_earlier_one_was_disarmed_fires_at_its_deadline():
    first = _Watchdog(0.3)
    _WATCHER.arm(first)
    _WATCHER.disarm(first)
    later = _Watchdog(0.5)       # due after the wake-up the watcher still has planned for `first`
    _WATCHER.arm(later)
    try:
        assert _fired_within(later, 3.0) and not first.fired
    finally:
        _WATCHER.disarm(later)


def test_a_huge_announced_body_is_not_read():
    body = b"x" * 5000
    with HostileServer(answer("200 OK", body)) as server:
        exchange = transport_for(server, max_body_bytes=1000).call("/system/whoami", user="alice")
    assert exchange.error.kind == "too_large" and exchange.response.truncated


def test_a_huge_unannounced_body_stops_at_the_cap():
    with HostileServer(huge_unannounced) as server:
        exchange, seconds = timed(
            lambda: transport_for(server, max_body_bytes=100_000, timeout=5).call("/system/whoami", user="alice"))
    assert exchange.error.kind == "too_large"
    assert len(exchange.response.body) == 100_000 and exchange.response.truncated
    assert seconds < 5


def test_a_short_body_is_marked_truncated():
    with HostileServer(truncated) as server:
        exchange = transport_for(server).call("/system/whoami", user="alice")
    assert exchange.error.kind == "truncated"
    assert exchange.response.body == b'{"id": ' and exchange.response.truncated


def test_a_reset_connection_is_an_error_not_an_exception():
    with HostileServer(slam) as server:
        exchange = transport_for(server).call("/system/whoami", user="alice")
    assert exchange.response is None and exchange.error.kind in ("reset", "connection", "protocol")


def test_a_refused_connection_is_an_error_not_an_exception():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exchange = Transport(f"http://127.0.0.1:{port}", {"alice": TOKEN}, timeout=1).call("/system/whoami",
                                                                                      user="alice")
    assert exchange.response is None and exchange.error.kind in ("refused", "connection")


def test_a_redirect_is_recorded_and_never_followed_with_the_token():
    with HostileServer(answer("200 OK", b"{}")) as elsewhere:
        redirect = answer("307 Temporary Redirect", b"", {"Location": elsewhere.url + "/system/whoami"})
        with HostileServer(redirect) as server:
            exchange = transport_for(server).call("/system/whoami", user="alice")
            time.sleep(0.2)
    assert exchange.response.status == 307
    assert exchange.response.headers["location"].startswith(elsewhere.url)
    assert elsewhere.requests == []
    assert TOKEN.encode() in server.requests[0]


def test_fetch_never_sends_the_token():
    with HostileServer(answer("200 OK", b"hello")) as server:
        transport = Transport("http://127.0.0.1:9", {"alice": TOKEN}, timeout=1)
        exchange = transport.fetch(server.url + "/upload/1", "PUT", {"Authorization": f"Bearer {TOKEN}",
                                                                     "X-Part": "1"}, b"bytes")
    assert exchange.response.body == b"hello" and exchange.response.json is not None
    received = server.requests[0].lower()
    assert b"authorization" not in received and TOKEN.encode() not in received
    assert b"x-part: 1" in received and received.endswith(b"bytes")


def test_raw_bodies_and_header_removal():
    with HostileServer(answer("200 OK", b"{}")) as server:
        transport = transport_for(server)
        transport.call("/system/whoami", user=None, raw_body=b"{oops", headers={"Content-Type": None})
    received = server.requests[0]
    assert received.endswith(b"{oops")
    assert b"content-type" not in received.lower() and b"authorization" not in received.lower()


def test_a_literal_token_is_redacted_too():
    with HostileServer(answer("200 OK", b'{"seen": "not-issued-token"}')) as server:
        exchange = transport_for(server).call("/system/whoami", user=None, token="not-issued-token")
    assert "not-issued-token" not in json.dumps(exchange.to_json())


@pytest.mark.parametrize("path", ["system/whoami", "http://elsewhere/x"])
def test_paths_must_be_absolute_paths(path):
    with pytest.raises(ValueError):
        Transport("http://127.0.0.1:9", {}).call(path, user=None)


def test_an_unknown_user_is_a_configuration_error():
    with pytest.raises(ValueError, match="no token for user 'carol'"):
        Transport("http://127.0.0.1:9", {"alice": TOKEN}).call("/system/whoami", user="carol")
