"""What the proxy holds does not grow with the exchanges it sees: the HAR is spooled to disk in start order, the
checks run in a child process with the same results, and upstream calls reuse their threads (issue 21)."""

from __future__ import annotations

import json
import threading
import time

from conformance.model import Exchange, Headers, Request, Response
from conformance.proxy.app import DaemonWorkers
from conformance.proxy.har import Entry, read_har
from conformance.proxy.monitor import Monitor
from conformance.proxy.recording import HarSpool
from conformance.proxy.traffic import Traffic
from conformance.spec import load_spec

STARTED = 1_764_150_000_000
JSON = Headers({"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"})


def exchange(path: str = "/system/whoami", answer: bytes = b'{"id": "user-alice"}', status: int = 200) -> Exchange:
    request = Request("POST", "http://127.0.0.1:9" + path, path,
                      Headers({"Authorization": "Bearer secret-token", "Content-Type": "application/json"}), b"{}")
    return Exchange(request, Response(status, JSON, answer), None, 1)


def started_of(path) -> list[int]:
    return [entry.started_ms for entry in read_har(path)[0]]


def test_entries_wait_only_for_exchanges_that_started_before_them(tmp_path) -> None:
    spool = HarSpool()
    spool.begin(STARTED + 1)
    spool.begin(STARTED + 2)
    spool.add(Entry(exchange(), STARTED + 2))     # the later exchange answered first: held
    spool.end(STARTED + 2)
    assert (spool.held, spool.written) == (1, 0)
    spool.add(Entry(exchange(), STARTED + 1))
    spool.end(STARTED + 1)
    assert (spool.held, spool.written) == (0, 2)
    spool.begin(STARTED + 3)                       # still in flight at the end: written anyway
    spool.add(Entry(exchange(), STARTED + 3))
    spool.add(Entry(exchange(), STARTED + 4))
    assert spool.held == 1
    path = spool.write(tmp_path / "x.har", ["secret-token"], creator_version="0", notes={"upstream": "u"})
    spool.close()
    assert started_of(path) == [STARTED + 1, STARTED + 2, STARTED + 3, STARTED + 4]
    text = path.read_text()
    assert "secret-token" not in text and json.loads(text)["log"]["_dxconform"] == {"upstream": "u"}


def test_a_long_session_holds_nothing_per_exchange(tmp_path) -> None:
    monitor = Monitor(load_spec())
    traffic = Traffic(monitor)
    count = 2000
    for index in range(count):
        traffic.begin(STARTED + index)
        traffic.record(exchange(), STARTED + index, content=False)
        traffic.submit(exchange(), STARTED + index)
        traffic.end(STARTED + index)
    traffic.close()
    assert traffic._spool.held == 0 and traffic._spool.written == count   # on disk, not in memory
    assert traffic.counts()["api"] == count
    path = traffic.write_har(tmp_path / "exchanges.har", traffic.known_secrets(), creator_version="0")
    assert started_of(path) == [STARTED + index for index in range(count)]


def test_the_checker_process_finds_what_the_in_process_checks_find() -> None:
    exchanges = [exchange(), exchange(answer=b'{"id": "user-alice", "n": 1.0}'),
                 exchange("/record-B0000000000000000000000Q/describe", b"not json", 200),
                 exchange("/system/whoami", b'{"error": {"type": "Nope", "message": "x"}}', 500)]
    found = {}
    for in_child in (False, True):
        traffic = Traffic(Monitor(load_spec()), checker_process=in_child)
        for index, item in enumerate(exchanges * 3):
            traffic.submit(item, STARTED + index)
        traffic.close()
        found[in_child] = (sorted((r["id"], r["outcome"], r["message"]) for r in traffic.results()),
                           dict(traffic.counts()))
    assert found[True] == found[False]
    assert any(outcome == "failed" for _, outcome, _ in found[True][0]) and found[True][1]["api"] == 12


def test_upstream_calls_reuse_their_threads_and_a_slow_one_holds_up_no_other() -> None:
    workers = DaemonWorkers()
    before = threading.active_count()
    for _ in range(50):
        done = threading.Event()
        workers.submit(done.set)
        assert done.wait(5)
        deadline = time.monotonic() + 5
        while workers._idle == 0 and time.monotonic() < deadline:   # the worker is idle again
            time.sleep(0.001)
    assert threading.active_count() - before == 1
    release, quick = threading.Event(), threading.Event()
    workers.submit(lambda: release.wait(10))     # a slow upstream
    workers.submit(quick.set)
    assert quick.wait(5), "a call waited for another's slow upstream"
    release.set()


def test_a_lost_checker_process_is_said_and_the_proxy_checks_the_rest_itself() -> None:
    traffic = Traffic(Monitor(load_spec()), checker_process=True)
    traffic.submit(exchange(), STARTED)
    traffic._checker._process.kill()                  # the child dies (killed, out of memory)
    traffic._checker._process.join(5)
    later = exchange("/system/whoami", b'{"error": {"type": "Nope", "message": "x"}}', 500)
    for index in range(1, 4):
        traffic.submit(later, STARTED + index)
    traffic.close()                                   # no exception: the loss is recorded
    assert traffic.checker_lost and "checker process" in traffic.checker_lost
    results = traffic.results()
    assert any(r["outcome"] == "failed" for r in results)    # the later exchanges were checked in process
    assert traffic.counts()["api"] >= 3
