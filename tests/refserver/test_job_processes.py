"""No job process outlives the reference server: stopped in process, killed with -9, restarted on its --db.

Each job sleeps with a unique duration (job_support.new_marker) that finds its processes through /proc; every
test kills what still carries its marker, and the serve processes it started, however it ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.server import RefServer

from ..serve_process import serving
from .job_support import alive, kill_marked, new_marker, parent_of, processes_with, wait_for

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs need Linux /proc")]

ALICE = {"Authorization": "Bearer alice-token", "Content-Type": "application/json"}
TERMINAL = ("done", "failed", "terminated")


def call(url: str, path: str, body: dict | None = None) -> Any:
    answer = requests.post(url + path, data=json.dumps(body or {}), headers=ALICE, timeout=30)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer.json()


def run_bash(url: str, code: str, runs: int = 1) -> list[str]:
    """A new project and bash applet with `code`, run `runs` times: the job IDs."""
    project = call(url, "/project/new", {"name": "processes"})["id"]
    applet = call(url, "/applet/new", {"project": project, "dxapi": "1.0.0", "name": "sleeper",
                                       "runSpec": {"interpreter": "bash", "code": code}})["id"]
    return [call(url, f"/{applet}/run", {"project": project, "input": {}})["id"] for _ in range(runs)]


def describe(url: str, job: str) -> dict[str, Any]:
    return call(url, f"/{job}/describe")


def ended(url: str, job: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        desc = describe(url, job)
        return desc if desc["state"] in TERMINAL else None

    return wait_for(final, what=f"{job} to end")


def lineage(pid: int, below: int) -> set[int]:
    """`pid` and its ancestors up to (not including) `below`: a job process, its launcher, its shepherd."""
    found = set()
    while pid not in (below, 0, 1):
        found.add(pid)
        pid = parent_of(pid)
    return found


@contextmanager
def marked() -> Iterator[str]:
    """A fresh marker; whatever still carries it afterwards is killed (the test has failed then)."""
    marker = new_marker()
    try:
        yield marker
    finally:
        kill_marked(marker)


def test_stopping_the_server_leaves_no_job_process():
    """Two jobs running (each with a child that left its process group) and one waiting for a slot: stop()
    returns with none of their processes left."""
    settings = Settings(users=dict(FIXED_TOKENS), max_jobs=2)
    with marked() as marker:
        with RefServer(settings=settings) as srv:
            jobs = run_bash(srv.url, f"main() {{\n  (setsid sleep {marker} &)\n  sleep {marker}\n}}\n", runs=3)
            sleeps = wait_for(lambda: len(found := processes_with(marker)) == 4 and found,
                              what="two jobs with two sleeps each")
            job_processes = set().union(*(lineage(pid, os.getpid()) for pid in sleeps))
            assert len(job_processes) >= 4 + 2 + 2, job_processes  # 4 sleeps, 2 launchers, 2 shepherds
            states = sorted(describe(srv.url, job)["state"] for job in jobs)
            assert states == ["runnable", "running", "running"]
        assert [pid for pid in job_processes if alive(pid)] == []
        assert processes_with(marker) == []


def test_kill_9_of_serve_ends_its_jobs_and_a_restart_fails_them(tmp_path):
    db = str(tmp_path / "jobs.db")
    with marked() as marker:
        with serving("--db", db, "--fixed-tokens") as first:
            assert any("not a sandbox" in line for line in first.banner), first.banner
            [job] = run_bash(first.url, f"main() {{\n  sleep {marker}\n}}\n")
            [sleep] = wait_for(lambda: processes_with(marker), what="the job's sleep")
            job_processes = lineage(sleep, first.proc.pid)  # the sleep, its launcher, its shepherd
            assert len(job_processes) >= 3, job_processes
            assert describe(first.url, job)["state"] == "running"
            first.kill9()
            wait_for(lambda: not any(alive(pid) for pid in job_processes), timeout=5,
                     what="the job's processes to end after kill -9 of the server")
            assert processes_with(marker) == []
        with serving("--db", db, "--fixed-tokens") as second:
            desc = describe(second.url, job)
            assert (desc["state"], desc["failureReason"]) == ("failed", "UnresponsiveWorker"), desc
            assert desc["stoppedRunning"] >= desc["startedRunning"]
            assert processes_with(marker) == []


def test_sigterm_of_serve_leaves_no_job_process():
    with marked() as marker, serving("--fixed-tokens") as server:
        run_bash(server.url, f"main() {{\n  sleep {marker}\n}}\n")
        [sleep] = wait_for(lambda: processes_with(marker), what="the job's sleep")
        job_processes = lineage(sleep, server.proc.pid)
        server.proc.terminate()
        # uvicorn re-raises the SIGTERM it handled once it has shut down: the exit is by that signal.
        assert server.proc.wait(timeout=15) in (0, -signal.SIGTERM)
        wait_for(lambda: not any(alive(pid) for pid in job_processes), timeout=5,
                 what="the job's processes to end with the server")
        assert processes_with(marker) == []


def test_serve_on_a_non_loopback_host_with_jobs_is_refused():
    done = subprocess.run([sys.executable, "-m", "conformance.cli.main", "serve", "--host", "0.0.0.0", "--port", "0"],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "--no-jobs" in done.stderr and "--allow-remote-jobs" in done.stderr, done.stderr
    assert "listening" not in done.stdout


def test_serve_without_jobs_fails_them_with_execution_error():
    with marked() as marker, serving("--no-jobs", "--fixed-tokens") as server:
        assert any(line.startswith("jobs: off") for line in server.banner), server.banner
        [job] = run_bash(server.url, f"main() {{\n  sleep {marker}\n}}\n")
        desc = ended(server.url, job)
        assert (desc["state"], desc["failureReason"]) == ("failed", "ExecutionError"), desc
        assert "--no-jobs" in desc["failureMessage"]
        assert "startedRunning" not in desc
        assert processes_with(marker) == []
