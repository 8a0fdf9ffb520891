"""The proxy's bounds against a hostile upstream: a gzip bomb, a huge body, a slow answer at --duration's end,
a huge request; measured on the `dxconform proxy` child process (peak RSS from /proc/<pid>/status)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
import urllib3

from conformance.proxy.app import LIMIT_NOTE
from conformance.proxy.rewrite import MAX_DECODED_BYTES
from conformance.proxy.server import ProxyRun
from conformance.proxy.upstream import MAX_BODY_BYTES
from tests.engine.hostile import HostileServer, answer, hang

LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$")
RSS_BOUND_KB = 500 * 1024
TOKEN = "proxy-bounds-secret-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM line")


@contextmanager
def proxy_process(upstream: str, out: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`dxconform proxy` as a child process; killed (never leaked) if the test fails before it ends."""
    command = [sys.executable, "-m", "conformance.cli.main", "proxy", "--upstream", upstream,
               "--listen", "127.0.0.1:0", "--out", str(out), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        match = LISTENING.match(line)
        assert match, f"no 'listening on' line: {line!r}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err
    return out, err


def gzip_bomb(decoded_bytes: int) -> bytes:
    """A single gzip member of `decoded_bytes` zeros (about 4.5 MB per GB at level 1)."""
    deflater = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (16 * 1024 * 1024)
    return b"".join([deflater.compress(chunk) for _ in range(decoded_bytes // len(chunk))] + [deflater.flush()])


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(1024 * 1024 * 1024)


def har_entries(out: Path) -> list[dict]:
    return json.loads((out / "exchanges.har").read_text())["log"]["entries"]


@pytest.mark.timeout(60)
def test_a_gzip_bomb_passes_through_undecoded_with_bounded_memory(tmp_path: Path, bomb: bytes) -> None:
    behave = answer("200 OK", bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    with HostileServer(behave) as upstream, proxy_process(upstream.url, tmp_path) as (process, url):
        got = urllib3.PoolManager().request("POST", url + "/system/whoami", body=b"{}", headers=HEADERS,
                                            decode_content=False, timeout=30)
        peak = peak_rss_kb(process.pid)
        printed, _ = stop(process)
    # The client got the answer as the server sent it; the proxy never held more than its limit decoded.
    assert got.status == 200 and got.headers["content-encoding"] == "gzip" and got.data == bomb
    assert peak < RSS_BOUND_KB, f"peak RSS {peak} kB"
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["traffic"]["over_limit"] == 1 and document["traffic"]["api"] == 1
    [entry] = har_entries(tmp_path)
    note = entry["_dxconform"][LIMIT_NOTE]
    assert f"decodes to more than the proxy's limit of {MAX_DECODED_BYTES} bytes" in note
    assert entry["response"]["_truncated"] is True and len(entry["response"]["content"]["text"]) <= 4096
    assert "1 exchange(s) past the proxy's size limits" in printed
    assert TOKEN not in printed and TOKEN not in (tmp_path / "exchanges.har").read_text()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")    # the report is written too, and parses
    HTMLParser().feed(page)
    assert "<html" in page[:500] and TOKEN not in page


def stream_body(size: int):
    def behave(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size)
        block = b"x" * (1024 * 1024)
        for _ in range(size // len(block)):
            conn.sendall(block)
    return behave


@pytest.mark.timeout(60)
def test_a_huge_body_is_streamed_on_not_held(tmp_path: Path) -> None:
    size = 8 * MAX_BODY_BYTES      # 256 MiB
    with HostileServer(stream_body(size)) as upstream, proxy_process(upstream.url, tmp_path) as (process, url):
        got = urllib3.PoolManager().request("POST", url + "/file-x/download", body=b"{}", headers=HEADERS,
                                            preload_content=False, timeout=30)
        received = sum(len(chunk) for chunk in got.stream(1024 * 1024))
        peak = peak_rss_kb(process.pid)
        stop(process)
    assert got.status == 200 and received == size
    # Held: at most the limit (32 MiB) and the process's own ~100 MB; never the whole 256 MiB body.
    assert peak < (size // 1024) * 3 // 4, f"peak RSS {peak} kB for a {size // 2**20} MiB body"
    [entry] = har_entries(tmp_path)
    assert f"longer than the proxy's limit of {MAX_BODY_BYTES} bytes" in entry["_dxconform"][LIMIT_NOTE]


@pytest.mark.timeout(60)
def test_duration_ends_within_a_second_with_a_slow_upstream_in_flight(tmp_path: Path) -> None:
    with HostileServer(hang) as upstream, proxy_process(upstream.url, tmp_path, "--duration", "2") as (process, url):
        listening = time.monotonic()
        threading.Thread(target=lambda: _ignore(requests.post, url + "/system/whoami", data=b"{}",
                                                headers=HEADERS, timeout=30), daemon=True).start()
        out, err = process.communicate(timeout=20)
        ended = time.monotonic()
    # The timer starts before the proxy listens, so `listening + 2` is the deadline or later.
    assert ended - listening < 2 + 1.0, f"ended {ended - listening:.2f} s after listening"
    assert process.returncode in (0, 1) and "Traceback" not in err, err
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["traffic"]["no_answer"] == 1
    [entry] = har_entries(tmp_path)
    assert entry["_error"]["kind"] == "interrupted"


def _ignore(function, *args, **kwargs) -> None:
    try:
        function(*args, **kwargs)
    except requests.RequestException:
        pass


def test_a_request_body_over_the_limit_is_refused_without_forwarding(tmp_path: Path) -> None:
    with HostileServer(answer("200 OK", b"{}", {"Content-Type": "application/json"})) as upstream:
        with ProxyRun(upstream.url, max_request_bytes=1024 * 1024) as proxy:
            refused = requests.post(proxy.url + "/file-x/upload", data=b"y" * (4 * 1024 * 1024), headers=HEADERS,
                                    timeout=30)
            accepted = requests.post(proxy.url + "/system/whoami", data=b"{}", headers=HEADERS, timeout=30)
        document, _ = proxy.finish(tmp_path)
    assert refused.status_code == 413 and "over the proxy's limit of 1048576 bytes" in refused.json()["error"]["message"]
    assert accepted.status_code == 200 and len(upstream.requests) == 1
    assert document["traffic"]["over_limit"] == 1
