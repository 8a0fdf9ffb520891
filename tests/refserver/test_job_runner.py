"""The job runner (conformance/refserver/job_runner.py): shepherds started, bounded, terminated, stopped, reaped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.refserver.job_process import start_time
from conformance.refserver.job_runner import SHEPHERD_MODULE, JobRunner, NoFreeSlot, kill_shepherd, reap
from conformance.refserver.limits import JobLimits

from .job_support import JOB_ENV, alive, processes_with, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shepherds need Linux /proc")

TEST_LIMITS = JobLimits(cpu_seconds=60, memory_bytes=0, wall_seconds=60, log_bytes=1024 * 1024)


class Finished:
    """on_finished for the tests: records each call, and what the runner said at that moment."""

    def __init__(self) -> None:
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.slots_at_call: dict[str, int] = {}
        self.runner: JobRunner | None = None
        self.done = threading.Condition()

    def __call__(self, job_id: str, outcome: dict[str, Any]) -> None:
        assert self.runner is not None
        self.slots_at_call[job_id] = self.runner.free_slots()
        with self.done:
            self.calls.append(job_id)
            self.outcomes[job_id] = outcome
            self.done.notify_all()

    def wait(self, job_id: str, timeout: float = 15.0) -> dict[str, Any]:
        with self.done:
            assert self.done.wait_for(lambda: job_id in self.outcomes, timeout), f"{job_id} did not finish"
            return self.outcomes[job_id]


@pytest.fixture()
def finished() -> Finished:
    return Finished()


@pytest.fixture()
def make_runner(finished: Finished, marker: str) -> Iterator[Any]:
    """Runners stopped at the end of the test, before `marker` checks that nothing is left."""
    runners: list[JobRunner] = []

    def make(max_concurrent: int = 4, limits: JobLimits = TEST_LIMITS) -> JobRunner:
        runner = JobRunner(limits, max_concurrent, finished)
        finished.runner = runner
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop(5)


def run(runner: JobRunner, tmp_path: Path, job_id: str, script: str) -> None:
    runner.start(job_id, ["bash", "-c", script], str(tmp_path), JOB_ENV, str(tmp_path / f"{job_id}.log"))


def test_outcomes_reach_on_finished_once_with_the_slot_free(make_runner, finished, tmp_path):
    runner = make_runner(max_concurrent=2)
    run(runner, tmp_path, "job-a", "echo hello; exit 7")
    run(runner, tmp_path, "job-b", "kill -KILL $$")
    a, b = finished.wait("job-a"), finished.wait("job-b")
    assert (a["exit_code"], a["signal"], a["reason"]) == (7, None, None)
    assert (b["exit_code"], b["signal"], b["reason"]) == (None, signal.SIGKILL, None)
    assert set(a) >= {"cpu_seconds", "max_rss_kb", "log_truncated"}
    assert sorted(finished.calls) == ["job-a", "job-b"]
    assert finished.slots_at_call["job-a"] >= 1 and finished.slots_at_call["job-b"] >= 1
    assert runner.running() == set() and runner.free_slots() == 2
    assert [json.loads(line)["line"] for line in (tmp_path / "job-a.log").read_text().splitlines()] == ["hello"]


def test_a_failing_on_finished_does_not_break_the_runner(tmp_path, caplog):
    calls = []

    def on_finished(job_id: str, outcome: dict[str, Any]) -> None:
        calls.append(job_id)
        raise RuntimeError("callback bug")

    runner = JobRunner(TEST_LIMITS, 1, on_finished)
    try:
        for job_id in ("job-1", "job-2"):  # one slot: job-2 starts only if job-1's slot was freed
            run(runner, tmp_path, job_id, "true")
            wait_for(lambda: f"job {job_id}: on_finished failed" in caplog.text, what=f"{job_id}")  # noqa: B023
        assert calls == ["job-1", "job-2"]
    finally:
        runner.stop(5)


def test_max_concurrent_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        JobRunner(TEST_LIMITS, 0, lambda job_id, outcome: None)


def test_limits_are_handed_to_the_shepherd(make_runner, finished, tmp_path, marker):
    runner = make_runner(limits=JobLimits(cpu_seconds=0, memory_bytes=0, wall_seconds=0.5, log_bytes=0))
    run(runner, tmp_path, "job-w", f"sleep {marker}")
    assert finished.wait("job-w")["reason"] == "wall-limit"
    # a job's own limits replace the runner's (runSpec.timeoutPolicy)
    runner.start("job-own", ["bash", "-c", "sleep 1; exit 4"], str(tmp_path), JOB_ENV, str(tmp_path / "own.log"),
                 JobLimits(cpu_seconds=0, memory_bytes=0, wall_seconds=5, log_bytes=0))
    assert finished.wait("job-own")["exit_code"] == 4


def test_concurrency_is_bounded(make_runner, finished, tmp_path, marker):
    runner = make_runner(max_concurrent=2)
    run(runner, tmp_path, "job-1", f"sleep {marker}")
    run(runner, tmp_path, "job-2", f"sleep {marker}")
    assert runner.free_slots() == 0 and runner.running() == {"job-1", "job-2"}
    with pytest.raises(NoFreeSlot):
        run(runner, tmp_path, "job-3", f"sleep {marker}")
    with pytest.raises(ValueError, match="already running"):
        runner.start("job-1", ["true"], str(tmp_path), JOB_ENV, str(tmp_path / "x.log"))
    assert runner.terminate("job-1") is True
    assert finished.wait("job-1")["reason"] == "terminated"
    assert finished.slots_at_call["job-1"] == 1  # free by the time on_finished runs: it may start the next
    run(runner, tmp_path, "job-3", "true")
    assert finished.wait("job-3")["exit_code"] == 0
    assert runner.terminate("job-unknown") is False


def test_terminate_kills_the_whole_tree(make_runner, finished, tmp_path, marker):
    runner = make_runner()
    run(runner, tmp_path, "job-t", f"setsid sh -c 'sleep {marker} &'; sleep {marker} & wait")
    wait_for(lambda: len(processes_with(marker)) >= 3, what="the job's processes")
    runner.terminate("job-t")
    assert finished.wait("job-t")["reason"] == "terminated"
    assert processes_with(marker) == []


def test_no_shepherd_holds_another_jobs_pipes(make_runner, finished, tmp_path, marker):
    runner = make_runner()
    run(runner, tmp_path, "job-1", f"sleep {marker}")
    run(runner, tmp_path, "job-2", f"sleep {marker}")
    wait_for(lambda: len(processes_with(marker)) >= 2, what="both jobs")
    shepherds = {job_id: pid for job_id, (pid, _) in runner.pids().items()}

    def pipes_of(pid: int) -> set[str]:
        found = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("pipe:"):
                found.add(target)
        return found

    holders: dict[str, set[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and alive(int(name)):
            try:
                for pipe in pipes_of(int(name)):
                    holders.setdefault(pipe, set()).add(int(name))
            except OSError:
                continue
    for job_id, pid in shepherds.items():
        for pipe in pipes_of(pid) & pipes_of(os.getpid()):  # the shepherd's stdin and stdout
            assert holders[pipe] == {os.getpid(), pid}, f"{pipe} of {job_id}'s shepherd is held elsewhere"
    # and the functional consequence: one shepherd's EOF comes while the other job still runs
    runner.terminate("job-1")
    assert finished.wait("job-1")["reason"] == "terminated"
    assert runner.running() == {"job-2"}


def test_stop_terminates_everything_and_leaves_no_process(make_runner, finished, tmp_path, marker):
    runner = make_runner()
    for job_id in ("job-1", "job-2"):
        run(runner, tmp_path, job_id, f"setsid sleep {marker} & sleep {marker} & wait")
    wait_for(lambda: len(processes_with(marker)) >= 6, what="the jobs' processes")
    shepherd_pids = [pid for pid, _ in runner.pids().values()]
    runner.stop(10)
    assert {job: finished.outcomes[job]["reason"] for job in finished.outcomes} == {
        "job-1": "terminated", "job-2": "terminated"}
    assert processes_with(marker) == [] and not any(alive(pid) for pid in shepherd_pids)
    assert runner.running() == set()
    with pytest.raises(RuntimeError, match="stopped"):
        run(runner, tmp_path, "job-3", "true")


def test_stop_kills_a_shepherd_that_does_not_answer(make_runner, finished, tmp_path, marker):
    runner = make_runner()
    run(runner, tmp_path, "job-1", f"setsid sleep {marker} & sleep {marker} & wait")
    wait_for(lambda: len(processes_with(marker)) >= 3, what="the job's processes")
    ((shepherd_pid, _),) = runner.pids().values()
    os.kill(shepherd_pid, signal.SIGSTOP)  # deaf to "terminate"
    runner.stop(0.5)
    assert finished.outcomes["job-1"]["reason"] == "shepherd-lost"
    assert processes_with(marker) == [] and not alive(shepherd_pid)


def test_a_shepherd_dying_without_a_report_gives_shepherd_lost(make_runner, finished, tmp_path, marker):
    runner = make_runner()
    run(runner, tmp_path, "job-1", f"sleep {marker} & sleep {marker}")
    wait_for(lambda: len(processes_with(marker)) >= 3, what="the job's processes")
    ((shepherd_pid, _),) = runner.pids().values()
    os.kill(shepherd_pid, signal.SIGKILL)
    outcome = finished.wait("job-1")
    assert outcome["reason"] == "shepherd-lost" and "without a report" in outcome["error"]
    assert outcome["exit_code"] is None and outcome["log_truncated"] is False
    wait_for(lambda: processes_with(marker) == [], what="the job's process group to die")


OWNER = textwrap.dedent("""
    import json, sys, time
    from conformance.refserver.job_runner import JobRunner
    from conformance.refserver.limits import JobLimits
    marker, cwd = sys.argv[1], sys.argv[2]
    runner = JobRunner(JobLimits(), 2, lambda job_id, outcome: None)
    script = f"setsid sh -c 'sleep {marker} &'; sleep {marker} & sleep {marker}"
    runner.start("job-1", ["bash", "-c", script], cwd, {"PATH": "/usr/bin:/bin"}, cwd + "/job.log")
    print(json.dumps(runner.pids()), flush=True)
    time.sleep(300)
""")


def test_kill_9_of_the_server_leaves_no_process_of_the_job(tmp_path, marker):
    owner = subprocess.Popen([sys.executable, "-c", OWNER, marker, str(tmp_path)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert owner.stdout is not None
        ((shepherd_pid, _),) = json.loads(owner.stdout.readline()).values()
        # the owner (its command line has the marker too), bash or the sleep it exec'd, the other two sleeps
        wait_for(lambda: len(processes_with(marker)) >= 4, what="the job's processes")
        owner.kill()
        owner.wait()
        wait_for(lambda: processes_with(marker) == [] and not alive(shepherd_pid), timeout=5,
                 what="the job's processes and its shepherd to go")
    finally:
        owner.kill()
        owner.wait()
        assert owner.stdout is not None
        owner.stdout.close()


def spawn_leftover_shepherd(tmp_path: Path, marker: str) -> subprocess.Popen:
    """A shepherd as an earlier server run would have left it: alive, its job running."""
    proc = subprocess.Popen([sys.executable, "-m", SHEPHERD_MODULE], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    request = {"argv": ["bash", "-c", f"setsid sh -c 'sleep {marker} &'; sleep {marker}"], "cwd": str(tmp_path),
               "env": JOB_ENV, "log_path": str(tmp_path / "leftover.log"),
               "limits": {"cpu_seconds": 0, "memory_bytes": 0, "wall_seconds": 0, "log_bytes": 0}}
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(request).encode() + b"\n")
    proc.stdin.flush()
    return proc


def test_reap_kills_a_leftover_shepherd_and_spares_a_reused_pid(tmp_path, marker):
    proc = spawn_leftover_shepherd(tmp_path, marker)
    decoy = subprocess.Popen(["sleep", f"{marker}1"])  # a live pid with its right start time, not a shepherd
    try:
        wait_for(lambda: len(processes_with(marker)) >= 3, what="the leftover job")  # 2 sleeps + the decoy
        recorded = start_time(proc.pid)
        assert recorded is not None
        assert reap([(proc.pid, recorded + 1)]) == []  # another process since: spared
        assert reap([(decoy.pid, start_time(decoy.pid))]) == []  # not a shepherd: spared
        assert alive(proc.pid) and len(processes_with(marker)) >= 3
        assert reap([(proc.pid, str(recorded))]) == [proc.pid]  # start times may come back from the store as text
        proc.wait(10)
        wait_for(lambda: processes_with(marker) == [decoy.pid], timeout=5, what="the leftover job to go")
        assert reap([(proc.pid, recorded)]) == []  # gone
    finally:
        kill_shepherd(proc.pid)
        proc.kill()
        decoy.kill()
        proc.wait()
        decoy.wait()
        assert proc.stdin is not None
        proc.stdin.close()
