"""The job shepherd (conformance/refserver/job_process.py), run as its own process: outcomes, log, kills."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.refserver.job_process import LINE_BYTES
from conformance.refserver.job_runner import SHEPHERD_MODULE, kill_shepherd

from .job_support import JOB_ENV, alive, parent_of, processes_with, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shepherd needs Linux /proc")

NO_LIMITS = {"cpu_seconds": 0, "memory_bytes": 0, "wall_seconds": 0, "log_bytes": 0}


class Shepherd:
    """One shepherd process driven as the runner does: a request line on stdin, JSON lines on stdout."""

    def __init__(self, request: dict[str, Any] | bytes):
        self.proc = subprocess.Popen([sys.executable, "-m", SHEPHERD_MODULE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, start_new_session=True)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.send(request if isinstance(request, bytes) else json.dumps(request).encode() + b"\n")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.messages.put(json.loads(line))
        self.messages.put(None)

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def next_message(self, timeout: float = 15.0) -> dict[str, Any] | None:
        return self.messages.get(timeout=timeout)

    def started(self) -> int:
        message = self.next_message()
        assert message is not None and "started" in message, message
        return message["started"]["pid"]

    def outcome(self, timeout: float = 15.0) -> dict[str, Any]:
        while True:
            message = self.next_message(timeout)
            assert message is not None, "the shepherd ended without an outcome"
            if "exit_code" in message:
                assert self.proc.wait(timeout) == 0
                return message


@pytest.fixture()
def spawn(tmp_path: Path) -> Iterator[Any]:
    """spawn(argv, **limits) -> a Shepherd running argv in tmp_path with log tmp_path/log.jsonl."""
    started: list[Shepherd] = []

    def spawn_one(argv: list[str], env: dict[str, str] | None = None, **limits: float) -> Shepherd:
        request = {"argv": argv, "cwd": str(tmp_path), "env": env or JOB_ENV,
                   "log_path": str(tmp_path / "log.jsonl"), "limits": {**NO_LIMITS, **limits}}
        shepherd = Shepherd(request)
        started.append(shepherd)
        return shepherd

    yield spawn_one
    for shepherd in started:
        if shepherd.proc.poll() is None:
            kill_shepherd(shepherd.proc.pid)
            shepherd.proc.kill()
        shepherd.proc.wait(10)
        for stream in (shepherd.proc.stdin, shepherd.proc.stdout):
            assert stream is not None
            stream.close()


def log_records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]


def test_exit_code_is_reported(spawn):
    outcome = spawn(["bash", "-c", "exit 3"]).outcome()
    assert outcome["exit_code"] == 3 and outcome["signal"] is None and outcome["reason"] is None
    assert outcome["log_truncated"] is False
    assert spawn(["true"]).outcome()["exit_code"] == 0


def test_death_by_signal_is_reported_without_a_reason(spawn):
    outcome = spawn(["bash", "-c", "kill -TERM $$"], cpu_seconds=100, memory_bytes=2**33).outcome()
    assert (outcome["exit_code"], outcome["signal"], outcome["reason"]) == (None, signal.SIGTERM, None)


def test_command_gets_its_cwd_and_only_its_env(spawn, tmp_path):
    outcome = spawn(["bash", "-c", 'echo "$PWD|$JOB_VALUE|${HOME-unset}"; read x; echo "stdin: $?"'],
                    env={**JOB_ENV, "JOB_VALUE": "v1"}).outcome()
    assert outcome["exit_code"] == 0
    assert [r["line"] for r in log_records(tmp_path)] == [f"{tmp_path}|v1|unset", "stdin: 1"]


def test_log_lines_have_their_fd_and_a_timestamp(spawn, tmp_path):
    before = time.time() * 1000
    outcome = spawn(["bash", "-c", "echo out1; echo err1 >&2; sleep 0.05; echo out2; echo; printf 'last\\r\\n';"
                     "printf 'no newline' >&2"]).outcome()
    after = time.time() * 1000
    assert outcome["exit_code"] == 0
    records = log_records(tmp_path)
    assert [(r["fd"], r["line"]) for r in records if r["fd"] == "stdout"] == [
        ("stdout", "out1"), ("stdout", "out2"), ("stdout", ""), ("stdout", "last")]
    assert [(r["fd"], r["line"]) for r in records if r["fd"] == "stderr"] == [
        ("stderr", "err1"), ("stderr", "no newline")]
    assert all(isinstance(r["t"], int) and before <= r["t"] <= after for r in records)
    assert set(records[0]) == {"t", "fd", "line"}
    times = [r["t"] for r in records if r["fd"] == "stdout"]
    assert times == sorted(times) and times[1] - times[0] >= 40


def test_long_lines_are_split_without_breaking_utf8_and_bad_bytes_replaced(spawn, tmp_path):
    code = ("import sys; sys.stdout.buffer.write(b'a' + 'é'.encode() * " + str(LINE_BYTES) + " + b'\\n'"
            " + b'bad \\xff byte\\n')")
    assert spawn(["python3", "-c", code]).outcome()["exit_code"] == 0
    lines = [r["line"] for r in log_records(tmp_path)]
    assert len(lines) == 4  # 1 + 2 * LINE_BYTES bytes: three pieces, then the bad line
    assert "".join(lines[:3]) == "a" + "é" * LINE_BYTES
    assert all(len(line.encode()) <= LINE_BYTES for line in lines[:3])
    assert lines[3] == "bad \ufffd byte"


def test_log_stops_at_its_cap_while_the_pipes_are_drained(spawn, tmp_path):
    # 1.3 MB of output: were the pipes not drained after the cap, seq would block until the wall limit.
    outcome = spawn(["bash", "-c", "seq 200000; echo tail >&2"], log_bytes=2000, wall_seconds=20).outcome()
    assert (outcome["exit_code"], outcome["reason"], outcome["log_truncated"]) == (0, None, True)
    log_bytes = (tmp_path / "log.jsonl").read_bytes()
    records = log_records(tmp_path)
    assert records[-1]["fd"] == "system" and records[-1]["line"] == "log truncated at 2000 bytes"
    assert len(log_bytes) - len(log_bytes.splitlines(keepends=True)[-1]) <= 2000
    assert [r["line"] for r in records[:3]] == ["1", "2", "3"]
    assert len(records) > 10 and not any(r["line"] == "tail" for r in records)


def test_terminate_kills_the_tree_including_a_setsid_double_forked_grandchild(spawn, marker):
    shepherd = spawn(["bash", "-c", f"setsid sh -c 'sleep {marker} &'; sleep {marker} & wait"])
    job_pid = shepherd.started()
    sleeps = wait_for(lambda: [p for p in processes_with(marker) if Path(f"/proc/{p}/comm").read_text()
                               == "sleep\n"] if len(processes_with(marker)) >= 3 else [], what="the sleeps")
    assert len(sleeps) == 2
    escaped = next(p for p in sleeps if os.getsid(p) != job_pid)  # left the job's session and group
    assert parent_of(escaped) == shepherd.proc.pid  # orphaned, it went to the shepherd (the subreaper)
    shepherd.send(b"terminate\n")
    outcome = shepherd.outcome()
    assert (outcome["exit_code"], outcome["signal"], outcome["reason"]) == (None, signal.SIGKILL, "terminated")
    assert processes_with(marker) == []  # gone by the time the outcome is written


def test_many_processes_in_sessions_of_their_own_are_all_killed(spawn, marker):
    shepherd = spawn(["bash", "-c", f"for i in $(seq 100); do setsid sleep {marker} & done; wait"])
    shepherd.started()
    wait_for(lambda: len(processes_with(marker)) >= 100, what="the sleeps")
    shepherd.send(b"terminate\n")
    assert shepherd.outcome()["reason"] == "terminated"
    assert processes_with(marker) == []


def test_terminate_sent_with_the_request_is_acted_on(tmp_path, marker):
    request = {"argv": ["sleep", marker], "cwd": str(tmp_path), "env": JOB_ENV,
               "log_path": str(tmp_path / "log.jsonl"), "limits": NO_LIMITS}
    shepherd = Shepherd(json.dumps(request).encode() + b"\nterminate\n")
    try:
        assert shepherd.outcome()["reason"] == "terminated"
    finally:
        shepherd.proc.kill()
        shepherd.proc.wait()
    assert processes_with(marker) == []


def test_main_process_ending_takes_its_leftovers_with_it(spawn, marker):
    start = time.monotonic()
    outcome = spawn(["bash", "-c", f"sleep {marker} & setsid sleep {marker} & echo done"]).outcome()
    assert (outcome["exit_code"], outcome["reason"]) == (0, None)
    assert time.monotonic() - start < 10  # the background sleeps hold stdout: they were killed, not waited for
    assert processes_with(marker) == []


def test_stdin_eof_means_the_server_is_gone(spawn, marker):
    shepherd = spawn(["bash", "-c", f"sleep {marker} & setsid sleep {marker} & wait"])
    shepherd.started()
    wait_for(lambda: len(processes_with(marker)) >= 3, what="the sleeps")
    assert shepherd.proc.stdin is not None
    shepherd.proc.stdin.close()
    outcome = shepherd.outcome()
    assert outcome["reason"] == "server-gone" and outcome["signal"] == signal.SIGKILL
    assert processes_with(marker) == []


def test_sigterm_to_the_shepherd_still_kills_the_tree_and_reports(spawn, marker):
    shepherd = spawn(["bash", "-c", f"setsid sleep {marker} & sleep {marker}"])
    shepherd.started()
    wait_for(lambda: len(processes_with(marker)) >= 3, what="the sleeps")
    shepherd.proc.send_signal(signal.SIGTERM)
    outcome = shepherd.outcome()
    assert (outcome["signal"], outcome["reason"]) == (signal.SIGKILL, "terminated")
    assert processes_with(marker) == []


def test_wall_limit_kills_the_tree(spawn, marker):
    start = time.monotonic()
    outcome = spawn(["bash", "-c", f"setsid sleep {marker} & sleep {marker}"], wall_seconds=1).outcome()
    assert (outcome["signal"], outcome["reason"]) == (signal.SIGKILL, "wall-limit")
    assert 0.9 < time.monotonic() - start < 10
    assert processes_with(marker) == []


def test_cpu_limit_kills_a_busy_loop(spawn):
    outcome = spawn(["python3", "-c", "while True: pass"], cpu_seconds=1, wall_seconds=20).outcome()
    assert (outcome["exit_code"], outcome["signal"], outcome["reason"]) == (None, signal.SIGXCPU, "cpu-limit")
    assert 0.5 <= outcome["cpu_seconds"] < 3  # rusage and RLIMIT_CPU count ticks a little differently


def test_cpu_limit_of_a_shell_child_is_recognised(spawn):
    # bash -e runs python3 as its child (a second command keeps it from exec'ing it) and exits 128 + SIGXCPU
    outcome = spawn(["bash", "-e", "-c", "python3 -c 'while True: pass'; echo never"], cpu_seconds=1,
                    wall_seconds=20).outcome()
    assert (outcome["exit_code"], outcome["reason"]) == (128 + signal.SIGXCPU, "cpu-limit")


def test_cpu_limit_of_a_process_ignoring_sigxcpu_is_recognised(spawn):
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass"
    outcome = spawn(["python3", "-c", code], cpu_seconds=1, wall_seconds=20).outcome()
    assert (outcome["signal"], outcome["reason"]) == (signal.SIGKILL, "cpu-limit")  # the hard limit, 1 s later


def test_cpu_limit_of_an_orphan_is_recognised_when_the_job_fails(spawn, tmp_path):
    # the subshell exits at once: python3 is re-parented to the shepherd, which sees it die of SIGXCPU
    script = ("(python3 -c 'while True: pass' & echo $! > busy.pid);"
              "while kill -0 $(cat busy.pid) 2>/dev/null; do sleep 0.05; done; exit 1")
    outcome = spawn(["bash", "-c", script], cpu_seconds=1, wall_seconds=20).outcome()
    assert (outcome["exit_code"], outcome["reason"]) == (1, "cpu-limit")


def test_memory_limit_is_guessed_from_a_failed_allocation(spawn, tmp_path):
    limit = 300 * 2**20  # the interpreter fits; the 1 GiB buffer does not (address space: nothing is touched)
    outcome = spawn(["python3", "-c", "b = bytearray(2**30)"], memory_bytes=limit).outcome()
    assert (outcome["exit_code"], outcome["reason"]) == (1, "memory-limit")
    assert log_records(tmp_path)[-1]["line"] == "MemoryError"
    # without a memory limit in force the same words are no guess
    outcome = spawn(["python3", "-c", "raise MemoryError"]).outcome()
    assert (outcome["exit_code"], outcome["reason"]) == (1, None)


def test_resource_figures_cover_the_tree(spawn):
    code = "b = bytearray(64 * 2**20); b[::4096] = b'x' * (len(b) // 4096)"
    outcome = spawn(["bash", "-c", f"python3 -c \"{code}\"; true"]).outcome()
    assert outcome["exit_code"] == 0
    assert outcome["max_rss_kb"] >= 60 * 1024
    assert isinstance(outcome["cpu_seconds"], float) and outcome["cpu_seconds"] > 0


def test_a_command_that_cannot_start_is_reported_and_logged(spawn, tmp_path):
    outcome = spawn(["/nonexistent/program"]).outcome()
    assert (outcome["exit_code"], outcome["signal"], outcome["reason"]) == (None, None, "start-failed")
    assert "/nonexistent/program" in outcome["error"]
    (record,) = log_records(tmp_path)
    assert record["fd"] == "system" and record["line"].startswith("cannot start the job's command")


@pytest.mark.parametrize(("request_line", "message"), [
    (b"not json\n", "not JSON"),
    (b"[]\n", "JSON object"),
    (b'{"argv": [], "cwd": "/", "env": {}, "log_path": "/tmp/x", "limits": {}}\n', "argv"),
    (b'{"argv": ["true"], "cwd": "/", "env": {"A": 1}, "log_path": "/tmp/x", "limits": {}}\n', "env"),
    (b'{"argv": ["true"], "cwd": "/", "env": {}, "log_path": "/tmp/x", "limits": {"wall_seconds": -1}}\n',
     "limits.wall_seconds"),
])
def test_a_bad_request_is_answered_with_an_error(request_line, message):
    shepherd = Shepherd(request_line)
    try:
        outcome = shepherd.outcome()
    finally:
        shepherd.proc.kill()
        shepherd.proc.wait()
    assert outcome["reason"] == "shepherd-error" and message in outcome["error"]


def test_an_unwritable_log_is_a_shepherd_error_and_nothing_runs(spawn, tmp_path, marker):
    request = {"argv": ["sleep", marker], "cwd": str(tmp_path), "env": JOB_ENV,
               "log_path": str(tmp_path / "missing" / "log.jsonl"), "limits": NO_LIMITS}
    shepherd = Shepherd(request)
    try:
        outcome = shepherd.outcome()
    finally:
        shepherd.proc.kill()
        shepherd.proc.wait()
    assert outcome["reason"] == "shepherd-error" and "log.jsonl" in outcome["error"]
    assert processes_with(marker) == []


def test_eof_before_the_request_ends_the_shepherd_quietly():
    proc = subprocess.Popen([sys.executable, "-m", SHEPHERD_MODULE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0 and out == b""
    assert not alive(proc.pid)
