"""Slow or greedy clients cannot hold the reference server: header and body timeouts, a connection cap, and a
large body does not hold up other clients."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

from conformance.refserver.limits import ServerLimits
from conformance.refserver.server import RefServer

from .hardened_server import USERS, call, closed_by_server, connect, ok, rss_kb, settings

SHORT = ServerLimits(header_seconds=1.0, body_idle_seconds=1.0, body_seconds=2.0, max_connections=40)
CHUNK = 256 * 1024
AUTH = f"Authorization: Bearer {USERS['alice']}\r\n".encode()

SERVER_PROCESS = textwrap.dedent("""
    import sys
    from conformance.refserver.context import Settings
    from conformance.refserver.limits import ServerLimits
    from conformance.refserver.server import RefServer

    limits = ServerLimits(header_seconds=1.0, body_idle_seconds=1.0, body_seconds=2.0, max_connections=40,
                          body_bytes_in_flight=int(sys.argv[1]))
    with RefServer(settings=Settings(users={"alice": "alice-token"}), limits=limits) as srv:
        print(srv.port, flush=True)
        sys.stdin.read()  # until the test closes our stdin
""")


@pytest.fixture()
def server() -> Iterator[RefServer]:
    with RefServer(settings=settings(), limits=SHORT) as srv:
        yield srv


IN_FLIGHT = 12 * 1024 * 1024


@pytest.fixture()
def server_process() -> Iterator[tuple[int, int]]:
    """(pid, port) of a reference server in its own process, whose memory the test can read; its bodies may
    hold IN_FLIGHT bytes at once."""
    proc = subprocess.Popen([sys.executable, "-c", SERVER_PROCESS, str(IN_FLIGHT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=os.getcwd())
    try:
        port = int(proc.stdout.readline())
        yield proc.pid, port
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()


def chunked_start(port: int, chunks: int):
    """A connection that sent headers of a chunked POST and `chunks` chunks, and then nothing."""
    sock = connect(port)
    sock.sendall(f"POST /system/whoami HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() + AUTH +
                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    try:
        for _ in range(chunks):
            sock.sendall(piece)
    except OSError:  # refused (and closed) before the whole body was sent: what the test then reads
        pass
    return sock


def answer_or_close(sock, within: float) -> bytes:
    """What the server sends before it closes the connection (b"" if it closes without a word)."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def test_unterminated_chunked_bodies_are_cut_and_memory_stays_bounded(server_process):
    pid, port = server_process
    call(f"http://127.0.0.1:{port}", "/system/whoami")  # warm up
    baseline = rss_kb(pid)
    started = time.monotonic()
    socks = [chunked_start(port, chunks=16) for _ in range(20)]  # 4 MiB each, never finished: 80 MiB
    try:
        time.sleep(0.3)
        held = rss_kb(pid)
        answers = [answer_or_close(s, within=SHORT.body_seconds + 2) for s in socks]
        elapsed = time.monotonic() - started
        time.sleep(0.3)
        after = rss_kb(pid)
    finally:
        for s in socks:
            s.close()
    statuses = sorted(a[:12] for a in answers)
    # The bodies that fit in IN_FLIGHT wait for their timeout (408); the others are refused at once (503).
    assert set(statuses) == {b"HTTP/1.1 408", b"HTTP/1.1 503"}, statuses
    assert statuses.count(b"HTTP/1.1 408") <= IN_FLIGHT // (4 * 1024 * 1024)
    assert elapsed < SHORT.body_seconds + 2
    # KiB: about IN_FLIGHT, never 20 x 4 MiB (let alone 20 x 58 MB as before the limits)
    assert held - baseline < 40_000, (baseline, held)
    assert after - baseline < 40_000, (baseline, after)
    answer, _ = call(f"http://127.0.0.1:{port}", "/system/whoami")
    assert answer.status_code == 200


def test_a_body_that_stops_gets_408_and_the_connection_closes(server):
    sock = chunked_start(server.port, chunks=1)
    try:
        sock.settimeout(SHORT.body_idle_seconds + 3)
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b'"RequestTimeout"' in answer
        assert closed_by_server(sock, within=2)
    finally:
        sock.close()


def test_a_slow_header_drip_is_cut(server):
    sock = connect(server.port)
    started = time.monotonic()
    closed = False
    try:
        sock.sendall(b"POST /system/whoami HTTP/1.1\r\n")
        for ch in b"X-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([ch]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
            if time.monotonic() - started > SHORT.header_seconds + 3:
                break
        closed = closed or closed_by_server(sock, within=1)
    finally:
        sock.close()
    assert closed and time.monotonic() - started < SHORT.header_seconds + 2.5


def test_a_silent_connection_is_cut(server):
    sock = connect(server.port)
    try:
        assert closed_by_server(sock, within=SHORT.header_seconds + 1.5)
    finally:
        sock.close()


def test_a_kept_alive_connection_is_not_cut_between_quick_requests(server):
    sock = connect(server.port)
    request = (f"POST /system/whoami HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode() + AUTH +
               b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    try:
        for _ in range(3):
            sock.sendall(request)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(SHORT.header_seconds * 0.6)
    finally:
        sock.close()


def test_connections_beyond_the_cap_are_refused():
    with RefServer(settings=settings(), limits=ServerLimits(max_connections=5)) as srv:
        idle = [connect(srv.port) for _ in range(5)]
        try:
            time.sleep(0.2)
            extra = connect(srv.port)
            try:
                assert closed_by_server(extra, within=2)
            finally:
                extra.close()
        finally:
            for s in idle:
                s.close()
        time.sleep(0.2)
        assert call(srv.url, "/system/whoami")[0].status_code == 200


def worst_whoami_during_a_50_mb_body(srv: RefServer, path: str = "/system/whoami", status: int = 200) -> float:
    """The slowest of alice's whoami calls made back to back while bob's 50 MB body to `path` is sent and
    handled (and answered `status`)."""
    big = b'{"pad": "' + b"x" * 50_000_000 + b'"}'
    done = threading.Event()
    outcome: list = []

    def send_big():
        try:
            outcome.append(call(srv.url, path, data=big, user="bob", timeout=60)[0].status_code)
        finally:
            done.set()

    sender = threading.Thread(target=send_big)
    sender.start()
    latencies = []
    while not done.is_set():
        answer, seconds = call(srv.url, "/system/whoami", user="alice")
        assert answer.status_code == 200
        latencies.append(seconds)
    sender.join()
    assert outcome == [status] and len(latencies) >= 3
    return max(latencies)


@pytest.mark.parametrize("target", ["whoami", "setDetails"])
def test_a_50_mb_body_does_not_hold_up_another_client(target):
    # Before, the body's parse and handling held every other client for up to 2.6 s. The client shares the
    # server's process (and a busy 2-CPU machine), so one spike may be the machine's: the best of 3 tries.
    with RefServer(settings=settings()) as srv:
        call(srv.url, "/system/whoami")  # warm up
        path, status = "/system/whoami", 200
        if target == "setDetails":  # details of 50 MB: refused (4 MiB at most) without being serialised
            project = ok(srv.url, "/project/new", {"name": "big"}, "bob")["id"]
            path = "/" + ok(srv.url, "/record/new", {"project": project}, "bob")["id"] + "/setDetails"
            status = 422
        worst = []
        for _ in range(3):
            worst.append(worst_whoami_during_a_50_mb_body(srv, path, status))
            if worst[-1] < 0.25:
                break
        assert min(worst) < 0.25, worst
