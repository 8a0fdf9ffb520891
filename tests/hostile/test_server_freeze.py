"""One expensive request must not freeze the reference server: name filters in linear time, a time budget per
request, other users answered meanwhile, and SIGTERM obeyed whatever a handler is doing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.refserver import budget
from conformance.refserver.db import Database
from conformance.refserver.limits import ServerLimits
from conformance.refserver.server import RefServer, free_port

from .hardened_server import call, error_of, ok, settings

LONG = "a" * 3000          # the glob recipe's name
SHORT = "a" * 27 + "!"     # the regexp recipes' 28-character name
MATCHING = "aaaaab"


@pytest.fixture(scope="module")
def server() -> Iterator[RefServer]:
    with RefServer(settings=settings()) as srv:
        yield srv


@pytest.fixture(scope="module")
def bob_records(server: RefServer) -> tuple[str, dict[str, str]]:
    """bob's project with records named LONG, SHORT and MATCHING: (project, name -> record ID)."""
    project = ok(server.url, "/project/new", {"name": "bob's"}, "bob")["id"]
    ids = {name: ok(server.url, "/record/new", {"project": project, "name": name}, "bob")["id"]
           for name in (LONG, SHORT, MATCHING)}
    return project, ids


@pytest.mark.parametrize(("name_filter", "expected"), [
    ({"glob": "*a*a*a*a*a*b"}, {MATCHING}),
    ({"regexp": "^(a|a)+$"}, {LONG}),
    ({"regexp": "^((a+))+$"}, {LONG}),
    ({"regexp": "^(a+|b)+$"}, {LONG, MATCHING}),
])
def test_freeze_recipe_answers_fast_and_alice_is_served_meanwhile(server, bob_records, name_filter, expected):
    project, ids = bob_records
    search = {"scope": {"project": project}, "name": name_filter}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(call, server.url, "/system/findDataObjects", search, "bob")
        time.sleep(0.01)
        whoami, whoami_seconds = call(server.url, "/system/whoami", {}, "alice")
        answer, seconds = pending.result()
    assert answer.status_code == 200, answer.text[:300]
    assert {r["id"] for r in answer.json()["results"]} == {ids[name] for name in expected}
    assert seconds < 2
    assert whoami.status_code == 200 and whoami.json()["id"] == "user-alice"
    assert whoami_seconds < 0.2


def test_a_request_past_its_time_budget_is_refused_naming_the_budget():
    with RefServer(settings=settings(), limits=ServerLimits(request_seconds=0.3)) as srv:
        project = ok(srv.url, "/project/new", {"name": "slow"}, "bob")["id"]
        for _ in range(3):
            ok(srv.url, "/record/new", {"project": project, "name": "a" * 40 + "b"}, "bob")
        # Lookaround: only the backtracking fallback engine runs it, and this one backtracks exponentially.
        search = {"scope": {"project": project}, "name": {"regexp": r"^(a|a)+(?=c)\1$"}}
        answer, seconds = call(srv.url, "/system/findDataObjects", search, "bob")
        error = error_of(answer)
        assert answer.status_code == 422 and error["type"] == "InvalidInput"
        assert "time budget of 0.3 s" in error["message"]
        assert seconds < 2
        # The server is fine afterwards.
        assert ok(srv.url, "/system/whoami", {}, "alice")["id"] == "user-alice"


ENDLESS_SQL = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"


def replace_handler(srv: RefServer, route: str, handler) -> None:
    spec = srv.app.routes[route]
    srv.app.routes[route] = type(spec)(spec.route, handler)


def test_a_write_past_its_time_budget_is_rolled_back():
    with RefServer(settings=settings(), limits=ServerLimits(request_seconds=0.3)) as srv:
        def write_then_spin(ctx, inp):
            ctx.conn.execute("INSERT INTO counters(name, value) VALUES ('half-done', 1)")
            return ctx.conn.execute(ENDLESS_SQL).fetchone()[0]

        replace_handler(srv, "/system/whoami", write_then_spin)
        answer, seconds = call(srv.url, "/system/whoami", {}, "alice")
        assert answer.status_code == 422 and "time budget of 0.3 s" in error_of(answer)["message"]
        assert seconds < 2
        assert srv.app.db.conn.execute("SELECT 1 FROM counters WHERE name = 'half-done'").fetchone() is None
        assert ok(srv.url, "/project/new", {"name": "after"}, "bob")["id"].startswith("project-")


def test_sqlite_statements_stop_when_the_budget_runs_out():
    db = Database()
    own = budget.Budget()
    db.interrupt_when(own.expired)
    started = time.monotonic()
    with own.running(0.2), pytest.raises(Exception, match="interrupted"):
        db.conn.execute(ENDLESS_SQL).fetchone()
    assert time.monotonic() - started < 2
    assert db.conn.execute("SELECT 1").fetchone()[0] == 1  # outside a budget nothing is interrupted
    db.close()


def test_stopping_the_embedded_server_ends_a_running_request():
    srv = RefServer(settings=settings()).start()
    release = threading.Event()

    def endless(ctx, inp):  # an SQL statement that never ends by itself
        release.set()
        return ctx.conn.execute(ENDLESS_SQL).fetchone()[0]

    replace_handler(srv, "/system/whoami", endless)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: call(srv.url, "/system/whoami", {}, timeout=30))
        assert release.wait(10)
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 5


SERVE_WITH_SPIN = textwrap.dedent("""
    import sys
    from conformance.refserver.context import Settings
    from conformance.refserver.handlers import route
    from conformance.refserver.server import serve_forever

    @route("/system/spinPython")
    def spin_python(ctx, inp):  # never looks at its budget
        while True:
            pass

    @route("/system/spinSQL")
    def spin_sql(ctx, inp):
        return ctx.conn.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
                                "SELECT count(*) FROM n").fetchone()[0]

    serve_forever("127.0.0.1", int(sys.argv[1]), None, Settings(users={"alice": "alice-token"}))
""")


@pytest.mark.parametrize("spin", ["/system/spinPython", "/system/spinSQL"])
def test_sigterm_stops_serve_within_seconds_with_a_request_in_flight(spin):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVE_WITH_SPIN, str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 20
        while "listening on" not in (proc.stdout.readline() or ""):
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
        with ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: call(f"http://127.0.0.1:{port}", spin, {}, timeout=15))
            time.sleep(0.5)
            assert proc.poll() is None
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=8)
            assert time.monotonic() - started < 5
            # Ending the request's connection ends the pool's call at once.
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()
