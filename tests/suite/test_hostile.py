"""Hostile and broken servers: the run still finishes, in bounded time, with clear outcomes and no leaked token."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from conformance.refserver.server import free_port
from tests.engine.hostile import HostileServer, answer

from .runs import Run, dxconform_run

TOKEN, TOKEN2 = "hostile-test-token-1", "hostile-test-token-2"
TIMEOUT_S = 2


def test_a_route_that_hangs_ends_in_error_within_the_timeout(tmp_path):
    # the cases around the system routes: whoami hangs, its neighbours answer
    run = dxconform_run(["--embedded-fault", "hangs-on-whoami", "--timeout", str(TIMEOUT_S),
                         "-k", "system.yaml or identity.yaml"], tmp_path / "out")
    assert run.results is not None, run.describe()
    hung = [r for r in run.items if "/system/whoami" in r.get("routes", []) and r["kind"] == "case"
            and r.get("outcome") not in ("skipped", "unsupported")]
    assert hung, "no case calls /system/whoami"
    assert {r["outcome"] for r in hung} == {"error"}, [(r["id"], r["outcome"]) for r in hung]
    for r in hung:
        # one stalled exchange per step, each cut at the timeout (a little slack for the scheduler)
        assert r["duration_ms"] <= (TIMEOUT_S + 3) * 1000 * max(1, len(r.get("exchanges") or [1])), r["id"]
    # the other routes answered normally
    assert len(run.by_outcome("passed")) > len(hung), run.describe()
    # core is claimed, and the profile probe could not probe whoami: the claim fails, saying so
    core = next(r for r in run.items if r["id"] == "profiles/core")
    assert core["outcome"] == "failed" and "not probed" in core["message"], core["message"]
    must_broken = [r for r in run.items if r.get("level") == "MUST" and r["outcome"] in ("failed", "error")]
    assert run.returncode == (1 if must_broken else 0), run.describe()


def test_unreachable_server_is_one_line_and_exit_2(tmp_path):
    port = free_port()  # nothing listens there
    run = dxconform_run(["--server", f"http://127.0.0.1:{port}", "--token", TOKEN], tmp_path / "out", timeout=60)
    assert run.returncode == 2, run.describe()
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert TOKEN not in run.stderr + run.stdout


def finished_against(server: HostileServer, tmp_path: Path, *extra: str) -> Run:
    """A run against `server` finishes (exit 1 or 2, never a crash), and prints no traceback."""
    started = time.monotonic()
    # a slice of the suite is enough to meet the hostile answers on many routes; the whole suite adds only time
    run = dxconform_run(["--server", server.url, "--token", TOKEN, "--token2", TOKEN2, "--timeout", "3",
                         "-k", "system.yaml or tokens.yaml or absent-id-no-input", *extra],
                        tmp_path / "out", timeout=180)
    assert run.returncode in (1, 2), run.describe()
    assert "Traceback" not in run.stderr + run.stdout, run.stderr[-3000:]
    if run.returncode == 2:
        assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1, run.stderr
    else:
        assert run.results is not None and (run.by_outcome("failed") or run.by_outcome("error")), run.describe()
    assert time.monotonic() - started < 170
    return run


def test_html_answers_finish_the_run(tmp_path):
    page = b"<html><body><h1>Welcome to nginx</h1></body></html>"
    with HostileServer(answer("200 OK", page, {"Content-Type": "text/html"})) as server:
        finished_against(server, tmp_path)
        assert server.requests, "the run never reached the server"


def test_huge_answers_finish_the_run(tmp_path):
    block = b'{"x": "' + b"A" * 65536
    blocks = 1600  # about 100 MiB, far above any sane limit of a client
    sent: list[int] = []

    def huge_then_small(conn: socket.socket) -> None:
        # the start-up probe's whoami (one per token) is answered, so that the run starts
        request = server.requests[-1]
        if request.startswith(b"POST /system/whoami ") and len(server.requests) <= 2:
            user = b"1" if TOKEN.encode() in request else b"2"
            answer("200 OK", b'{"id": "user-' + user + b'"}', {"Content-Type": "application/json"})(conn)
            return
        # the first few answers are huge (until the client hangs up); the rest are small 404 envelopes
        if len(sent) < 3:
            sent.append(0)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            for _ in range(blocks):
                conn.sendall(block)
                sent[-1] += len(block)
        else:
            answer("404 Not Found", b'{"error": {"type": "ResourceNotFound", "message": "no"}}',
                   {"Content-Type": "application/json"})(conn)

    with HostileServer(huge_then_small) as server:
        finished_against(server, tmp_path)
    assert len(sent) == 3
    # the client hung up on every huge answer instead of reading it all
    assert all(n < blocks * len(block) for n in sent), sent


def test_redirects_to_another_port_never_carry_the_token(tmp_path):
    with HostileServer(answer("200 OK", b'{"id": "x"}', {"Content-Type": "application/json"})) as elsewhere:

        def redirect(conn: socket.socket) -> None:
            answer("307 Temporary Redirect", b"", {"Location": f"{elsewhere.url}/system/whoami"})(conn)

        with HostileServer(redirect) as server:
            finished_against(server, tmp_path)
            assert any(TOKEN.encode() in r for r in server.requests), "the token never reached the server itself"
            for raw in elsewhere.requests:
                assert TOKEN.encode() not in raw and TOKEN2.encode() not in raw, raw[:300]
                assert b"authorization:" not in raw.lower(), raw[:300]
